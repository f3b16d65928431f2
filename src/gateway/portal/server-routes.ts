// Game and dev server CRUD and status for the portal, in the caller's tenant namespaces
// (tenancy.ts: `?namespace=` picks one of the caller's, else its home namespace; lists show every
// namespace the caller holds; a server in a namespace the caller does not hold is a 404 exactly
// like a server that does not exist):
//   GET    /api/servers                   every server with its status view (each names its namespace)
//   GET    /api/servers/:name/status      status view (GameServer, else DevServer of that name)
//   GET    /api/{game,dev}                list        PUT  /api/{game,dev}/:name   create or change (apply)
//   POST   /api/{game,dev}                create only GET  /api/{game,dev}/:name   one
//   DELETE /api/{game,dev}/:name
// PUT is a server-side apply under `zlh-portal`; POST a plain create under the same manager (the
// API server's AlreadyExists answers a taken name: 409 ZLH_GW_API_ALREADY_EXISTS). Reads of one
// object go to the API (fresh), lists come from the informer cache.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { isNotFound, type Client, type KObject } from '../../runtime/index.ts'
import { schemaForKind } from '../../api/index.ts'
import { PortalError } from './api-reply.ts'
import { principalOf } from './auth.ts'
import type { ServerInformers } from './informers.ts'
import { kindRefOf, type ServerKind } from './kinds.ts'
import { applyAsPortal, createAsPortal, manifestFromBody, translateApiError } from './server-writes.ts'
import { statusView, type ServerObject } from './status-view.ts'
import { namespaceNameSchema } from './namespace-name.ts'
import { actingNamespace, listedNamespaces, namespaceNotHeld, tenancyOf } from './tenancy.ts'

export interface ServerRoutesDeps {
  client: Client
  informers: ServerInformers
  /** The portal's namespace: home of tokens issued without namespaces. */
  namespace: string
  ideUrlFor(vmid: number): string
}

/** The `?namespace=` query parameter, for the API document (handlers validate it themselves: tenancy.ts). */
export const namespaceQuery = { type: 'object', properties: { namespace: namespaceNameSchema } } as const

const PATHS: Array<{ segment: 'game' | 'dev'; kind: ServerKind }> = [
  { segment: 'game', kind: 'GameServer' },
  { segment: 'dev', kind: 'DevServer' },
]
const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const
const errorResponse = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } },
  additionalProperties: true,
} as const

/** Reads a server from the API; undefined when it does not exist. */
export async function getServer(client: Client, kind: ServerKind, namespace: string, name: string): Promise<ServerObject | undefined> {
  try {
    return await client.get<ServerObject & KObject>(kindRefOf(kind), name, namespace)
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw translateApiError(err)
  }
}

/**
 * Reads a server the caller may reach: in `?namespace=` or the caller's home namespace; undefined
 * when it does not exist or that namespace is not the caller's (the API is not asked then).
 */
export async function getReachableServer(
  client: Client,
  req: FastifyRequest,
  portalNamespace: string,
  kind: ServerKind,
  name: string,
): Promise<ServerObject | undefined> {
  const { reach, requested } = tenancyOf(principalOf(req), portalNamespace, req.query)
  const { namespace, held } = actingNamespace(reach, requested)
  return held ? await getServer(client, kind, namespace, name) : undefined
}

/** The namespace a write acts in; 404 ZLH_GW_API_NAMESPACE_NOT_FOUND when it is not the caller's. */
export function writableNamespace(req: FastifyRequest, portalNamespace: string): string {
  const { reach, requested } = tenancyOf(principalOf(req), portalNamespace, req.query)
  const { namespace, held } = actingNamespace(reach, requested)
  if (!held) throw namespaceNotHeld(namespace)
  return namespace
}

/** The routes above, as a fastify plugin the portal registers under its /api prefix. */
export const serverRoutes: FastifyPluginAsync<ServerRoutesDeps> = async (app, deps) => {
  const { client, informers, namespace: portalNamespace } = deps
  const view = (o: ServerObject) => statusView(o, deps.ideUrlFor)
  const describe = (o: ServerObject) => ({
    name: o.metadata.name,
    namespace: o.metadata.namespace,
    kind: o.kind,
    labels: o.metadata.labels ?? {},
    spec: o.spec,
    status: view(o),
  })
  const listed = (req: FastifyRequest) => {
    const { reach, requested } = tenancyOf(principalOf(req), portalNamespace, req.query)
    return listedNamespaces(reach, requested)
  }

  app.get(
    '/servers',
    {
      config: { scope: 'servers:read' },
      schema: {
        tags: ['servers'],
        summary: "Every game and dev server of the caller's namespaces (admin: all) with its status",
        querystring: namespaceQuery,
      },
    },
    async (req) => ({ items: informers.listIn(listed(req)).map(view) }),
  )

  app.get<{ Params: { name: string } }>(
    '/servers/:name/status',
    {
      config: { scope: 'servers:read' },
      schema: {
        tags: ['servers'],
        summary: 'Status of a game or dev server',
        params: nameParam,
        querystring: namespaceQuery,
        response: { 404: errorResponse },
      },
    },
    async (req) => {
      const obj =
        (await getReachableServer(client, req, portalNamespace, 'GameServer', req.params.name)) ??
        (await getReachableServer(client, req, portalNamespace, 'DevServer', req.params.name))
      if (!obj) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no game or dev server named "${req.params.name}"`)
      return view(obj)
    },
  )

  for (const { segment, kind } of PATHS) {
    const tags = [segment === 'game' ? 'game servers' : 'dev servers']
    const bodySchema = {
      type: 'object',
      properties: {
        spec: schemaForKind(kind).properties?.spec ?? { type: 'object' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['spec'],
    }
    // Bodies are validated by validateResource (CRD rules, field paths); the schema is for the document only.
    const documentOnly = { validatorCompiler: () => (value: unknown) => ({ value }) }

    app.get(
      `/${segment}`,
      {
        config: { scope: 'servers:read' },
        schema: { tags, summary: `List ${kind}s of the caller's namespaces (admin: all)`, querystring: namespaceQuery },
      },
      async (req) => ({ items: informers.listOf(kind, listed(req)).map(describe) }),
    )

    app.get<{ Params: { name: string } }>(
      `/${segment}/:name`,
      { config: { scope: 'servers:read' }, schema: { tags, summary: `One ${kind}`, params: nameParam, querystring: namespaceQuery } },
      async (req) => {
        const obj = await getReachableServer(client, req, portalNamespace, kind, req.params.name)
        if (!obj) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no ${kind} named "${req.params.name}"`)
        return describe(obj)
      },
    )

    app.put<{ Params: { name: string }; Querystring: { force?: string } }>(
      `/${segment}/:name`,
      {
        config: { scope: 'servers:write' },
        ...documentOnly,
        schema: {
          tags,
          summary: `Create or change a ${kind} (server-side apply as zlh-portal; ?force=true takes over conflicting fields)`,
          params: nameParam,
          body: bodySchema,
          querystring: {
            type: 'object',
            properties: { force: { type: 'string', enum: ['true', 'false'] }, namespace: namespaceNameSchema },
          },
        },
      },
      async (req, reply) => {
        const namespace = writableNamespace(req, portalNamespace)
        const manifest = manifestFromBody(kind, namespace, req.params.name, req.body)
        const existed = (await getServer(client, kind, namespace, req.params.name)) !== undefined
        const obj = (await applyAsPortal(client, manifest, { force: req.query.force === 'true' })) as unknown as ServerObject
        return reply.code(existed ? 200 : 201).send(describe(obj))
      },
    )

    app.post<{ Body: { name?: unknown } }>(
      `/${segment}`,
      {
        config: { scope: 'servers:write' },
        ...documentOnly,
        schema: {
          tags,
          summary: `Create a ${kind} in the caller's namespace (home, or ?namespace=); 409 when the name is taken`,
          querystring: namespaceQuery,
          body: { ...bodySchema, properties: { ...bodySchema.properties, name: { type: 'string' } }, required: ['name', 'spec'] },
        },
      },
      async (req, reply) => {
        const namespace = writableNamespace(req, portalNamespace)
        const { name, ...rest } = (req.body ?? {}) as { name?: unknown }
        if (typeof name !== 'string' || !name) {
          throw new PortalError('ZLH_GW_API_INVALID', 'name: Required value', {
            errors: [{ field: 'name', message: 'name: Required value: the server name' }],
          })
        }
        const manifest = manifestFromBody(kind, namespace, name, rest)
        const obj = (await createAsPortal(client, manifest)) as unknown as ServerObject
        return reply.code(201).send(describe(obj))
      },
    )

    app.delete<{ Params: { name: string } }>(
      `/${segment}/:name`,
      {
        config: { scope: 'servers:write' },
        schema: { tags, summary: `Delete a ${kind}`, params: nameParam, querystring: namespaceQuery },
      },
      async (req, reply) => {
        const { reach, requested } = tenancyOf(principalOf(req), portalNamespace, req.query)
        const { namespace, held } = actingNamespace(reach, requested)
        if (!held) throw new PortalError('ZLH_GW_API_NOT_FOUND', `${kind} ${namespace}/${req.params.name} does not exist`)
        try {
          await client.delete(kindRefOf(kind), req.params.name, namespace, { propagationPolicy: 'Background' })
        } catch (err) {
          throw translateApiError(err, { apiVersion: '', kind, metadata: { name: req.params.name, namespace } })
        }
        return reply.code(202).send({ name: req.params.name, namespace, kind, deleting: true })
      },
    )
  }
}
