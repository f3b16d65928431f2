// Console WebSockets, proxied to the agent: /api/game/:name/console → agent /game/console,
// /api/dev/:name/console → agent /dev/console (query passed through, e.g. ?session=).
//
// Expected flow
//  1. Check the target (normal form, as for HTTP), authenticate the upgrade whatever its path under
//     /api (Authorization: Bearer, or for browsers, which cannot set headers on a WebSocket, the
//     subprotocol `zlh.bearer.<token>` next to `zlh.console`, or the web console's session cookie
//     when the upgrade's Origin is the gateway's own: ../console/session.ts), then route: a console path, else
//     404; scope `console`.
//  2. Find the server in the caller's namespace (tenancy.ts: `?namespace=` or its home; another
//     tenant's server is a 404 like a missing one), its agent and token (AgentLocator), and open
//     the upstream WebSocket with that token.
//  3. Only when the agent accepted, accept the client: failures before that are plain HTTP
//     answers (401/403/404/409/502 JSON), never a WebSocket that opens and dies.
//  4. Pipe frames both ways (text stays text, binary stays binary); a close on one side closes the
//     other with the same code (1005/1006 become 1000/1011, which may be sent).
// Guarantees: the agent token exists only in the gateway's upstream request; every socket this
// module opens is closed when its peer goes, and by close().

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import WebSocket, { WebSocketServer } from 'ws'
import { gatewayErrors, type GatewayErrorCode } from '../errors.ts'
import { checkPortalTarget } from '../request-target.ts'
import type { AgentLocator } from './agent-access.ts'
import { hasScope, type ApiTokenStore } from './api-tokens.ts'
import { apiErrorBody, PortalError } from './api-reply.ts'
import { authenticateBearer, PORTAL_PREFIX } from './auth.ts'
import type { SessionCookieReader } from '../console/session.ts'
import { logRefusal } from './server-writes.ts'
import type { ServerKind } from './kinds.ts'
import { actingNamespace, tenancyOf, withoutNamespace } from './tenancy.ts'

const CONSOLE_PATH = /^\/api\/(game|dev)\/([a-z0-9][a-z0-9.-]{0,252})\/console$/
const BEARER_PROTOCOL = 'zlh.bearer.'
export const CONSOLE_PROTOCOL = 'zlh.console'

export interface AgentConsoleDeps {
  agents: AgentLocator
  tokens: ApiTokenStore
  /** The web console's session cookie: accepted on an upgrade whose Origin is the gateway's own. */
  sessions?: SessionCookieReader
  /** The portal's namespace: home of tokens issued without namespaces. */
  namespace: string
  onError?: (err: unknown, server: string) => void
  /** Called when a DevServer's console is opened and on each message its client sends (IDE activity). */
  onDevConsoleActivity?: (namespace: string, name: string) => void
  /** Where a call the API server refused (403) is logged. */
  log?: { warn(obj: object, msg: string): void }
}

export class AgentConsoleProxy {
  readonly #deps: AgentConsoleDeps
  readonly #wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(CONSOLE_PROTOCOL) ? CONSOLE_PROTOCOL : false),
  })
  readonly #open = new Set<WebSocket>()

  constructor(deps: AgentConsoleDeps) {
    this.#deps = deps
  }

  /**
   * Takes every upgrade under the portal's prefix; false leaves others to the caller. Decides on
   * the same checked path the HTTP side routes on (../request-target.ts): a target not in normal
   * form → 400; then no valid token → 401 (whatever the path); a path that is not a console → 404.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const target = checkPortalTarget(req.method, req.url)
    if (!target.ok) {
      refuse(socket, 'ZLH_GW_REQUEST_TARGET_INVALID', target.reason)
      return true
    }
    if (target.asterisk || !(target.path === PORTAL_PREFIX || target.path.startsWith(`${PORTAL_PREFIX}/`))) return false
    const m = CONSOLE_PATH.exec(target.path)
    const search = target.query ? `?${target.query}` : ''
    void this.#upgrade(
      req,
      socket,
      head,
      m ? { kind: m[1] === 'game' ? 'GameServer' : 'DevServer', name: m[2]! } : undefined,
      search,
    ).catch((err) => {
      const code: GatewayErrorCode = err instanceof PortalError ? err.code : 'ZLH_GW_API_AGENT_UNAVAILABLE'
      if (!(err instanceof PortalError)) this.#deps.onError?.(err, m?.[2] ?? '')
      else if (this.#deps.log) logRefusal(this.#deps.log, err)
      refuse(socket, code, err instanceof PortalError ? err.message : undefined)
    })
    return true
  }

  get openSockets(): number {
    return this.#open.size
  }

  close(): void {
    for (const ws of this.#open) ws.terminate()
    this.#open.clear()
    this.#wss.close()
  }

  async #upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: { kind: ServerKind; name: string } | undefined,
    search: string,
  ): Promise<void> {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
    const fromProtocol = offered.find((p) => p.startsWith(BEARER_PROTOCOL))?.slice(BEARER_PROTOCOL.length)
    let principal = authenticateBearer(this.#deps.tokens, req.headers, fromProtocol)
    if (!principal && req.headers.authorization === undefined && fromProtocol === undefined && this.#deps.sessions) {
      const session = await this.#deps.sessions.authenticate(req.headers, 'websocket')
      if (session && 'refused' in session) throw new PortalError('ZLH_GW_CONSOLE_CSRF', session.refused)
      principal = this.#deps.tokens.authenticate(session?.token)
    }
    if (!principal) throw new PortalError('ZLH_GW_API_UNAUTHENTICATED')
    if (!target) throw new PortalError('ZLH_GW_API_NO_ROUTE', 'no WebSocket is served at this path')
    if (!hasScope(principal, 'console')) throw new PortalError('ZLH_GW_API_FORBIDDEN', 'scope "console" is required')
    const { kind, name } = target
    // The tenant rule of every route (tenancy.ts): `?namespace=` or the caller's home; another
    // tenant's server is a 404 exactly like one that does not exist. The parameter is not forwarded.
    const { reach, requested } = tenancyOf(principal, this.#deps.namespace, Object.fromEntries(new URLSearchParams(search)))
    const { namespace, held } = actingNamespace(reach, requested)
    const agent = await this.#deps.agents.locate(kind, held ? namespace : null, name)
    if (socket.destroyed) return
    const upstream = new WebSocket(
      `${agent.baseUrl.replace(/^http/, 'ws')}/${kind === 'GameServer' ? 'game' : 'dev'}/console${withoutNamespace(search)}`,
      {
        headers: { authorization: `Bearer ${agent.token}` },
        handshakeTimeout: 15_000,
        perMessageDeflate: false,
      },
    )
    this.#open.add(upstream)
    upstream.once('close', () => this.#open.delete(upstream))
    // The agent may speak in the same packet as its 101 (history, state): hold those frames
    // until the client is switched over.
    const early: Array<{ data: WebSocket.RawData; isBinary: boolean }> = []
    const hold = (data: WebSocket.RawData, isBinary: boolean): void => {
      early.push({ data, isBinary })
    }
    upstream.on('message', hold)
    socket.once('close', () => {
      if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate()
    })
    await new Promise<void>((resolve, reject) => {
      upstream.once('open', resolve)
      upstream.once('unexpected-response', (_r, res) => {
        res.resume()
        upstream.terminate()
        reject(
          new PortalError(
            res.statusCode === 404 ? 'ZLH_GW_API_NOT_READY' : 'ZLH_GW_API_AGENT_UNAVAILABLE',
            `the agent answered ${res.statusCode}`,
          ),
        )
      })
      upstream.once('error', reject)
    })
    if (socket.destroyed) {
      upstream.close(1001)
      return
    }
    this.#wss.handleUpgrade(req, socket, head, (client) => {
      upstream.off('message', hold)
      const onActivity = this.#deps.onDevConsoleActivity
      if (kind === 'DevServer' && onActivity) {
        const used = (): void => onActivity(namespace, name)
        used()
        client.on('message', used)
      }
      this.#pipe(client, upstream)
      for (const m of early) client.send(m.data, { binary: m.isBinary })
    })
  }

  #pipe(client: WebSocket, upstream: WebSocket): void {
    this.#open.add(client)
    client.once('close', () => this.#open.delete(client))
    client.on('message', (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary })
    })
    upstream.on('message', (data, isBinary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary })
    })
    client.on('close', (code, reason) => closeWith(upstream, code, reason))
    upstream.on('close', (code, reason) => closeWith(client, code, reason))
    client.on('error', () => client.terminate())
    upstream.on('error', () => upstream.terminate())
  }
}

function closeWith(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return
  const sendable = code === 1005 ? 1000 : code === 1006 || code === 1015 ? 1011 : code
  ws.close(sendable, reason.subarray(0, 123))
  // A peer that never answers the close handshake must not keep the socket.
  setTimeout(() => ws.terminate(), 5000).unref()
}

/** An HTTP answer on a raw upgrade socket (the client has not been switched to WebSocket). */
function refuse(socket: Duplex, code: GatewayErrorCode, detail?: string): void {
  if (socket.destroyed) return
  const status = gatewayErrors.entries[code].httpStatus
  const body = JSON.stringify(apiErrorBody(code, detail && detail !== gatewayErrors.entries[code].message ? detail : undefined))
  const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="zlh"\r\n' : ''
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  )
}
