// The agent's HTTP API: a fastify instance with bearer auth on every route, the error catalog,
// JSON-schema validated bodies, OpenAPI at GET /openapi.json, and the list of route plugins.
//
// The edge, in hook order: each request runs in its own async scope (request-scope.ts); a target
// that is not a path (absolute-form `GET http://x/status`, `*`) is refused 400 before anything
// else; then authentication, decided on the route that was matched (a route is open only when it
// declares `config: { auth: 'none' }` — enrollment — never on how the URL is spelled); JSON bodies
// are bounded in size and depth (body-limits.ts) and may not carry NUL bytes in any string.
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import type { FastifyRequest } from 'fastify'
import { bearerAuthHook } from './auth.ts'
import type { TokenHolder } from './auth.ts'
import { enrollRoutes } from './routes/enroll.ts'
import { requestScopeHook } from './request-scope.ts'
import { limitJsonBodies, MAX_JSON_BODY_BYTES } from './body-limits.ts'
import { AgentError, errorBody, isCatalogError } from './errors.ts'
import type { AgentContext, AgentRoutePlugin } from './context.ts'
import { agentVersion } from './version.ts'
import { statusRoutes } from './routes/status.ts'
import { eventRoutes } from './routes/events.ts'
import { runtimeRoutes } from './routes/runtimes.ts'
import { devRoutes } from './routes/dev.ts'
import { errorResponseSchema } from './routes/schemas.ts'
import { gameRoutes } from './game/routes.ts'
import { fileRoutes, workspaceFileRoutes } from './files/routes.ts'
import { uploadRoutes, workspaceUploadRoutes } from './uploads/routes.ts'
import { lazyOpenApiDocument } from './openapi.ts'
import { compileEveryRouteSchema, lazySchemaCompilers } from './lazy-schema-compilers.ts'

// ─── Route plugins ────────────────────────────────────────────────────────────────────────
// Each is a fastify plugin receiving `{ ctx }`: it serves the components main.ts built and put in
// the context, and builds none of its own. Consoles, files, uploads and mods are appended here by
// their owners.
const routePlugins: AgentRoutePlugin[] = [
  statusRoutes,
  eventRoutes,
  runtimeRoutes,
  devRoutes,
  gameRoutes, // PUT/GET /game, /game/start|stop|restart, /game/console, /dev/console, /mods
  fileRoutes, // /files/* (the game server's files)
  uploadRoutes, // /uploads/*
  workspaceFileRoutes, // /workspace/files/* (the dev user's workspace)
  workspaceUploadRoutes, // /workspace/uploads/*
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
  const compilers = lazySchemaCompilers()
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }) as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    bodyLimit: MAX_JSON_BODY_BYTES,
    // The controller polls /status every few seconds: a line per request at info would grow the
    // log by ~150 KB per idle half hour. Requests are logged below, at a level by outcome.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    // Each route's schemas are compiled by the first request that needs them (fastify's own compilers).
    schemaController: { compilersFactory: compilers },
  })
  schemaCompilers.set(app, compilers)

  // Every route any plugin adds, with its methods: the table the security tests enumerate.
  const table: AgentRoute[] = []
  routeTables.set(app, table)
  app.addHook('onRoute', (route) => {
    table.push({ methods: [route.method].flat(), url: route.url, open: route.config?.auth === 'none' })
  })

  app.addHook('onRequest', requestScopeHook)
  app.addHook('onRequest', async (req) => {
    if (!req.raw.url?.startsWith('/')) throw new AgentError('REQUEST_TARGET_INVALID')
  })
  // Before any handler so every route — including 404s and the OpenAPI document — requires it.
  app.addHook(
    'onRequest',
    bearerAuthHook(opts.tokens, (req) => opts.enroll !== undefined && isOpenRoute(req)),
  )
  app.addHook('preValidation', async (req) => {
    const field = nulField(req.body)
    if (field !== undefined) throw new AgentError('FIELD_NUL_BYTE', `${field || 'the body'} contains a NUL byte`, { field })
  })
  limitJsonBodies(app)

  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode
    const level = status >= 500 ? 'warn' : status >= 400 ? 'info' : 'debug'
    req.log[level](
      { method: req.method, url: req.url.split('?')[0], statusCode: status, ms: Math.round(reply.elapsedTime) },
      'request completed',
    )
  })

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
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody(new AgentError('BODY_TOO_LARGE', `the body is larger than ${MAX_JSON_BODY_BYTES} bytes`)))
    }
    if (fe.validation) {
      return reply
        .code(400)
        .send(errorBody(new AgentError('BAD_REQUEST', `${fe.validationContext ?? 'request'} is invalid (${fe.message})`)))
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

  // Built on the first GET /openapi.json from the routes registered below (openapi.ts).
  const openApiDocument = lazyOpenApiDocument(app, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'zlh agent API',
        version: agentVersion,
        description: 'The in-container agent. Every route needs `Authorization: Bearer <container token>`.',
      },
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

  app.get('/openapi.json', { schema: { hide: true } }, openApiDocument)
  return app
}

export interface AgentRoute {
  methods: string[]
  url: string
  open: boolean
}
const routeTables = new WeakMap<FastifyInstance, AgentRoute[]>()
const schemaCompilers = new WeakMap<FastifyInstance, ReturnType<typeof lazySchemaCompilers>>()

/** Compiles every route schema of a ready agent server now (tests: each compiles; returns how many). */
export function compileAgentRouteSchemas(app: FastifyInstance): number {
  const compilers = schemaCompilers.get(app)
  return compilers ? compileEveryRouteSchema(compilers) : 0
}

/** Every route of an agent server (HEAD routes fastify adds included), as registered. */
export function agentRouteTable(app: FastifyInstance): readonly AgentRoute[] {
  return routeTables.get(app) ?? []
}

/** True for a route that declared itself open (`config: { auth: 'none' }`), judged on the matched route. */
function isOpenRoute(req: FastifyRequest): boolean {
  return req.routeOptions.config?.auth === 'none'
}

/** The path (`server.env[0].value`) of the first string or key in a parsed JSON body holding a NUL, '' for the body itself. */
export function nulField(body: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[body, '']]
  for (let seen = 0; stack.length > 0 && seen < 100_000; seen++) {
    const [value, at] = stack.pop()!
    if (typeof value === 'string') {
      if (value.includes('\0')) return at
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        stack.push([v, `${at}[${i}]`])
      })
    } else if (value !== null && typeof value === 'object' && !(Symbol.asyncIterator in value)) {
      for (const [k, v] of Object.entries(value)) {
        const key = at ? `${at}.${k}` : k
        if (k.includes('\0')) return key
        stack.push([v, key])
      }
    }
  }
  return undefined
}
