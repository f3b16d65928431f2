// Game and dev server CRUD and status for the portal, in the portal's namespace:
//   GET    /api/servers                   every server with its status view
//   GET    /api/servers/:name/status      status view (GameServer, else DevServer of that name)
//   GET    /api/{game,dev}                list        PUT  /api/{game,dev}/:name   create or change (apply)
//   POST   /api/{game,dev}                create only GET  /api/{game,dev}/:name   one
//   DELETE /api/{game,dev}/:name
// PUT is a server-side apply under `zlh-portal`; POST a plain create under the same manager (the
// API server's AlreadyExists answers a taken name: 409 ZLH_GW_API_ALREADY_EXISTS). Reads of one
// object go to the API (fresh), lists come from the informer cache.

import type { FastifyInstance } from 'fastify'
import { isNotFound, type Client, type KObject } from '../../runtime/index.ts'
import { schemaForKind } from '../../api/index.ts'
import { PortalError } from './api-reply.ts'
import type { ServerInformers } from './informers.ts'
import { kindRefOf, type ServerKind } from './kinds.ts'
import { applyAsPortal, createAsPortal, manifestFromBody, translateApiError } from './server-writes.ts'
import { statusView, type ServerObject } from './status-view.ts'

export interface ServerRoutesDeps {
  client: Client
  informers: ServerInformers
  namespace: string
  ideUrlFor(vmid: number): string
}

const PATHS: Array<{ segment: 'game' | 'dev'; kind: ServerKind }> = [{ segment: 'game', kind: 'GameServer' }, { segment: 'dev', kind: 'DevServer' }]
const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const
const errorResponse = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } }, additionalProperties: true } as const

/** Reads a server from the API; undefined when it does not exist. */
export async function getServer(client: Client, kind: ServerKind, namespace: string, name: string): Promise<ServerObject | undefined> {
  try {
    return await client.get<ServerObject & KObject>(kindRefOf(kind), name, namespace)
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw translateApiError(err)
  }
}

export function registerServerRoutes(app: FastifyInstance, deps: ServerRoutesDeps): void {
  const { client, informers, namespace } = deps
  const view = (o: ServerObject) => statusView(o, deps.ideUrlFor)
  const describe = (o: ServerObject) => ({ name: o.metadata.name, kind: o.kind, labels: o.metadata.labels ?? {}, spec: o.spec, status: view(o) })

  app.get('/servers', { config: { scope: 'servers:read' }, schema: { tags: ['servers'], summary: 'Every game and dev server with its status' } },
    async () => ({ items: informers.list(namespace).map(view) }))

  app.get<{ Params: { name: string } }>('/servers/:name/status', {
    config: { scope: 'servers:read' },
    schema: { tags: ['servers'], summary: 'Status of a game or dev server', params: nameParam, response: { 404: errorResponse } },
  }, async (req) => {
    const obj = await getServer(client, 'GameServer', namespace, req.params.name) ?? await getServer(client, 'DevServer', namespace, req.params.name)
    if (!obj) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no game or dev server named "${req.params.name}"`)
    return view(obj)
  })

  for (const { segment, kind } of PATHS) {
    const tags = [segment === 'game' ? 'game servers' : 'dev servers']
    const bodySchema = {
      type: 'object',
      properties: { spec: schemaForKind(kind).properties?.spec ?? { type: 'object' }, labels: { type: 'object', additionalProperties: { type: 'string' } } },
      required: ['spec'],
    }
    // Bodies are validated by validateResource (CRD rules, field paths); the schema is for the document only.
    const documentOnly = { validatorCompiler: () => (value: unknown) => ({ value }) }

    app.get(`/${segment}`, { config: { scope: 'servers:read' }, schema: { tags, summary: `List ${kind}s` } },
      async () => ({ items: (kind === 'GameServer' ? informers.games : informers.devs).store.byIndex('namespace', namespace).map(describe) }))

    app.get<{ Params: { name: string } }>(`/${segment}/:name`, { config: { scope: 'servers:read' }, schema: { tags, summary: `One ${kind}`, params: nameParam } }, async (req) => {
      const obj = await getServer(client, kind, namespace, req.params.name)
      if (!obj) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no ${kind} named "${req.params.name}"`)
      return describe(obj)
    })

    app.put<{ Params: { name: string }; Querystring: { force?: string } }>(`/${segment}/:name`, {
      config: { scope: 'servers:write' }, ...documentOnly,
      schema: { tags, summary: `Create or change a ${kind} (server-side apply as zlh-portal; ?force=true takes over conflicting fields)`, params: nameParam, body: bodySchema, querystring: { type: 'object', properties: { force: { type: 'string', enum: ['true', 'false'] } } } },
    }, async (req, reply) => {
      const manifest = manifestFromBody(kind, namespace, req.params.name, req.body)
      const existed = await getServer(client, kind, namespace, req.params.name) !== undefined
      const obj = await applyAsPortal(client, manifest, { force: req.query.force === 'true' }) as unknown as ServerObject
      return reply.code(existed ? 200 : 201).send(describe(obj))
    })

    app.post<{ Body: { name?: unknown } }>(`/${segment}`, {
      config: { scope: 'servers:write' }, ...documentOnly,
      schema: { tags, summary: `Create a ${kind}; 409 when the name is taken`, body: { ...bodySchema, properties: { ...bodySchema.properties, name: { type: 'string' } }, required: ['name', 'spec'] } },
    }, async (req, reply) => {
      const { name, ...rest } = (req.body ?? {}) as { name?: unknown }
      if (typeof name !== 'string' || !name) {
        throw new PortalError('ZLH_GW_API_INVALID', 'name: Required value', { errors: [{ field: 'name', message: 'name: Required value: the server name' }] })
      }
      const manifest = manifestFromBody(kind, namespace, name, rest)
      const obj = await createAsPortal(client, manifest) as unknown as ServerObject
      return reply.code(201).send(describe(obj))
    })

    app.delete<{ Params: { name: string } }>(`/${segment}/:name`, {
      config: { scope: 'servers:write' }, schema: { tags, summary: `Delete a ${kind}`, params: nameParam },
    }, async (req, reply) => {
      try {
        await client.delete(kindRefOf(kind), req.params.name, namespace, { propagationPolicy: 'Background' })
      } catch (err) {
        throw translateApiError(err, { apiVersion: '', kind, metadata: { name: req.params.name, namespace } })
      }
      return reply.code(202).send({ name: req.params.name, kind, deleting: true })
    })
  }
}
