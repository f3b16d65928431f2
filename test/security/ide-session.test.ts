// Finding 4 (IDE session bound to the vmid only) and the IDE part of finding 6 (redirects built
// from the client's Host header), attacked through the whole gateway service: the embedded API
// server in-process, the DevServer informer filling the route table, links minted through the
// portal API with real portal tokens, a stand-in code-server upstream.
//
// (a) a cookie obtained for a DevServer, replayed after it was deleted and recreated under the
//     same vmid: refused on HTTP and WebSocket, and the WebSocket open at deletion is closed;
// (b) the portal token that minted the link is revoked: the session's next request is refused,
//     its open WebSocket closed, an unused link it minted refused;
// (c) a Host header with another port does not change any redirect's Location;
// (d) a link minted for the old DevServer cannot be redeemed after the recreation;
// (e) a session in use (HTTP, or WebSocket traffic only) outlives its lifetime; an idle one does not.
//     The gateway's clock is a fake one moved by the test; nothing sleeps.

import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { once } from 'node:events'
import type { WebSocket } from 'ws'
import { DEVSERVER } from '../../src/api/index.ts'
import {
  openWs,
  send,
  sessionCookieOf,
  startGateway,
  startUpstream,
  SUFFIX,
  waitFor,
  type TestGateway,
  type Upstream,
} from '../gateway/fixtures.ts'
import { readyConditions, startPortal, type PortalEnv } from '../gateway/portal/portal-env.ts'

const TTL_SECONDS = 60
let clockOffsetMs = 0
let up: Upstream
let p: PortalEnv
let g: TestGateway
let writer: string

t.before(async () => {
  up = await startUpstream()
  p = await startPortal(t, { sessionTtlSeconds: TTL_SECONDS, clock: () => Date.now() + clockOffsetMs })
  const port = p.svc.gateway.port
  g = {
    gw: p.svc.gateway,
    routes: p.svc.routes,
    host: (v) => `dev-${v}.${SUFFIX}:${port}`,
    origin: (v) => `https://dev-${v}.${SUFFIX}:${port}`,
  }
  writer = await p.token('servers:read', 'servers:write', 'ide')
})
t.teardown(() => up.close())

/** Creates (or recreates) DevServer `name`, Ready at `vmid`; resolves with the uid the informer routes. */
async function readyDevServer(name: string, vmid: number, notUid?: string): Promise<string> {
  const put = await p.api(`/api/dev/${name}`, {
    method: 'PUT',
    token: writer,
    json: { spec: { running: true, codeServer: { enabled: true } } },
  })
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT ${name}: ${put.status} ${put.text}`)
  await p.setStatus('DevServer', name, { phase: 'Running', vmid, address: up.address, conditions: readyConditions(true) })
  await waitFor(() => {
    const r = p.svc.routes.lookup(vmid)
    return r?.ready === true && r.name === name && (notUid === undefined || (r as { uid?: string }).uid !== notUid)
  }, `the informer to route ${name} at ${vmid}`)
  return (p.svc.routes.lookup(vmid) as { uid?: string }).uid ?? ''
}

async function link(name: string, token = writer): Promise<URL> {
  const r = await p.api(`/api/dev/${name}/ide-token`, { method: 'POST', token })
  if (r.status !== 200) throw new Error(`ide-token ${name}: ${r.status} ${r.text}`)
  return new URL(r.json.url)
}

async function redeem(
  u: URL,
  host = u.host,
): Promise<{ status: number; location?: string; cookie?: string; error?: string; body: string }> {
  const r = await send(g.gw, { host, path: u.pathname + u.search })
  return {
    status: r.status,
    location: r.headers.location,
    cookie: sessionCookieOf(r),
    error: r.headers['x-zlh-error'] as string | undefined,
    body: r.body,
  }
}

async function signIn(name: string, token = writer): Promise<string> {
  const r = await redeem(await link(name, token))
  if (r.status !== 302 || !r.cookie) throw new Error(`sign-in to ${name} failed: ${r.status} ${r.body}`)
  return r.cookie
}

const page = (vmid: number, cookie: string, path = '/?folder=/home/dev/workspace') =>
  send(g.gw, { host: g.host(vmid), path, headers: { cookie } })

/** Resolves once the handshake ended: 101 (open, with the 101's Set-Cookie values) or the refusal's status. */
function handshake(ws: WebSocket): Promise<{ status: number; setCookie: string[]; error?: string }> {
  ws.on('error', () => {})
  let setCookie: string[] = []
  return new Promise((resolve) => {
    ws.once('upgrade', (res: IncomingMessage) => {
      setCookie = res.headers['set-cookie'] ?? []
    })
    ws.once('open', () => resolve({ status: 101, setCookie }))
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, setCookie: [], error: res.headers['x-zlh-error'] as string | undefined })
      ws.terminate()
    })
    ws.once('close', () => resolve({ status: 0, setCookie: [] }))
  })
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const got = once(ws, 'message')
  ws.send(text)
  return String((await got)[0])
}

/** Whether `ws` closes within `ms` (bounded: on unfixed code it would stay open). */
async function closesWithin(ws: WebSocket, ms: number): Promise<boolean> {
  if (ws.readyState === ws.CLOSED) return true
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())
  return Promise.race([once(ws, 'close').then(() => true), timer])
}

t.test('(a)+(d) a DevServer deleted and recreated under the same vmid is another DevServer', async (t) => {
  const vmid = 4242
  const firstUid = await readyDevServer('box', vmid)
  const cookie = await signIn('box')
  const unused = await link('box') // minted for the first DevServer, redeemed only after the recreation
  t.equal((await page(vmid, cookie)).status, 200, 'the session works on its DevServer')
  const ws = openWs(g, vmid, { cookie, path: '/terminal' })
  t.equal((await handshake(ws)).status, 101)
  t.equal(await echo(ws, 'ls'), 'ls', 'a terminal is open')

  await p.env.client.delete(DEVSERVER, 'box', 'default')
  await waitFor(() => p.svc.routes.lookup(vmid) === undefined, 'the route to go with the DevServer')
  t.ok(await closesWithin(ws, 5000), 'the open WebSocket does not outlive the deletion')

  const secondUid = await readyDevServer('box', vmid, firstUid)
  t.not(secondUid, firstUid, 'the informer routes the new DevServer (new uid) at the same vmid')
  const seen = up.requests.length
  const replay = await page(vmid, cookie)
  t.equal(replay.status, 401, 'HTTP: the old cookie is refused')
  t.equal(replay.headers['x-zlh-error'], 'ZLH_GW_IDE_SESSION_ENDED')
  t.equal(replay.headers['set-cookie'], undefined, 'and not renewed')
  const upgrade = await handshake(openWs(g, vmid, { cookie, path: '/terminal' }))
  t.equal(upgrade.status, 401, 'WebSocket: the old cookie is refused')
  t.equal(upgrade.error, 'ZLH_GW_IDE_SESSION_ENDED')
  t.equal(up.requests.length, seen, 'nothing reached the new DevServer')

  const old = await redeem(unused)
  t.equal(old.status, 401, '(d) a link minted for the old DevServer is refused')
  t.equal(old.error, 'ZLH_GW_IDE_TOKEN_INVALID')
  t.equal(old.cookie, undefined, 'no cookie')
  t.match(old.body, /was deleted/)

  // Control: the new DevServer opens with a link minted for it.
  const fresh = await signIn('box')
  t.equal((await page(vmid, fresh)).status, 200, 'a new link opens the new DevServer')
})

t.test('(b) revoking the portal token that opened a session ends it, open WebSockets included', async (t) => {
  const vmid = 4243
  await readyDevServer('rev', vmid)
  const minted = await p.svc.tokens.issue('alice', ['servers:read', 'ide'])
  const cookie = await signIn('rev', minted.token)
  const unused = await link('rev', minted.token)
  const other = await signIn('rev') // opened through another token: unaffected
  t.equal((await page(vmid, cookie)).status, 200)
  const ws = openWs(g, vmid, { cookie, path: '/terminal' })
  t.equal((await handshake(ws)).status, 101)
  t.equal(await echo(ws, 'whoami'), 'whoami')

  const admin = await p.token('admin')
  t.equal((await p.api(`/api/tokens/${minted.id}`, { method: 'DELETE', token: admin })).status, 204, 'revoked through the portal API')
  t.ok(await closesWithin(ws, 5000), 'the open WebSocket is closed')
  const after = await page(vmid, cookie)
  t.equal(after.status, 401, 'the next HTTP request is refused')
  t.equal(after.headers['x-zlh-error'], 'ZLH_GW_IDE_SESSION_ENDED')
  t.match(after.body, /revoked/)
  const upgrade = await handshake(openWs(g, vmid, { cookie, path: '/terminal' }))
  t.equal(upgrade.status, 401, 'a new WebSocket is refused')
  const late = await redeem(unused)
  t.equal(late.status, 401, 'a link it minted and nobody used is refused')
  t.equal(late.cookie, undefined)
  t.equal((await page(vmid, other)).status, 200, 'a session opened through another token goes on')
})

t.test('(c) redirects take nothing from the Host header: another port does not move them', async (t) => {
  const vmid = 4244
  await readyDevServer('ports', vmid)
  const configured = g.origin(vmid)
  const u = await link('ports')
  t.equal(u.origin, configured, 'the link is built from configuration')
  const r = await redeem(u, `dev-${vmid}.${SUFFIX}:1`)
  t.equal(r.status, 302)
  t.equal(r.location, `${configured}/`, 'the token exchange redirects to the configured origin, not :1')
  const folder = await send(g.gw, { host: `dev-${vmid}.${SUFFIX}:1`, path: '/', headers: { cookie: r.cookie! } })
  t.equal(folder.status, 302)
  t.equal(folder.headers.location, `${configured}/?folder=/home/dev/workspace`, 'so does the workspace redirect')

  // A gateway with no public port configured: the scheme's default, whatever port the Host names.
  const plain = await startGateway({ publicPort: undefined })
  t.teardown(() => plain.gw.close())
  const legacy = await send(plain.gw, { host: 'portal.example:1', path: '/__ide/101' })
  t.equal(legacy.status, 302)
  t.equal(legacy.headers.location, `https://dev-101.${SUFFIX}/`, 'the legacy redirect does not take the port from Host')
})

t.test('(e) a session in use outlives its lifetime, by HTTP or by WebSocket traffic alone; an idle one ends', async (t) => {
  const vmid = 4245
  await readyDevServer('act', vmid)
  const ttlMs = TTL_SECONDS * 1000
  const renewedOf = (r: { headers: { 'set-cookie'?: string[] } }) =>
    (r.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-zlh-ide='))?.split(';')[0]

  // HTTP use: renewed past half-life, and the renewed cookie outlives the first one.
  const c0 = await signIn('act')
  const idle = await signIn('act')
  clockOffsetMs += ttlMs * 0.7
  const r1 = await page(vmid, c0)
  t.equal(r1.status, 200)
  const c1 = renewedOf(r1)
  t.ok(c1, 'renewed past half its lifetime')
  clockOffsetMs += ttlMs * 0.7 // 1.4 × ttl after sign-in
  t.equal((await page(vmid, idle)).status, 401, 'an idle session ends after its lifetime')
  t.equal((await page(vmid, c0)).status, 401, 'so does the superseded cookie value')
  const r2 = await page(vmid, c1!)
  t.equal(r2.status, 200, 'the session in use goes on past its first lifetime')
  const c2 = renewedOf(r2) ?? c1!

  // WebSocket use only: no HTTP request for three lifetimes, traffic on the socket all along.
  const ws = openWs(g, vmid, { cookie: c2, path: '/terminal' })
  t.equal((await handshake(ws)).status, 101)
  for (let i = 0; i < 6; i++) {
    clockOffsetMs += ttlMs * 0.5
    t.equal(await echo(ws, `keystroke ${i}`), `keystroke ${i}`)
  }
  const late = await page(vmid, c2)
  t.equal(late.status, 200, 'an HTTP request with the cookie of a WebSocket-active session is accepted past its expiry')
  t.ok(renewedOf(late), 'and renews it')
  const reconnect = openWs(g, vmid, { cookie: c2, path: '/terminal' })
  const hs = await handshake(reconnect)
  t.equal(hs.status, 101, 'a WebSocket reconnect of the active session works')
  t.ok(
    hs.setCookie.some((c) => c.startsWith('__Host-zlh-ide=')),
    'and its 101 renews the cookie',
  )
  reconnect.close()
  ws.close()
  await closesWithin(ws, 5000)
  await closesWithin(reconnect, 5000)
  clockOffsetMs += ttlMs + 1000
  t.equal((await page(vmid, c2)).status, 401, 'once the traffic stops for a lifetime, the expired cookie is refused')
})
