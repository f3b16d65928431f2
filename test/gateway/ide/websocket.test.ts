// WebSocket proxying: both directions, ping/pong, close codes each way, one side closing takes
// the other with it, no socket left open, and every upgrade defence (Origin, cookie, host, route).
import t from 'tap'
import { once } from 'node:events'
import type { WebSocket } from 'ws'
import { numOpenSockets } from 'http-proxy-3'
import { openWs, signIn, startGateway, startUpstream, waitFor, type TestGateway, type Upstream } from '../fixtures.ts'

let up: Upstream
let g: TestGateway
let cookie: string
t.before(async () => {
  up = await startUpstream()
  g = await startGateway()
  g.routes.set(201, { address: up.address, ready: true, name: 'a', namespace: 'n', uid: 'uid-1' })
  g.routes.set(202, { address: up.address, ready: true, name: 'b', namespace: 'n', uid: 'uid-1' })
  cookie = await signIn(g, 201)
})
t.teardown(async () => {
  await g.gw.close()
  await up.close()
})

const opened = async (ws: WebSocket) => {
  await once(ws, 'open')
  return ws
}
const allClosed = () =>
  waitFor(() => g.gw.openWebSockets === 0 && up.wss.clients.size === 0 && numOpenSockets() === 0, 'every proxied socket to close')

/** The HTTP status a refused upgrade answered with, and its error code. */
function refusal(ws: WebSocket): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode!, code: res.headers['x-zlh-error'] as string | undefined })
      res.resume()
    })
    ws.on('open', () => reject(new Error('upgrade was accepted')))
    ws.on('error', () => {})
  })
}

t.test('messages both ways, text and binary, on any path; upstream sees the dev host', async (t) => {
  const ws = await opened(
    openWs(g, 201, {
      cookie: `${cookie}; other=1`,
      path: '/stable-abc/vscode-remote-resource?reconnectionToken=x',
      headers: { forwarded: 'host=evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '6.6.6.6' },
    }),
  )
  const upgrade = up.requests.at(-1)!
  t.equal(upgrade.url, '/stable-abc/vscode-remote-resource?reconnectionToken=x')
  t.equal(upgrade.headers.host, g.host(201))
  t.equal(upgrade.headers.origin, g.origin(201), 'code-server compares Origin host with Host / X-Forwarded-Host')
  t.equal(upgrade.headers['x-forwarded-host'], g.host(201))
  t.equal(upgrade.headers.cookie, 'other=1', 'zlh cookie stripped')
  t.equal(upgrade.headers.forwarded, undefined, 'client Forwarded dropped (code-server would prefer its host)')
  t.equal(upgrade.headers['x-forwarded-for'], '127.0.0.1')
  ws.send('hello')
  t.equal(String((await once(ws, 'message'))[0]), 'hello')
  ws.send(Buffer.from([0, 1, 2, 255]))
  const [data, isBinary] = await once(ws, 'message')
  t.ok(isBinary)
  t.same([...(data as Buffer)], [0, 1, 2, 255])
  ws.close()
  await once(ws, 'close')
  await allClosed()
})

t.test('ping/pong pass through in both directions', async (t) => {
  const ws = await opened(openWs(g, 201, { cookie }))
  ws.ping('from-client')
  t.equal(String((await once(ws, 'pong'))[0]), 'from-client', 'upstream answered the client ping')
  const serverSide = [...up.wss.clients].at(-1)!
  const pinged = once(ws, 'ping')
  serverSide.ping('from-server')
  t.equal(String((await pinged)[0]), 'from-server')
  t.equal(String((await once(serverSide, 'pong'))[0]), 'from-server', 'client answered the upstream ping')
  ws.close()
  await allClosed()
})

t.test('close codes propagate: client → upstream and upstream → client', async (t) => {
  const ws = await opened(openWs(g, 201, { cookie }))
  const n = up.closeCodes.length
  ws.close(4321, 'bye')
  const [code] = await once(ws, 'close')
  t.equal(code, 4321)
  await waitFor(() => up.closeCodes.length > n, 'upstream to see the close')
  t.equal(up.closeCodes.at(-1), 4321)

  const ws2 = await opened(openWs(g, 201, { cookie }))
  ws2.send('close:4002')
  const [code2, reason2] = await once(ws2, 'close')
  t.equal(code2, 4002)
  t.equal(String(reason2), 'asked to')
  await allClosed()
})

t.test('client vanishes → upstream socket closed; upstream vanishes → client closed', async (t) => {
  const ws = await opened(openWs(g, 201, { cookie }))
  await waitFor(() => up.wss.clients.size === 1, 'upstream connection')
  ws.terminate()
  await allClosed()

  const ws2 = await opened(openWs(g, 201, { cookie }))
  await waitFor(() => up.wss.clients.size === 1, 'upstream connection')
  ;[...up.wss.clients][0]!.terminate()
  const [code] = await once(ws2, 'close')
  t.equal(code, 1006, 'abnormal closure seen by the client')
  await allClosed()
})

t.test('upgrade defences: Origin, cookie, host, route', async (t) => {
  const cases: Array<[string, WebSocket, number, string]> = [
    ['no Origin', openWs(g, 201, { cookie, origin: null }), 403, 'ZLH_GW_IDE_ORIGIN_MISMATCH'],
    ['sibling dev host Origin', openWs(g, 201, { cookie, origin: g.origin(202) }), 403, 'ZLH_GW_IDE_ORIGIN_MISMATCH'],
    ['foreign Origin', openWs(g, 201, { cookie, origin: 'https://evil.example' }), 403, 'ZLH_GW_IDE_ORIGIN_MISMATCH'],
    ['no cookie', openWs(g, 201, {}), 401, 'ZLH_GW_IDE_SESSION_REQUIRED'],
    ['other dev host cookie', openWs(g, 202, { cookie }), 401, 'ZLH_GW_IDE_SESSION_REQUIRED'],
    ['a token in the URL', openWs(g, 201, { cookie, path: '/?token=abc' }), 405, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED'],
  ]
  const before = up.requests.length
  for (const [name, ws, status, code] of cases) {
    const r = await refusal(ws)
    t.equal(r.status, status, name)
    t.equal(r.code, code, name)
  }
  g.routes.set(203, { address: up.address, ready: true, name: 'c', namespace: 'n', uid: 'uid-1' })
  const c203 = await signIn(g, 203)
  g.routes.set(203, { address: up.address, ready: false, name: 'c', namespace: 'n', uid: 'uid-1' })
  t.equal((await refusal(openWs(g, 203, { cookie: c203 }))).status, 503, 'not ready')
  g.routes.delete(203)
  t.equal((await refusal(openWs(g, 203, { cookie: c203 }))).status, 404, 'unknown dev server')
  t.equal(up.requests.length, before, 'no refused upgrade reached the upstream')
  await allClosed()
})

t.test('upstream down → 502 on upgrade, no socket left', async (t) => {
  const dead = await startUpstream()
  const addr = dead.address
  await dead.close()
  g.routes.set(204, { address: addr, ready: true, name: 'd', namespace: 'n', uid: 'uid-1' })
  const c204 = await signIn(g, 204)
  const r = await refusal(openWs(g, 204, { cookie: c204 }))
  t.equal(r.status, 502)
  t.equal(r.code, 'ZLH_GW_IDE_UPSTREAM_UNAVAILABLE')
  await allClosed()
})

t.test('closing the gateway closes proxied WebSockets', async (t) => {
  const local = await startGateway()
  local.routes.set(201, { address: up.address, ready: true, name: 'a', namespace: 'n', uid: 'uid-1' })
  const c = await signIn(local, 201)
  const ws = await opened(openWs(local, 201, { cookie: c }))
  t.equal(local.gw.openWebSockets, 1)
  const closed = once(ws, 'close')
  await local.gw.close()
  await closed
  await waitFor(() => up.wss.clients.size === 0, 'upstream side to close')
})
