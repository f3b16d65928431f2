// Test fixtures for the gateway: a stand-in code-server (HTTP page + WebSocket echo on every
// path, counting its sockets), a gateway on a random loopback port, and HTTP/WS clients that
// reach `dev-<vmid>.<suffix>` hosts on 127.0.0.1 through a custom DNS lookup.

import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo, LookupFunction, Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { WebSocket, WebSocketServer } from 'ws'
import { createGateway, InMemoryRouteTable, type Gateway, type GatewayOptions } from '../../src/gateway/index.ts'

export const SUFFIX = 'zlh.test'

/** Resolves every name to 127.0.0.1 (tests talk to loopback only). */
export const loopbackLookup = ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
  if (opts?.all) cb(null, [{ address: '127.0.0.1', family: 4 }])
  else cb(null, '127.0.0.1', 4)
}) as unknown as LookupFunction

export interface Upstream {
  server: Server
  port: number
  address: string
  wss: WebSocketServer
  /** Requests seen, newest last: method, url and headers as code-server would see them. */
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>
  /** Close codes the upstream received from clients. */
  closeCodes: number[]
  openSockets(): number
  close(): Promise<void>
}

const PAGE = `<!doctype html><html><head><title>fake code-server</title></head><body><h1 id="h">fake code-server</h1>
<pre id="out"></pre><script>
const out = document.getElementById('out')
const ws = new WebSocket('wss://' + location.host + '/ws-echo?x=1')
ws.onopen = () => ws.send('hello from the page')
ws.onmessage = (e) => { out.textContent = 'echo:' + e.data; ws.close(4001, 'done') }
ws.onerror = () => { out.textContent = 'ws-error' }
ws.onclose = (e) => { document.title = 'closed:' + e.code }
</script></body></html>`

export async function startUpstream(): Promise<Upstream> {
  const requests: Upstream['requests'] = []
  const closeCodes: number[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers })
    if (req.url!.startsWith('/headers')) {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers })
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['app=1; Path=/', '__Host-zlh-ide=evil; Path=/; Secure'] })
      res.end(body)
      return
    }
    if (req.method === 'POST') {
      let n = 0
      req.on('data', (c: Buffer) => {
        n += c.length
      })
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end(`got ${n} bytes`)
      })
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(PAGE)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers })
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const text = data.toString()
        if (!isBinary && text.startsWith('close:')) ws.close(Number(text.slice(6)), 'asked to')
        else ws.send(data, { binary: isBinary })
      })
      ws.on('close', (code) => closeCodes.push(code))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    wss,
    requests,
    closeCodes,
    openSockets: () => sockets.size,
    async close() {
      for (const c of wss.clients) c.terminate()
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export interface TestGateway {
  gw: Gateway
  routes: InMemoryRouteTable
  host(vmid: number): string
  origin(vmid: number): string
}

export async function startGateway(extra: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const routes = new InMemoryRouteTable()
  const gw = await createGateway({
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    routes,
    signingKey: randomBytes(32),
    publicScheme: 'https',
    publicPort: 'listen',
    ...extra,
  })
  return {
    gw,
    routes,
    host: (vmid) => `dev-${vmid}.${SUFFIX}:${gw.port}`,
    origin: (vmid) => `https://dev-${vmid}.${SUFFIX}:${gw.port}`,
  }
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One HTTP request to the gateway with the given Host header. */
export function send(
  gw: Gateway,
  opts: { host: string; path?: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: gw.port,
        path: opts.path ?? '/',
        method: opts.method ?? 'GET',
        agent: false,
        headers: { host: opts.host, ...opts.headers },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      },
    )
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** The `name=value` part of the session cookie a reply set, or undefined. */
export function sessionCookieOf(reply: Reply): string | undefined {
  const c = (reply.headers['set-cookie'] ?? []).find((s) => s.startsWith('__Host-zlh-ide='))
  return c?.split(';')[0]
}

/** Redeems a fresh token for `vmid` and returns the Cookie header value it yields. */
export async function signIn(t: TestGateway, vmid: number, user = 'alice'): Promise<string> {
  const { token } = t.gw.mintIdeToken(vmid, user, { apiTokenId: null })
  const r = await send(t.gw, { host: t.host(vmid), path: `/?token=${token}` })
  const cookie = sessionCookieOf(r)
  if (r.status !== 302 || !cookie) throw new Error(`sign-in failed: ${r.status} ${r.body}`)
  return cookie
}

/** A ws client to a dev host through the gateway. */
export function openWs(
  t: TestGateway,
  vmid: number,
  opts: { cookie?: string; origin?: string | null; path?: string; headers?: Record<string, string> } = {},
): WebSocket {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.cookie) headers.cookie = opts.cookie
  const origin = opts.origin === null ? undefined : (opts.origin ?? t.origin(vmid))
  return new WebSocket(`ws://dev-${vmid}.${SUFFIX}:${t.gw.port}${opts.path ?? '/'}`, {
    headers,
    origin,
    lookup: loopbackLookup,
    handshakeTimeout: 15_000,
  })
}

/** Resolves when `cond` holds, polling; rejects after `timeoutMs` with `what`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
