// Forwards IDE traffic to code-server: HTTP requests through one keep-alive undici Pool per
// upstream with undici's low-level dispatch (no intermediate streams: about half the CPU per
// request of http-proxy-3 over node:http's client, measured in bench/proxy.ts); WebSocket
// upgrades with http-proxy-3 as raw byte pipes in both directions, so frames (ping/pong, close
// codes) pass through untouched.
//
// Guarantees:
// - headers are rewritten before forwarding: the zlh session cookie is removed, X-Forwarded-For/
//   Proto/Host are overwritten (never taken from the client), Forwarded and other client-claimed
//   proxy headers are dropped, hop-by-hop headers are dropped on plain HTTP; Host is kept so
//   code-server's own origin check (Origin host == X-Forwarded-Host / Host) passes.
// - an upstream that refuses, resets or does not connect within `connectTimeoutMs` → 502 page;
//   a client that goes away takes its upstream request or socket with it, and vice versa
//   (a half-closed side is destroyed after a short grace period), so no socket outlives its peer.
// - upstream Set-Cookie headers cannot touch the zlh session cookie (on HTTP responses and on a
//   WebSocket's 101); a renewed session cookie from the proxy is added to either.
// - `closeWebSocket` ends a proxied WebSocket at once, both sides (a session that ended).
// - a pool unused for a whole `idlePoolMs` period (a deleted or moved dev server) is closed and
//   forgotten, so the map of pools does not grow with every dev server ever opened.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse, ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ProxyServer } from 'http-proxy-3'
import { Pool, type Dispatcher } from 'undici'
import { rejectUpgrade, sendErrorPage } from './pages.ts'
import type { ResolvedRoute } from './route-table.ts'
import { SESSION_COOKIE_NAME, stripSessionCookie } from './session-cookie.ts'

export interface UpstreamProxyOptions {
  /** Scheme the browser used (X-Forwarded-Proto). */
  publicScheme: 'https' | 'http'
  connectTimeoutMs?: number
  /** Upper bound of kept-alive connections per upstream. */
  maxSocketsPerUpstream?: number
  /** A pool with no request for this long (checked once per period) is closed; default 5 min. */
  idlePoolMs?: number
  /** Called for every upstream failure (rare path: the caller may inspect `req.headers.host`). */
  onError?: (err: Error, req: IncomingMessage, kind: 'http' | 'ws') => void
}

const HALF_CLOSE_GRACE_MS = 5000
// Response headers that describe the upstream connection, not the response.
const RESPONSE_HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'trailer', 'upgrade']

type WsOptions = { agent: false; connectTimeout: number; xfwd: false; target: ResolvedRoute['target'] }

export interface WebSocketExtras {
  /** A Set-Cookie value added to the 101 response. */
  renewedCookie?: string
  /** Called once the upstream answered 101 and the sockets are piped, with the upstream's socket. */
  onOpen?: (upstreamSocket: Duplex) => void
}

// `transfer-encoding` and `expect` are the connection's business too: the body is re-framed by
// the upstream client, and undici refuses both.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'transfer-encoding',
  'expect',
]
const CLIENT_CLAIMED = [
  'forwarded',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-original-url',
  'x-rewrite-url',
]

export class UpstreamProxy {
  private readonly proxy: ProxyServer
  private readonly scheme: string
  private readonly onError: NonNullable<UpstreamProxyOptions['onError']>
  private readonly connectTimeout: number
  private readonly maxConnections: number
  // One keep-alive pool per upstream host:port, shared by the routes that point there.
  private readonly pools = new Map<string, Pool>()
  // Per-route pools, looked up once per route object (routes are replaced, not mutated).
  private readonly routePools = new WeakMap<ResolvedRoute, Pool>()
  private readonly wsOptions = new WeakMap<ResolvedRoute, WsOptions>()
  private readonly liveSockets = new Set<Duplex>()
  private readonly wsExtras = new WeakMap<Duplex, WebSocketExtras>()
  private readonly upstreamOf = new WeakMap<Duplex, Socket>()
  private readonly usedSinceSweep = new Set<Pool>()
  private readonly sweeper: NodeJS.Timeout

  constructor(opts: UpstreamProxyOptions) {
    this.scheme = opts.publicScheme
    this.onError = opts.onError ?? (() => {})
    this.connectTimeout = opts.connectTimeoutMs ?? 5000
    this.maxConnections = opts.maxSocketsPerUpstream ?? 256
    this.sweeper = setInterval(() => this.closeIdlePools(), opts.idlePoolMs ?? 5 * 60_000)
    this.sweeper.unref()
    this.proxy = new ProxyServer({ ws: true, xfwd: false, prependPath: false })
    // Errors raised outside a call's callback (e.g. the client socket erroring mid-stream).
    this.proxy.on('error', (err, req, res) => this.fail(err as Error, req, res))
    this.proxy.on('proxyReqWs', (proxyReq: ClientRequest, _req, socket) => this.tieWebSocket(proxyReq, socket as Duplex))
  }

  /** Proxies an HTTP request; `renewedCookie` is added to the response's Set-Cookie. */
  web(req: IncomingMessage, res: ServerResponse, route: ResolvedRoute, authority: string, renewedCookie?: string): void {
    // HTTP/1.1 framing: a request has a body exactly when it says so (before its framing headers go).
    const length = req.headers['content-length']
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
    rewriteHeaders(req.headers, req.socket, authority, this.scheme, false)
    this.poolFor(route).dispatch(
      {
        method: req.method as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers: req.headers as Record<string, string>,
        body: hasBody ? req : null,
      },
      new ResponseForwarder(res, renewedCookie, (err) => this.failHttp(err, req, res)),
    )
  }

  /** Proxies a WebSocket upgrade. */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, route: ResolvedRoute, authority: string, extras?: WebSocketExtras): void {
    if (extras) this.wsExtras.set(socket, extras)
    this.liveSockets.add(socket)
    socket.once('close', () => this.liveSockets.delete(socket))
    rewriteHeaders(req.headers, req.socket, authority, this.scheme, true)
    let options = this.wsOptions.get(route)
    if (!options) {
      options = { agent: false, connectTimeout: this.connectTimeout, xfwd: false, target: route.target }
      this.wsOptions.set(route, options)
    }
    this.proxy.ws(req, socket, head, options)
  }

  /** Closes one proxied WebSocket now: the client socket and its upstream connection. */
  closeWebSocket(socket: Duplex): void {
    this.upstreamOf.get(socket)?.destroy()
    socket.destroy()
  }

  /** Open client WebSockets (for shutdown and leak checks). */
  get openWebSockets(): number {
    return this.liveSockets.size
  }

  /** Upstreams with a connection pool (for leak checks). */
  get pooledUpstreams(): number {
    return this.pools.size
  }

  /** Closes every proxied WebSocket and every upstream connection. */
  close(): void {
    clearInterval(this.sweeper)
    for (const s of this.liveSockets) s.destroy()
    this.liveSockets.clear()
    for (const pool of this.pools.values()) void pool.destroy().catch(() => {})
    this.pools.clear()
  }

  private poolFor(route: ResolvedRoute): Pool {
    let pool = this.routePools.get(route)
    if (pool && !pool.closed && !pool.destroyed) {
      this.usedSinceSweep.add(pool)
      return pool
    }
    const { host, port } = route.target
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    pool = this.pools.get(origin)
    if (!pool || pool.destroyed || pool.closed) {
      pool = new Pool(origin, {
        connections: this.maxConnections,
        pipelining: 1,
        connect: { timeout: this.connectTimeout },
        // code-server long-polls and streams: no time limits beyond the connect timeout (as before).
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 60_000,
      })
      this.pools.set(origin, pool)
    }
    this.routePools.set(route, pool)
    this.usedSinceSweep.add(pool)
    return pool
  }

  private closeIdlePools(): void {
    for (const [origin, pool] of this.pools) {
      if (this.usedSinceSweep.has(pool)) continue
      const { running, pending } = pool.stats
      if (running + pending > 0) continue
      this.pools.delete(origin)
      void pool.close().catch(() => {})
    }
    this.usedSinceSweep.clear()
  }

  private failHttp(err: Error, req: IncomingMessage, res: ServerResponse): void {
    this.onError(err, req, 'http')
    if (!res.headersSent) sendErrorPage(res, 'ZLH_GW_IDE_UPSTREAM_UNAVAILABLE')
    else res.destroy()
  }

  private tieWebSocket(proxyReq: ClientRequest, socket: Duplex): void {
    let upgraded = false
    // Client gone before the upstream answered: abandon the upstream handshake.
    socket.once('close', () => {
      if (!upgraded) proxyReq.destroy()
    })
    proxyReq.once('upgrade', (proxyRes: IncomingMessage, proxySocket: Socket) => {
      upgraded = true
      this.upstreamOf.set(socket, proxySocket)
      // This listener runs before http-proxy-3's, which writes proxyRes.headers as the 101.
      const extras = this.wsExtras.get(socket)
      filterSetCookie(proxyRes.headers, extras?.renewedCookie)
      const onOpen = extras?.onOpen
      if (onOpen) queueMicrotask(() => onOpen(proxySocket))
      // http-proxy-3 half-closes each side when the other closes; make sure a peer that never
      // finishes its side cannot keep a socket open.
      proxySocket.once('close', () => setTimeout(() => socket.destroy(), HALF_CLOSE_GRACE_MS).unref())
      socket.once('close', () => setTimeout(() => proxySocket.destroy(), HALF_CLOSE_GRACE_MS).unref())
      if (socket.destroyed) proxySocket.destroy()
    })
  }

  private fail(err: Error, req: IncomingMessage, res: ServerResponse | Duplex): void {
    const isHttp = typeof (res as ServerResponse).writeHead === 'function'
    this.onError(err, req, isHttp ? 'http' : 'ws')
    if (isHttp) {
      sendErrorPage(res as ServerResponse, 'ZLH_GW_IDE_UPSTREAM_UNAVAILABLE')
      return
    }
    const socket = res as Duplex & { bytesWritten?: number }
    // Once the 101 went out the stream is WebSocket frames; an HTTP page would corrupt it.
    if ((socket.bytesWritten ?? 0) > 0) socket.destroy()
    else rejectUpgrade(socket, 'ZLH_GW_IDE_UPSTREAM_UNAVAILABLE')
  }
}

function rewriteHeaders(headers: IncomingHttpHeaders, socket: Socket, authority: string, scheme: string, upgrade: boolean): void {
  // Deleting only what is present keeps the headers object's shape stable on the common path.
  if (headers.cookie !== undefined) {
    const cookie = stripSessionCookie(headers.cookie)
    if (cookie === undefined) delete headers.cookie
    else headers.cookie = cookie
  }
  if (!upgrade) {
    const connection = headers.connection
    if (connection !== undefined) {
      for (const token of connection.split(',')) {
        const name = token.trim().toLowerCase()
        if (name && name !== 'host' && name !== 'cookie' && headers[name] !== undefined) delete headers[name]
      }
    }
    for (const h of HOP_BY_HOP) if (headers[h] !== undefined) delete headers[h]
  }
  for (const h of CLIENT_CLAIMED) if (headers[h] !== undefined) delete headers[h]
  headers['x-forwarded-for'] = socket.remoteAddress ?? ''
  headers['x-forwarded-proto'] = scheme
  headers['x-forwarded-host'] = authority
}

/** Drops upstream attempts to set the zlh cookie and adds the proxy's renewed one, if any. */
function filterSetCookie(headers: Record<string, string | string[] | undefined>, renewedCookie: string | undefined): void {
  const setCookie = headers['set-cookie']
  if (setCookie === undefined && !renewedCookie) return
  const kept = (Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie]).filter(
    (c) => !c.trimStart().startsWith(`${SESSION_COOKIE_NAME}=`),
  )
  if (renewedCookie) kept.push(renewedCookie)
  if (kept.length > 0) headers['set-cookie'] = kept
  else delete headers['set-cookie']
}

/**
 * Streams one upstream response to the client (undici's dispatch handler): status and headers
 * filtered (no hop-by-hop headers; the zlh session cookie can only come from us), body chunks
 * written as they arrive with backpressure (pause upstream while the client's buffer is full),
 * and a client that goes away aborts the upstream request.
 */
class ResponseForwarder implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  private done = false
  private readonly res: ServerResponse
  private readonly renewedCookie: string | undefined
  private readonly onFail: (err: Error) => void

  constructor(res: ServerResponse, renewedCookie: string | undefined, onFail: (err: Error) => void) {
    this.res = res
    this.renewedCookie = renewedCookie
    this.onFail = onFail
    res.once('close', () => {
      if (!this.done) this.controller?.abort(new Error('client went away'))
    })
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.res.destroyed) controller.abort(new Error('client went away'))
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    for (const h of RESPONSE_HOP_BY_HOP) if (headers[h] !== undefined) delete headers[h]
    filterSetCookie(headers, this.renewedCookie)
    this.res.writeHead(statusCode, headers as IncomingHttpHeaders)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause()
      this.res.once('drain', () => controller.resume())
    }
  }

  onResponseEnd(): void {
    this.done = true
    this.res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.done = true
    if (this.res.destroyed) return
    this.onFail(err)
  }
}
