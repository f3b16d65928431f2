// Forwards IDE traffic to code-server with http-proxy-3: HTTP over a keep-alive agent (a fresh
// upstream connection per request costs more than the proxying itself), WebSocket upgrades as raw
// byte pipes in both directions, so frames (ping/pong, close codes) pass through untouched.
//
// Guarantees:
// - headers are rewritten before forwarding: the zlh session cookie is removed, X-Forwarded-For/
//   Proto/Host are overwritten (never taken from the client), Forwarded and other client-claimed
//   proxy headers are dropped, hop-by-hop headers are dropped on plain HTTP; Host is kept so
//   code-server's own origin check (Origin host == X-Forwarded-Host / Host) passes.
// - an upstream that refuses, resets or does not connect within `connectTimeoutMs` → 502 page;
//   a client that goes away takes its upstream request or socket with it, and vice versa
//   (a half-closed side is destroyed after a short grace period), so no socket outlives its peer.
// - upstream Set-Cookie headers cannot touch the zlh session cookie.

import { Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, type ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ProxyServer } from 'http-proxy-3'
import { rejectUpgrade, sendErrorPage } from './pages.ts'
import type { ResolvedRoute } from './route-table.ts'
import { SESSION_COOKIE_NAME, stripSessionCookie } from './session-cookie.ts'

export interface UpstreamProxyOptions {
  /** Scheme the browser used (X-Forwarded-Proto). */
  publicScheme: 'https' | 'http'
  connectTimeoutMs?: number
  /** Upper bound of kept-alive connections per upstream. */
  maxSocketsPerUpstream?: number
  /** Called for every upstream failure (rare path: the caller may inspect `req.headers.host`). */
  onError?: (err: Error, req: IncomingMessage, kind: 'http' | 'ws') => void
}

const RENEWED_COOKIE = Symbol('zlh.renewedCookie')
const HALF_CLOSE_GRACE_MS = 5000

// Only the rare renewal tags a request; the common path adds no properties to it.
type TaggedRequest = IncomingMessage & { [RENEWED_COOKIE]?: string }
type WebOptions = { agent: Agent; connectTimeout: number; xfwd: false; target: ResolvedRoute['target'] }
type WsOptions = { agent: false; connectTimeout: number; xfwd: false; target: ResolvedRoute['target'] }

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']
const CLIENT_CLAIMED = ['forwarded', 'x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-real-ip', 'x-forwarded-ssl', 'x-forwarded-scheme', 'x-original-url', 'x-rewrite-url']

export class UpstreamProxy {
  private readonly proxy: ProxyServer
  private readonly agent: Agent
  private readonly scheme: string
  private readonly onError: NonNullable<UpstreamProxyOptions['onError']>
  private readonly connectTimeout: number
  // Per-route proxy options, built once per route object (routes are replaced, not mutated).
  private readonly webOptions = new WeakMap<ResolvedRoute, WebOptions>()
  private readonly wsOptions = new WeakMap<ResolvedRoute, WsOptions>()
  private readonly liveSockets = new Set<Duplex>()

  constructor(opts: UpstreamProxyOptions) {
    this.scheme = opts.publicScheme
    this.onError = opts.onError ?? (() => {})
    this.connectTimeout = opts.connectTimeoutMs ?? 5000
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: opts.maxSocketsPerUpstream ?? 256,
      maxFreeSockets: opts.maxSocketsPerUpstream ?? 256,
      scheduling: 'lifo',
    })
    this.proxy = new ProxyServer({ ws: true, xfwd: false, prependPath: false })
    // Errors raised outside a call's callback (e.g. the client socket erroring mid-stream).
    this.proxy.on('error', (err, req, res) => this.fail(err as Error, req, res))
    this.proxy.on('proxyRes', (proxyRes, req) => {
      const setCookie = proxyRes.headers['set-cookie']
      if (setCookie) proxyRes.headers['set-cookie'] = setCookie.filter((c) => !c.trimStart().startsWith(`${SESSION_COOKIE_NAME}=`))
      const renewed = (req as TaggedRequest)[RENEWED_COOKIE]
      if (renewed) proxyRes.headers['set-cookie'] = [...(proxyRes.headers['set-cookie'] ?? []), renewed]
    })
    this.proxy.on('proxyReqWs', (proxyReq: ClientRequest, _req, socket) => this.tieWebSocket(proxyReq, socket as Duplex))
  }

  /** Proxies an HTTP request; `renewedCookie` is added to the response's Set-Cookie. */
  web(req: IncomingMessage, res: ServerResponse, route: ResolvedRoute, authority: string, renewedCookie?: string): void {
    if (renewedCookie) (req as TaggedRequest)[RENEWED_COOKIE] = renewedCookie
    rewriteHeaders(req.headers, req.socket, authority, this.scheme, false)
    let options = this.webOptions.get(route)
    if (!options) {
      options = { agent: this.agent, connectTimeout: this.connectTimeout, xfwd: false, target: route.target }
      this.webOptions.set(route, options)
    }
    this.proxy.web(req, res, options)
  }

  /** Proxies a WebSocket upgrade. */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, route: ResolvedRoute, authority: string): void {
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

  /** Open client WebSockets (for shutdown and leak checks). */
  get openWebSockets(): number {
    return this.liveSockets.size
  }

  /** Closes every proxied WebSocket and every idle upstream connection. */
  close(): void {
    for (const s of this.liveSockets) s.destroy()
    this.liveSockets.clear()
    this.agent.destroy()
  }

  private tieWebSocket(proxyReq: ClientRequest, socket: Duplex): void {
    let upgraded = false
    // Client gone before the upstream answered: abandon the upstream handshake.
    socket.once('close', () => {
      if (!upgraded) proxyReq.destroy()
    })
    proxyReq.once('upgrade', (_res: IncomingMessage, proxySocket: Socket) => {
      upgraded = true
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
