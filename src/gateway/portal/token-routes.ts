// Token administration (scope `admin`): GET /api/tokens lists ids, users, scopes and namespaces
// (never a token), POST /api/tokens issues one (the response is the only time it is shown),
// DELETE /api/tokens/:id revokes one at once.
// A token issued with `namespaces` belongs to those tenants (tenancy.ts); before it is recorded,
// each namespace is made a tenant the gateway can serve (tenant-namespaces.ts): when that fails,
// no token is issued.

import type { FastifyPluginAsync } from 'fastify'
import { PortalError } from './api-reply.ts'
import { SCOPES, type ApiTokenStore, type Scope } from './api-tokens.ts'
import { translateApiError } from './server-writes.ts'
import { MAX_TOKEN_NAMESPACES, namespaceNameSchema } from './namespace-name.ts'
import type { TenantNamespaces } from './tenant-namespaces.ts'

export interface TokenRoutesOptions {
  tokens: ApiTokenStore
  /** Prepares the namespaces a token is issued for; absent: they are used as they are. */
  tenants?: TenantNamespaces
  /** The gateway's own namespace (its Secrets): never a tenant. */
  systemNamespace?: string
}

/** The routes above, as a fastify plugin the portal registers under its /api prefix. */
export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app, opts) => {
  const { tokens, tenants } = opts
  app.get(
    '/tokens',
    { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'API tokens (ids, users, scopes, namespaces; never the tokens)' } },
    async () => ({ items: tokens.list() }),
  )
  app.post<{ Body: { user: string; scopes: Scope[]; namespaces?: string[] } }>(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary:
          "Issue a token; the response is the only time it is shown. `namespaces` (home first): the tenants it reaches; none = the portal's namespace; an admin token reaches all",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['user', 'scopes'],
          properties: {
            user: { type: 'string', minLength: 1, maxLength: 253 },
            scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } },
            namespaces: { type: 'array', minItems: 1, maxItems: MAX_TOKEN_NAMESPACES, uniqueItems: true, items: namespaceNameSchema },
          },
        },
      },
    },
    async (req, reply) => {
      const namespaces = req.body.namespaces ?? []
      // Kubernetes' own namespaces and the gateway's are never a tenant: binding the gateway to read
      // Secrets there would hand a portal admin the cluster's or the gateway's keys.
      const reserved = namespaces.filter((n) => n.startsWith('kube-') || n === opts.systemNamespace)
      if (reserved.length > 0) {
        throw new PortalError(
          'ZLH_GW_API_INVALID',
          `namespaces: Invalid value: ${reserved.map((n) => `"${n}"`).join(', ')} cannot be a tenant (kube-* and the gateway's own namespace are reserved)`,
          {
            errors: reserved.map((n) => ({ field: 'body.namespaces', message: `namespaces: Invalid value: "${n}" is reserved` })),
          },
        )
      }
      if (namespaces.length > 0 && tenants) {
        try {
          await tenants.provision(namespaces)
        } catch (err) {
          throw translateApiError(err)
        }
      }
      return reply.code(201).send({ ...(await tokens.issue(req.body.user, req.body.scopes, namespaces)), namespaces })
    },
  )
  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'Revoke a token' } },
    async (req, reply) => {
      if (!(await tokens.revoke(req.params.id))) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no token with id "${req.params.id}"`)
      return reply.code(204).send()
    },
  )
}
