// The agent's HTTP API: a fastify instance with bearer auth on every route, the error catalog,
// JSON-schema validated bodies, OpenAPI at GET /openapi.json, and the list of route plugins.
import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import { bearerAuthHook } from './auth.ts'
import type { TokenHolder } from './auth.ts'
import { enrollRoutes, isEnrollRequest } from './routes/enroll.ts'
import { AgentError, errorBody, isCatalogError } from './errors.ts'
import type { AgentContext, AgentRoutePlugin } from './context.ts'
import { agentVersion } from './version.ts'
import { statusRoutes } from './routes/status.ts'
import { eventRoutes } from './routes/events.ts'
import { runtimeRoutes } from './routes/runtimes.ts'
import { devRoutes } from './routes/dev.ts'
import { errorResponseSchema } from './routes/schemas.ts'
import { gameRoutes } from './game/routes.ts'
import { fileRoutes } from './files/routes.ts'
import { uploadRoutes } from './uploads/routes.ts'

// ─── Route plugins ────────────────────────────────────────────────────────────────────────
// Each is a fastify plugin receiving `{ ctx }`. Game supervision, consoles, files, uploads and
// mods are appended here by their owners.
const routePlugins: AgentRoutePlugin[] = [
  statusRoutes,
  eventRoutes,
  runtimeRoutes,
  devRoutes,
  gameRoutes, // PUT/GET /game, /game/start|stop|restart, /game/console, /dev/console, /mods
  fileRoutes, // /files/*
  uploadRoutes, // /uploads/*
]
// ──────────────────────────────────────────────────────────────────────────────────────────

export interface AgentServerOptions {
  ctx: AgentContext
  /** the container's bearer token (or none yet, with enrollment) */
  tokens: TokenHolder
  /** accept POST /enroll while no token is set (the token file is written then) */
  enroll?: { tokenFile: string }
  /** extra plugins registered after the built-in ones (tests, embedders) */
  extraRoutePlugins?: AgentRoutePlugin[]
}

export async function createAgentServer(opts: AgentServerOptions): Promise<FastifyInstance> {
  const { ctx } = opts
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }) as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  })

  // Before anything else so every route — including 404s and the OpenAPI document — requires it.
  app.addHook('onRequest', bearerAuthHook(opts.tokens, (req) => opts.enroll !== undefined && isEnrollRequest(req)))

  // Responses finishing during shutdown close their connection, so close() need not wait for
  // the keep-alive timeout of clients whose request was in flight.
  app.addHook('onSend', async (_req, reply) => {
    if (ctx.shuttingDown) reply.header('connection', 'close')
  })

  // Catalog errors of every route plugin (core, files, game) end here: plugins set no handler of their own.
  app.setErrorHandler((err: FastifyError | AgentError, req, reply) => {
    if (isCatalogError(err)) {
      if (err.statusCode >= 500) req.log.warn({ err: { code: err.code, message: err.message } }, 'request failed')
      return reply.code(err.statusCode).send(errorBody(err))
    }
    const fe = err as FastifyError
    if (fe.validation) {
      return reply.code(400).send(errorBody(new AgentError('BAD_REQUEST', `${fe.validationContext ?? 'request'} is invalid (${fe.message})`)))
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ code: 'BAD_REQUEST', message: fe.message, statusCode: fe.statusCode })
    }
    req.log.error({ err }, 'unhandled error')
    return reply.code(500).send(errorBody(new AgentError('INTERNAL')))
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody(new AgentError('NOT_FOUND', `${req.method} ${req.url.split('?')[0]} is not an agent route`)))
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'zlh agent API', version: agentVersion, description: 'The in-container agent. Every route needs `Authorization: Bearer <container token>`.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { AgentError: structuredClone(errorResponseSchema) as unknown as Record<string, never> },
      },
      security: [{ bearer: [] }],
    },
  })

  if (opts.enroll) await app.register(enrollRoutes, { tokens: opts.tokens, tokenFile: opts.enroll.tokenFile })
  for (const plugin of [...routePlugins, ...(opts.extraRoutePlugins ?? [])]) {
    await app.register(plugin, { ctx })
  }

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  return app
}
