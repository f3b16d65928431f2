// The portal API: everything under /api on the gateway's main host, in ONE encapsulated fastify
// plugin (prefix /api) whose onRequest hook (auth.ts) authenticates every route in it and its
// not-found handler, deciding on the matched route's declared scope, never on the URL string.
// Inside: the OpenAPI document (/api/openapi.json, public), server CRUD and status, the runtime
// catalog, IDE links, agent file proxies, the status event stream and token administration, each
// in the caller's tenant namespaces (tenancy.ts); the
// JSON body parser with the portal's size and depth limits (json-body.ts); the error handler that
// turns every failure into a catalog JSON body. Returns the WebSocket upgrade handler for the
// console paths (agent-console.ts), which authenticates the same way.
// Registration style (as the agent's): each route module exports a fastify plugin taking its
// dependencies as options; this module registers them, in their own encapsulation contexts, inside
// the /api plugin, so its hooks, parsers and handlers apply to all of them and theirs to none else.
// Request targets are checked before routing (../request-target.ts, applied by server.ts).

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import { ApiError, type Client } from '../../runtime/index.ts'
import { AgentLocator, type AgentLocatorOptions } from './agent-access.ts'
import { AgentConsoleProxy } from './agent-console.ts'
import { agentFileRoutes } from './agent-files.ts'
import { apiErrorBody, PortalError, sendApiError } from './api-reply.ts'
import type { ApiTokenStore } from './api-tokens.ts'
import type { SessionCookieReader } from '../console/session.ts'
import { authenticateRoute, PORTAL_PREFIX } from './auth.ts'
import { catalogRoutes } from './catalog-routes.ts'
import { eventRoutes, EventStreams } from './events-routes.ts'
import { ideRoutes } from './ide-routes.ts'
import type { ServerInformers } from './informers.ts'
import { bodyTooLargeDetail, registerJsonBodyParser } from './json-body.ts'
import { serverRoutes } from './server-routes.ts'
import { logRefusal, translateApiError } from './server-writes.ts'
import type { TenantNamespaces } from './tenant-namespaces.ts'
import { tokenRoutes } from './token-routes.ts'

export interface PortalDeps {
  client: Client
  informers: ServerInformers
  tokens: ApiTokenStore
  /** Prepares the namespaces a token is issued for (tenant-namespaces.ts); absent: they are used as they are. */
  tenants?: TenantNamespaces
  /** The portal's namespace: home of tokens issued without namespaces (tenancy.ts). */
  namespace: string
  /** The gateway's own namespace (its Secrets): never a tenant. */
  systemNamespace?: string
  mintIdeToken(vmid: number, user: string, link: { uid: string; apiTokenId: string | null }): { url: string; expiresAt: Date }
  ideUrlFor(vmid: number): string
  agents?: AgentLocatorOptions
  /** Called when a DevServer's console is opened or typed in (IDE activity for spec.idle). */
  onDevConsoleActivity?: (namespace: string, name: string) => void
  /** The web console's session cookie, accepted in place of a bearer token (auth.ts); absent: bearer tokens only. */
  sessions?: SessionCookieReader
}

export interface Portal {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  readonly openConsoles: number
  readonly openEventStreams: number
  close(): void
}

export async function registerPortal(app: FastifyInstance, deps: PortalDeps): Promise<Portal> {
  const agents = new AgentLocator(deps.client, deps.agents)
  const eventStreams = new EventStreams()
  await app.register(
    async (portal) => {
      await portal.register(fastifySwagger, {
        openapi: {
          info: {
            title: 'ZeroLagHub portal API',
            version: 'v1',
            description:
              'Game and dev servers, runtime catalog, hosted IDE links, consoles and files. Authenticate with "Authorization: Bearer <token>".',
          },
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        },
        hideUntagged: false,
      })
      // First: every route below, and the not-found handler, run it before anything else.
      portal.addHook('onRequest', authenticateRoute(deps.tokens, deps.sessions))
      portal.setNotFoundHandler((req, reply) => sendApiError(reply, 'ZLH_GW_API_NO_ROUTE', `no ${req.method} route at this path`))
      portal.setErrorHandler((thrown: FastifyError, req, reply) => {
        // An API server refusal no handler translated is translated here (a 403 keeps its verb and resource).
        const err = (thrown instanceof ApiError ? translateApiError(thrown) : thrown) as FastifyError
        if (err instanceof PortalError) logRefusal(req.log, err)
        if (err instanceof PortalError)
          return reply
            .code(err.status)
            .header('cache-control', 'no-store')
            .send(apiErrorBody(err.code, err.message, err.extra))
        if (err.validation) {
          const errors = err.validation.map((v) => ({
            field: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
            message: v.message ?? 'invalid',
          }))
          return sendApiError(reply, 'ZLH_GW_API_INVALID', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
        }
        if (err.statusCode === 413) return sendApiError(reply, 'ZLH_GW_API_BODY_TOO_LARGE', bodyTooLargeDetail())
        if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
          return sendApiError(reply, 'ZLH_GW_API_INVALID', err.message, { errors: [] })
        }
        req.log.error({ err: err.message }, 'portal API error')
        return sendApiError(reply, 'ZLH_GW_API_BACKEND', 'internal error')
      })
      registerJsonBodyParser(portal)

      await portal.register(serverRoutes, {
        client: deps.client,
        informers: deps.informers,
        namespace: deps.namespace,
        ideUrlFor: deps.ideUrlFor,
      })
      await portal.register(catalogRoutes, { client: deps.client })
      await portal.register(ideRoutes, { client: deps.client, namespace: deps.namespace, mintIdeToken: deps.mintIdeToken })
      await portal.register(eventRoutes, {
        informers: deps.informers,
        namespace: deps.namespace,
        ideUrlFor: deps.ideUrlFor,
        streams: eventStreams,
      })
      await portal.register(tokenRoutes, { tokens: deps.tokens, tenants: deps.tenants, systemNamespace: deps.systemNamespace })
      portal.get('/openapi.json', { config: { scope: null }, schema: { hide: true } }, async () => portal.swagger())
      await portal.register(agentFileRoutes, { agents, namespace: deps.namespace })
    },
    { prefix: PORTAL_PREFIX },
  )

  const consoles = new AgentConsoleProxy({
    agents,
    tokens: deps.tokens,
    sessions: deps.sessions,
    namespace: deps.namespace,
    onDevConsoleActivity: deps.onDevConsoleActivity,
    log: app.log,
    onError: (err, server) => app.log.warn({ server, err: (err as Error).message }, 'console proxy failed'),
  })
  return {
    handleUpgrade: (req, socket, head) => consoles.handleUpgrade(req, socket, head),
    get openConsoles() {
      return consoles.openSockets
    },
    get openEventStreams() {
      return eventStreams.open
    },
    close() {
      consoles.close()
      eventStreams.closeAll()
    },
  }
}
