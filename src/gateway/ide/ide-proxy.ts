// The hosted IDE's request flow on `dev-<vmid>.<suffix>`:
//
// Expected flow (a browser opening the IDE):
// 1. `GET /?token=T` → T redeemed for this vmid → session cookie set → 302 to the same URL
//    without the token (Referrer-Policy: no-referrer, so T never leaks to another site).
// 2. `GET /` without folder/workspace → 302 to `/?folder=/home/dev/workspace`.
// 3. every other request and WebSocket upgrade with a valid cookie for this vmid → code-server
//    at the DevServer's address (after the Origin check on upgrades and non-GET/HEAD requests).
//
// Errors: a bad token → 401 page and no cookie; no/invalid cookie → 401 page; Origin not this
// dev host → 403; unknown DevServer → 404 page; not Ready → 503 page that retries by itself;
// upstream down → 502 page. Redirect targets are built from the accepted host, never from input.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { DevHost } from './dev-host.ts'
import { describeRejection, type IdeTokenIssuer } from './ide-token.ts'
import { rejectUpgrade, sendErrorPage } from './pages.ts'
import type { RouteTable } from './route-table.ts'
import type { IdeSessionCookie } from './session-cookie.ts'
import type { UpstreamProxy } from './upstream-proxy.ts'

export const DEFAULT_WORKSPACE_FOLDER = '/home/dev/workspace'
const NOT_READY_RETRY_SECONDS = 5

export interface IdeProxyDeps {
  tokens: IdeTokenIssuer
  sessions: IdeSessionCookie
  routes: RouteTable
  upstream: UpstreamProxy
  publicScheme: 'https' | 'http'
  workspaceFolder?: string
}

export class IdeProxy {
  private readonly deps: IdeProxyDeps
  private readonly folderQuery: string

  constructor(deps: IdeProxyDeps) {
    this.deps = deps
    // Slashes are legal in a query; keeping them literal gives the URL users expect to see.
    this.folderQuery = `?folder=${encodeURIComponent(deps.workspaceFolder ?? DEFAULT_WORKSPACE_FOLDER).replaceAll('%2F', '/')}`
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, host: DevHost): void {
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    const q = url.indexOf('?')
    if (q !== -1 && url.includes('token=', q)) {
      const params = new URLSearchParams(url.slice(q + 1))
      if (params.has('token')) {
        // A token is only ever redeemed here, never forwarded to code-server.
        if (method === 'GET' || method === 'HEAD') return void this.exchangeToken(res, host, url.slice(0, q), params)
        return sendErrorPage(res, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
      }
    }
    const { sessions, routes, upstream } = this.deps
    const session = sessions.sessionFor(req.headers.cookie, host.vmid)
    if (!session) return sendErrorPage(res, 'ZLH_GW_IDE_SESSION_REQUIRED')
    if (method !== 'GET' && method !== 'HEAD' && req.headers.origin !== this.originOf(host)) {
      return sendErrorPage(res, 'ZLH_GW_IDE_ORIGIN_MISMATCH')
    }
    const route = routes.lookup(host.vmid)
    if (!route) return sendErrorPage(res, 'ZLH_GW_IDE_DEVSERVER_NOT_FOUND', { detail: `dev server ${host.vmid} does not exist` })
    if (!route.ready) {
      return sendErrorPage(res, 'ZLH_GW_IDE_DEVSERVER_NOT_READY', { detail: `${route.namespace}/${route.name} is not ready`, retryAfterSeconds: NOT_READY_RETRY_SECONDS })
    }
    if (method === 'GET' && (url === '/' || url.startsWith('/?')) && !opensSomething(url)) {
      return redirect(res, `${this.originOf(host)}/${this.folderQuery}`)
    }
    const renewed = sessions.needsRenewal(session) ? sessions.issue(host.vmid, session.user) : undefined
    upstream.web(req, res, route, host.authority, renewed)
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, host: DevHost): void {
    const { sessions, routes, upstream } = this.deps
    if (req.headers.origin !== this.originOf(host)) return rejectUpgrade(socket, 'ZLH_GW_IDE_ORIGIN_MISMATCH')
    if (carriesToken(req.url)) return rejectUpgrade(socket, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
    if (!sessions.sessionFor(req.headers.cookie, host.vmid)) return rejectUpgrade(socket, 'ZLH_GW_IDE_SESSION_REQUIRED')
    const route = routes.lookup(host.vmid)
    if (!route) return rejectUpgrade(socket, 'ZLH_GW_IDE_DEVSERVER_NOT_FOUND')
    if (!route.ready) return rejectUpgrade(socket, 'ZLH_GW_IDE_DEVSERVER_NOT_READY', { retryAfterSeconds: NOT_READY_RETRY_SECONDS })
    upstream.ws(req, socket, head, route, host.authority)
  }

  private async exchangeToken(res: ServerResponse, host: DevHost, path: string, params: URLSearchParams): Promise<void> {
    const tokens = params.getAll('token')
    const result = tokens.length === 1
      ? await this.deps.tokens.redeem(tokens[0]!, host.vmid)
      : { ok: false as const, reason: 'malformed' as const }
    if (res.destroyed) return
    if (!result.ok) return sendErrorPage(res, 'ZLH_GW_IDE_TOKEN_INVALID', { detail: describeRejection(result.reason) })
    params.delete('token')
    const rest = params.toString()
    // Only the path of the request survives, and only under this dev host's own origin.
    const safePath = path.startsWith('/') ? path.replace(/^\/+/, '/') : '/'
    res.writeHead(302, {
      location: `${this.originOf(host)}${safePath}${rest ? `?${rest}` : ''}`,
      'set-cookie': this.deps.sessions.issue(host.vmid, result.user),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'content-length': '0',
    })
    res.end()
  }

  private originOf(host: DevHost): string {
    return `${this.deps.publicScheme}://${host.authority}`
  }
}

function carriesToken(url: string | undefined): boolean {
  const q = url ? url.indexOf('?') : -1
  return q !== -1 && url!.includes('token=', q) && new URLSearchParams(url!.slice(q + 1)).has('token')
}

function opensSomething(url: string): boolean {
  const params = new URLSearchParams(url.slice(2))
  return params.has('folder') || params.has('workspace') || params.has('ew')
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': '0' })
  res.end()
}
