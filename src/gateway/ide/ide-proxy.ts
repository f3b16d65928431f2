// The hosted IDE's request flow on `dev-<vmid>.<suffix>`:
//
// Expected flow (a browser opening the IDE):
// 1. `GET /?token=T` → T redeemed for this vmid, if the DevServer it was minted for (uid) is still
//    the one routed there and the portal token behind it is not revoked → session cookie set →
//    302 to the same URL without the token (Referrer-Policy: no-referrer, so T never leaks).
// 2. `GET /` without folder/workspace → 302 to `/?folder=<the route's workspace folder>`: the
//    DevServer's `status.ide.folder` (the agent's workspace as code-server sees it, which on the
//    process provider is under the container's directory), else the configured/default
//    `/home/dev/workspace`. The folder is a query parameter on this dev host's origin, URL-encoded;
//    a folder that is not a plain absolute path never reaches a route (route-table.ts).
// 3. every other request and WebSocket upgrade with a valid cookie for this vmid whose binding
//    still holds (same DevServer uid, portal token not revoked: session-binding.ts) → code-server
//    at the DevServer's address (after the Origin check on upgrades and non-GET/HEAD requests).
//    The cookie is renewed on the response (or the 101) past half its lifetime; proxied
//    WebSockets are tracked per session (live-sessions.ts) so that traffic on them keeps the
//    session in use and so that they are closed when the session ends.
//
// 4. with `sleep` (sleep-wake.ts), after the checks of 3: a sleeping or waking DevServer gets the
//    starting page (and a sleeping one is asked to wake) instead of the not-ready page; its
//    WebSocket upgrades are refused with 503 ZLH_GW_IDE_DEVSERVER_SLEEPING; WAKE_STATUS_PATH is
//    the gateway's; every request and WebSocket chunk that reaches code-server counts as activity.
//
// Errors: a bad token → 401 page and no cookie; no/invalid cookie → 401 page; a session whose
// DevServer was replaced or whose portal token was revoked → 401 page; Origin not this dev host →
// 403; unknown DevServer → 404 page; not Ready → 503 page that retries by itself; upstream down →
// 502 page. Redirect targets, the Origin compared with and the host code-server is told are built
// from configuration (DevOrigins) and the vmid, never from the request's Host header.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { DEFAULT_IDE_FOLDER, ideFolderOf, ideFolderQuery } from '../../api/index.ts'
import type { DevHost, DevOrigins } from './dev-host.ts'
import { describeRejection, type IdeTokenIssuer } from './ide-token.ts'
import type { LiveSessions } from './live-sessions.ts'
import { rejectUpgrade, sendErrorPage } from './pages.ts'
import type { ResolvedRoute, RouteTable } from './route-table.ts'
import type { IdeSleepWake } from './sleep-wake.ts'
import { bindingEnded, describeBindingEnd, type ApiTokenRegistry, type BindingEnd, type IdeBinding } from './session-binding.ts'
import type { IdeSessionCookie } from './session-cookie.ts'
import type { UpstreamProxy } from './upstream-proxy.ts'

export const DEFAULT_WORKSPACE_FOLDER = DEFAULT_IDE_FOLDER
const NOT_READY_RETRY_SECONDS = 5

export interface IdeProxyDeps {
  tokens: IdeTokenIssuer
  sessions: IdeSessionCookie
  routes: RouteTable
  upstream: UpstreamProxy
  live: LiveSessions
  /** Where portal API tokens are checked; sessions opened through a portal token fail closed without it. */
  apiTokens?: ApiTokenRegistry
  origins: DevOrigins
  /** The folder opened when the route has none (an agent too old to report it); default /home/dev/workspace. */
  workspaceFolder?: string
  /** Sleep and wake of DevServers with spec.idle (activity, the starting page); absent: neither. */
  sleep?: IdeSleepWake
}

export class IdeProxy {
  private readonly deps: IdeProxyDeps
  private readonly defaultFolder: string
  private readonly inUse: (sid: string) => boolean

  constructor(deps: IdeProxyDeps) {
    this.deps = deps
    this.defaultFolder = ideFolderOf(deps.workspaceFolder) ?? DEFAULT_IDE_FOLDER
    this.inUse = (sid) => deps.live.inUse(sid)
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, host: DevHost): void {
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    const q = url.indexOf('?')
    if (q !== -1 && url.includes('token=', q)) {
      const params = new URLSearchParams(url.slice(q + 1))
      if (params.has('token')) {
        // A token is only ever redeemed here, never forwarded to code-server.
        if (method === 'GET' || method === 'HEAD') return void this.exchangeToken(res, host.vmid, url.slice(0, q), params)
        return sendErrorPage(res, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
      }
    }
    const { sessions, routes, upstream, origins } = this.deps
    const session = sessions.sessionFor(req.headers.cookie, host.vmid, this.inUse)
    if (!session) return sendErrorPage(res, 'ZLH_GW_IDE_SESSION_REQUIRED')
    const route = routes.lookup(host.vmid)
    if (!route) return sendErrorPage(res, 'ZLH_GW_IDE_DEVSERVER_NOT_FOUND', { detail: `dev server ${host.vmid} does not exist` })
    const ended = this.ended(session, route)
    if (ended) return sendErrorPage(res, 'ZLH_GW_IDE_SESSION_ENDED', { detail: describeBindingEnd(ended) })
    if (method !== 'GET' && method !== 'HEAD' && req.headers.origin !== origins.origin(host.vmid)) {
      return sendErrorPage(res, 'ZLH_GW_IDE_ORIGIN_MISMATCH')
    }
    if (this.deps.sleep?.handleRequest(req, res, route)) return
    if (!route.ready) {
      return sendErrorPage(res, 'ZLH_GW_IDE_DEVSERVER_NOT_READY', {
        detail: `${route.namespace}/${route.name} is not ready`,
        retryAfterSeconds: NOT_READY_RETRY_SECONDS,
      })
    }
    this.deps.sleep?.touch(route)
    if (method === 'GET' && (url === '/' || url.startsWith('/?')) && !opensSomething(url)) {
      return redirect(res, `${origins.origin(host.vmid)}/${this.folderQueryOf(route)}`)
    }
    const renewed = sessions.needsRenewal(session) ? sessions.renew(session) : undefined
    upstream.web(req, res, route, origins.authority(host.vmid), renewed)
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, host: DevHost): void {
    const { sessions, routes, upstream, origins, live } = this.deps
    if (req.headers.origin !== origins.origin(host.vmid)) return rejectUpgrade(socket, 'ZLH_GW_IDE_ORIGIN_MISMATCH')
    if (carriesToken(req.url)) return rejectUpgrade(socket, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
    const session = sessions.sessionFor(req.headers.cookie, host.vmid, this.inUse)
    if (!session) return rejectUpgrade(socket, 'ZLH_GW_IDE_SESSION_REQUIRED')
    const route = routes.lookup(host.vmid)
    if (!route) return rejectUpgrade(socket, 'ZLH_GW_IDE_DEVSERVER_NOT_FOUND')
    const ended = this.ended(session, route)
    if (ended) return rejectUpgrade(socket, 'ZLH_GW_IDE_SESSION_ENDED', { detail: describeBindingEnd(ended) })
    const asleep = this.deps.sleep?.upgradeRefusal(route)
    if (asleep) return rejectUpgrade(socket, asleep, { retryAfterSeconds: NOT_READY_RETRY_SECONDS })
    if (!route.ready) return rejectUpgrade(socket, 'ZLH_GW_IDE_DEVSERVER_NOT_READY', { retryAfterSeconds: NOT_READY_RETRY_SECONDS })
    const renewedCookie = sessions.needsRenewal(session) ? sessions.renew(session) : undefined
    const liveOpen = live.track(socket, session)
    const sleep = this.deps.sleep
    const onOpen = sleep
      ? (upstreamSocket: Duplex) => {
          liveOpen()
          sleep.watchTraffic(route, socket, upstreamSocket)
        }
      : liveOpen
    upstream.ws(req, socket, head, route, origins.authority(host.vmid), { renewedCookie, onOpen })
  }

  /**
   * Closes the proxied WebSockets of every session that has ended: those on `vmid` after its route
   * changed, or (no vmid) those opened through a portal token, after the token store changed.
   */
  closeEndedSessions(vmid?: number): number {
    const { routes, live } = this.deps
    return live.closeWhere(
      (s) => (vmid === undefined ? s.apiTokenId !== null : s.vmid === vmid) && this.ended(s, routes.lookup(s.vmid)) !== undefined,
    )
  }

  /** `?folder=…` for the route's workspace folder (already checked by the route table), else the default. */
  private folderQueryOf(route: ResolvedRoute | undefined): string {
    return ideFolderQuery(route?.folder ?? this.defaultFolder)
  }

  private ended(binding: IdeBinding, route: ResolvedRoute | undefined): BindingEnd | undefined {
    return bindingEnded(binding, route, this.deps.apiTokens)
  }

  private async exchangeToken(res: ServerResponse, vmid: number, path: string, params: URLSearchParams): Promise<void> {
    const tokens = params.getAll('token')
    const result =
      tokens.length === 1
        ? await this.deps.tokens.redeem(tokens[0]!, vmid, (b) => this.ended(b, this.deps.routes.lookup(vmid)))
        : { ok: false as const, reason: 'malformed' as const }
    if (res.destroyed) return
    if (!result.ok) return sendErrorPage(res, 'ZLH_GW_IDE_TOKEN_INVALID', { detail: describeRejection(result.reason) })
    params.delete('token')
    const rest = params.toString()
    // Only the path of the request survives, and only under this dev host's configured origin.
    const safePath = path.startsWith('/') ? path.replace(/^\/+/, '/') : '/'
    res.writeHead(302, {
      location: `${this.deps.origins.origin(vmid)}${safePath}${rest ? `?${rest}` : ''}`,
      'set-cookie': this.deps.sessions.issue(result.binding),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'content-length': '0',
    })
    res.end()
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
