// The gateway process: one fastify service with two faces. Requests for IDE hosts
// (`dev-<vmid>.<suffix>`) are dispatched before fastify's router, straight to the IDE proxy
// (the hot path: no routing tables, no hooks); every other host is the portal (fastify).
// WebSocket upgrades for IDE hosts go to the same proxy; others go to the portal's upgrade
// handler (console WebSockets) when a portal is attached, else they are refused.
// Before either, the request target is checked (request-target.ts): absolute-form, authority-form
// (CONNECT) and `*` (but for OPTIONS) are refused with 400 on every host; on the portal host the
// path must also be in normal form, so the router and the auth hook see what was sent.
//
// Assumptions: the signing key comes from a Secret and is the same on every replica (tokens
// minted by the portal API are redeemed here). IDE tokens are single use per process by
// themselves; `sharedClaims` (Leases, see portal/lease-claims.ts) makes that hold across
// replicas and restarts. IDE sessions end with the DevServer (uid) they were opened for and with
// the portal API token that opened them (`apiTokens`); when either goes, the gateway also closes
// the session's proxied WebSockets (route-table and token-store change listeners).

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import {
  DevHostMatcher,
  DevOrigins,
  IdeProxy,
  IdeSessionCookie,
  IdeTokenIssuer,
  LiveSessions,
  UpstreamProxy,
  registerLegacyIdeRedirect,
  type ApiTokenRegistry,
  type IdeSleepWake,
  type RouteTable,
  type SharedClaims,
} from './ide/index.ts'
import { rejectUpgrade, sendErrorPage } from './ide/pages.ts'
import { apiErrorBody } from './portal/api-reply.ts'
import { checkPortalTarget, checkTargetForm } from './request-target.ts'

export interface GatewayOptions {
  /** Where to listen: `HOST:PORT` or {host, port}; port 0 picks a free one. */
  listen: string | { host: string; port: number }
  /** DNS suffix of IDE hosts: `dev-<vmid>.<ideSuffix>`. */
  ideSuffix: string
  /** Where each dev server's code-server is (filled by the DevServer status informer). */
  routes: RouteTable
  /** HMAC key (≥ 32 bytes) for IDE tokens and session cookies; from a Secret. */
  signingKey: Buffer
  /** Where redeemed IDE tokens are recorded for every replica; per-process memory only when absent. */
  sharedClaims?: SharedClaims
  /** Serve HTTPS with this key pair; without it the gateway speaks HTTP behind a TLS terminator. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** Scheme browsers use to reach the gateway; `https` (the session cookie is Secure). */
  publicScheme?: 'https' | 'http'
  /** Port browsers use for IDE hosts; 'listen' = the port the gateway listens on; absent = the scheme's default. */
  publicPort?: number | 'listen'
  /** How long an IDE session lasts without use (default 30 min; renewed while in use, see ide/session-cookie.ts). */
  sessionTtlSeconds?: number
  /** Portal API tokens (the ApiTokenStore): a session opened through one ends when it is revoked. */
  apiTokens?: ApiTokenRegistry
  /** Clock of IDE tokens and sessions, in ms (tests); Date.now when absent. */
  clock?: () => number
  workspaceFolder?: string
  /** Sleep and wake of DevServers with spec.idle (ide/sleep-wake.ts); absent: no activity writes, no starting page. */
  ideSleep?: IdeSleepWake
  connectTimeoutMs?: number
  /** Upstream connection pools unused this long are closed (default 5 min). */
  idleUpstreamPoolMs?: number
  /** A pino logger (or `true` for fastify's default); silent when absent. */
  logger?: FastifyBaseLogger | boolean
  /** Registers the portal API on the main host (see service.ts); called before listening. */
  portal?: (app: FastifyInstance, ctx: PortalContext) => Promise<PortalHandle>
}

/** What an IDE link is bound to, besides its vmid and user. */
export interface IdeLinkOptions {
  /** metadata.uid of the DevServer the caller checked; absent = the uid the route table has for the vmid now. */
  uid?: string
  /**
   * Id of the portal API token that asked for the link: the session ends when it is revoked.
   * `null` states that no portal token stands behind the link (an embedder or a test calling the
   * gateway directly): that session ends only with its DevServer or by expiring.
   */
  apiTokenId: string | null
  /** Lifetime of the link (≤ 60 s, the default). */
  ttlSeconds?: number
}

/** What the gateway gives the portal it hosts. */
export interface PortalContext {
  mintIdeToken(vmid: number, user: string, link: IdeLinkOptions): { url: string; token: string; expiresAt: Date }
  /** The IDE's address for a vmid, e.g. `https://dev-7.ide.example.com/`. */
  ideUrlFor(vmid: number): string
}

/** What the gateway needs back from the portal it hosts. */
export interface PortalHandle {
  /** Takes a WebSocket upgrade for the main host; false when the path is not the portal's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  close(): void
}

export interface Gateway {
  readonly app: FastifyInstance
  /** The base URL the gateway listens on, e.g. `https://127.0.0.1:8443`. */
  readonly url: string
  readonly port: number
  /** Mints a one-time IDE link for `user` on dev server `vmid` (what `POST /api/dev/:id/ide-token` returns). */
  mintIdeToken(vmid: number, user: string, link: IdeLinkOptions): { url: string; token: string; expiresAt: Date }
  /** Client WebSockets currently proxied. */
  readonly openWebSockets: number
  /** Upstreams the gateway holds a connection pool for. */
  readonly pooledUpstreams: number
  close(): Promise<void>
}

export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const listen = parseListen(opts.listen)
  const publicScheme = opts.publicScheme ?? 'https'
  const matcher = new DevHostMatcher(opts.ideSuffix)
  const now = opts.clock ?? Date.now
  const tokens = new IdeTokenIssuer(opts.signingKey, { sharedClaims: opts.sharedClaims, now })
  const sessions = new IdeSessionCookie(opts.signingKey, { ttlSeconds: opts.sessionTtlSeconds, now })
  let log: FastifyBaseLogger | undefined
  let portalHandle: PortalHandle | undefined
  const upstream = new UpstreamProxy({
    publicScheme,
    connectTimeoutMs: opts.connectTimeoutMs,
    idlePoolMs: opts.idleUpstreamPoolMs,
    onError: (err, req, kind) => log?.warn({ vmid: matcher.match(req.headers.host)?.vmid, kind, err: err.message }, 'IDE upstream error'),
  })
  const live = new LiveSessions({ ttlMs: sessions.ttlSeconds * 1000, now, close: (socket) => upstream.closeWebSocket(socket) })
  let port = 0
  const publicPort = (): number | undefined => (opts.publicPort === 'listen' ? port : opts.publicPort)
  const origins = new DevOrigins(matcher, publicScheme, publicPort)
  const ide = new IdeProxy({
    tokens,
    sessions,
    routes: opts.routes,
    upstream,
    live,
    apiTokens: opts.apiTokens,
    origins,
    workspaceFolder: opts.workspaceFolder,
    sleep: opts.ideSleep,
  })
  // A session ends on the next request once its DevServer or portal token is gone; its open
  // WebSockets are closed as soon as the change is seen.
  opts.routes.onChange?.((vmid) => {
    const closed = ide.closeEndedSessions(vmid)
    if (closed > 0) log?.info({ vmid, closed }, 'closed IDE WebSockets of ended sessions: dev server gone or replaced')
  })
  opts.apiTokens?.onChange?.(() => {
    const closed = ide.closeEndedSessions()
    if (closed > 0) log?.info({ closed }, 'closed IDE WebSockets of ended sessions: portal token revoked')
  })

  const serverFactory = (portal: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    // Request targets are checked before anything routes (request-target.ts): origin-form only on
    // every host, and on the portal host the path already in normal form; else 400.
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const host = req.headers.host
      const dev = matcher.match(host)
      const ideHost = dev !== undefined || matcher.isUnderSuffix(host)
      const target = ideHost ? checkTargetForm(req.method, req.url) : checkPortalTarget(req.method, req.url)
      if (!target.ok) {
        res.setHeader('connection', 'close')
        if (ideHost) return sendErrorPage(res, 'ZLH_GW_REQUEST_TARGET_INVALID', { detail: target.reason })
        const body = JSON.stringify(apiErrorBody('ZLH_GW_REQUEST_TARGET_INVALID', target.reason))
        return void res
          .writeHead(400, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'cache-control': 'no-store',
          })
          .end(body)
      }
      if (target.asterisk) return void res.writeHead(204, { allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS' }).end()
      if (dev) return ide.handleRequest(req, res, dev)
      if (ideHost) return sendErrorPage(res, 'ZLH_GW_IDE_HOST_UNKNOWN')
      portal(req, res)
    }
    const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createHttpServer(onRequest)
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy())
      const target = checkTargetForm(req.method, req.url)
      if (!target.ok || target.asterisk)
        return rejectUpgrade(socket, 'ZLH_GW_REQUEST_TARGET_INVALID', {
          detail: target.ok ? '"*" is not a WebSocket target' : target.reason,
        })
      const dev = matcher.match(req.headers.host)
      if (dev) return ide.handleUpgrade(req, socket, head, dev)
      // The portal checks the normal form itself, on the path it then authenticates and routes.
      if (!matcher.isUnderSuffix(req.headers.host) && portalHandle?.handleUpgrade(req, socket, head)) return
      rejectUpgrade(socket, 'ZLH_GW_IDE_HOST_UNKNOWN')
    })
    // CONNECT (authority-form): the gateway is not a proxy. Without this listener Node drops the connection unanswered.
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy())
      rejectUpgrade(socket, 'ZLH_GW_REQUEST_TARGET_INVALID', { detail: 'CONNECT is refused: the gateway is not a proxy' })
    })
    return server as Server
  }

  const app = Fastify({
    serverFactory,
    loggerInstance: typeof opts.logger === 'object' ? opts.logger : undefined,
    logger: typeof opts.logger === 'boolean' ? opts.logger : undefined,
    // Request URLs can carry IDE tokens (the legacy path); they are never logged.
    logController: new LogController({ disableRequestLogging: true }),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance
  log = app.log
  app.get('/healthz', async () => ({ ok: true }))

  registerLegacyIdeRedirect(app, { origins })

  const mintIdeToken: PortalContext['mintIdeToken'] = (vmid, user, link) => {
    const uid = link.uid ?? opts.routes.lookup(vmid)?.uid
    if (!uid) throw new Error(`no DevServer is routed at vmid ${vmid}: an IDE link is bound to one, pass its uid`)
    if (link.apiTokenId !== null && !opts.apiTokens)
      throw new Error('an IDE link bound to a portal API token needs a gateway with apiTokens to check it')
    const minted = tokens.mint({ vmid, uid, apiTokenId: link.apiTokenId, user }, link.ttlSeconds)
    return { ...minted, url: `${origins.origin(vmid)}/?token=${minted.token}` }
  }
  if (opts.portal) portalHandle = await opts.portal(app, { mintIdeToken, ideUrlFor: (vmid) => `${origins.origin(vmid)}/` })

  await app.listen({ host: listen.host, port: listen.port })
  port = (app.server.address() as AddressInfo).port
  const hostForUrl = listen.host.includes(':') ? `[${listen.host}]` : listen.host

  return {
    app,
    url: `${opts.tls ? 'https' : 'http'}://${hostForUrl}:${port}`,
    port,
    mintIdeToken,
    get openWebSockets() {
      return upstream.openWebSockets
    },
    get pooledUpstreams() {
      return upstream.pooledUpstreams
    },
    async close() {
      upstream.close()
      portalHandle?.close()
      await app.close()
    },
  }
}

export function parseListen(listen: GatewayOptions['listen']): { host: string; port: number } {
  if (typeof listen !== 'string') return listen
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen)
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(listen)}: expected HOST:PORT, e.g. 127.0.0.1:8443`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }
}
