// Token administration (scope `admin`): GET /api/tokens lists ids, users and scopes (never a
// token), POST /api/tokens issues one (the response is the only time it is shown),
// DELETE /api/tokens/:id revokes one at once.

import type { FastifyInstance } from 'fastify'
import { PortalError } from './api-reply.ts'
import { SCOPES, type ApiTokenStore, type Scope } from './api-tokens.ts'

export function registerTokenRoutes(app: FastifyInstance, tokens: ApiTokenStore): void {
  app.get('/tokens', { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'API tokens (ids, users, scopes; never the tokens)' } },
    async () => ({ items: tokens.list() }))
  app.post<{ Body: { user: string; scopes: Scope[] } }>('/tokens', {
    config: { scope: 'admin' },
    schema: {
      tags: ['tokens'], summary: 'Issue a token; the response is the only time it is shown',
      body: {
        type: 'object', additionalProperties: false, required: ['user', 'scopes'],
        properties: { user: { type: 'string', minLength: 1, maxLength: 253 }, scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } } },
      },
    },
  }, async (req, reply) => reply.code(201).send(await tokens.issue(req.body.user, req.body.scopes)))
  app.delete<{ Params: { id: string } }>('/tokens/:id', { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'Revoke a token' } }, async (req, reply) => {
    if (!(await tokens.revoke(req.params.id))) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no token with id "${req.params.id}"`)
    return reply.code(204).send()
  })
}
