// The portal API: everything under /api on the gateway's main host. Registers authentication
// (scoped bearer tokens), the OpenAPI document (/api/openapi.json), server CRUD and status, the
// runtime catalog, IDE links, agent file and console proxies, the status event stream and token
// administration. Returns the WebSocket upgrade handler for the console paths.

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import type { Client } from '../../runtime/index.ts'
import { GATEWAY_ERRORS } from '../errors.ts'
import { AgentLocator, type AgentLocatorOptions } from './agent-access.ts'
import { AgentConsoleProxy } from './agent-console.ts'
import { registerAgentFileRoutes } from './agent-files.ts'
import { apiErrorBody, PortalError, sendApiError } from './api-reply.ts'
import { SCOPES, type ApiTokenStore, type Scope } from './api-tokens.ts'
import { registerAuth } from './auth.ts'
import { registerCatalogRoutes } from './catalog-routes.ts'
import { registerEventRoutes } from './events-routes.ts'
import { registerIdeRoutes } from './ide-routes.ts'
import type { ServerInformers } from './informers.ts'
import { registerServerRoutes } from './server-routes.ts'

export interface PortalDeps {
  client: Client
  informers: ServerInformers
  tokens: ApiTokenStore
  /** Namespace the portal's servers live in. */
  namespace: string
  mintIdeToken(vmid: number, user: string): { url: string; expiresAt: Date }
  ideUrlFor(vmid: number): string
  agents?: AgentLocatorOptions
}

export interface Portal {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  readonly openConsoles: number
  readonly openEventStreams: number
  close(): void
}

export async function registerPortal(app: FastifyInstance, deps: PortalDeps): Promise<Portal> {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'ZeroLagHub portal API', version: 'v1', description: 'Game and dev servers, runtime catalog, hosted IDE links, consoles and files. Authenticate with "Authorization: Bearer <token>".' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: false,
  })
  registerAuth(app, deps.tokens)
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof PortalError) return reply.code(GATEWAY_ERRORS[err.code].status).header('cache-control', 'no-store').send(apiErrorBody(err.code, err.message, err.extra))
    if (err.validation) {
      const errors = err.validation.map((v) => ({ field: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`, message: v.message ?? 'invalid' }))
      return sendApiError(reply, 'ZLH_GW_API_INVALID', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendApiError(reply, 'ZLH_GW_API_INVALID', err.message, { errors: [] })
    }
    req.log.error({ err: err.message }, 'portal API error')
    return sendApiError(reply, 'ZLH_GW_API_BACKEND', 'internal error')
  })

  const agents = new AgentLocator(deps.client, deps.agents)
  registerServerRoutes(app, { client: deps.client, informers: deps.informers, namespace: deps.namespace, ideUrlFor: deps.ideUrlFor })
  registerCatalogRoutes(app, deps.client)
  registerIdeRoutes(app, { client: deps.client, namespace: deps.namespace, mintIdeToken: deps.mintIdeToken })
  registerAgentFileRoutes(app, { agents, namespace: deps.namespace })
  const events = registerEventRoutes(app, { informers: deps.informers, namespace: deps.namespace, ideUrlFor: deps.ideUrlFor })
  registerTokenRoutes(app, deps.tokens)
  app.get('/api/openapi.json', { config: { scope: null }, schema: { hide: true } }, async () => app.swagger())

  const consoles = new AgentConsoleProxy({
    agents, tokens: deps.tokens, namespace: deps.namespace,
    onError: (err, server) => app.log.warn({ server, err: (err as Error).message }, 'console proxy failed'),
  })
  return {
    handleUpgrade: (req, socket, head) => consoles.handleUpgrade(req, socket, head),
    get openConsoles() { return consoles.openSockets },
    get openEventStreams() { return events.openStreams },
    close() { consoles.close(); events.closeAll() },
  }
}

function registerTokenRoutes(app: FastifyInstance, tokens: ApiTokenStore): void {
  app.get('/api/tokens', { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'API tokens (ids, users, scopes; never the tokens)' } },
    async () => ({ items: tokens.list() }))
  app.post<{ Body: { user: string; scopes: Scope[] } }>('/api/tokens', {
    config: { scope: 'admin' },
    schema: {
      tags: ['tokens'], summary: 'Issue a token; the response is the only time it is shown',
      body: {
        type: 'object', additionalProperties: false, required: ['user', 'scopes'],
        properties: { user: { type: 'string', minLength: 1, maxLength: 253 }, scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } } },
      },
    },
  }, async (req, reply) => reply.code(201).send(await tokens.issue(req.body.user, req.body.scopes)))
  app.delete<{ Params: { id: string } }>('/api/tokens/:id', { config: { scope: 'admin' }, schema: { tags: ['tokens'], summary: 'Revoke a token' } }, async (req, reply) => {
    if (!(await tokens.revoke(req.params.id))) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no token with id "${req.params.id}"`)
    return reply.code(204).send()
  })
}
