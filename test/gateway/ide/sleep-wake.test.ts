// IDE sleep and wake through the real gateway service against the embedded API server, with the
// DevServer's status written by the test the way the controller writes it: activity annotations
// from HTTP requests and WebSocket frames, the starting page and its status endpoint, the wake
// annotation, refused upgrades while asleep, and landing once Ready and the upstream answers.
import t from 'tap'
import { LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION } from '../../../src/api/index.ts'
import { WAKE_STATUS_PATH } from '../../../src/gateway/ide/index.ts'
import { openWs, send, waitFor } from '../fixtures.ts'
import { condition, startSleepEnv } from './sleep-env.ts'

t.test('HTTP requests and WebSocket frames are activity; DevServers without spec.idle are not written', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('idle', 501, 5)
  await s.devServer('plain', 502)
  const idleCookie = await s.signIn(501)
  const plainCookie = await s.signIn(502)

  t.equal((await send(s.svc.gateway, { host: s.host(502), path: '/x', headers: { cookie: plainCookie } })).status, 200)
  t.equal((await send(s.svc.gateway, { host: s.host(501), path: '/x', headers: { cookie: idleCookie } })).status, 200)
  await waitFor(() => s.activityWrites('idle').length === 1, 'the activity write of "idle"')
  const first = (await s.get('idle')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION]
  t.ok(first && Math.abs(Date.parse(first) - Date.now()) < 10_000, `last-activity is now: ${first}`)
  t.equal(s.patches.at(-1)!.body.metadata?.uid, (await s.get('idle')).metadata.uid, 'the write is bound to the uid')
  for (let i = 0; i < 20; i++) await send(s.svc.gateway, { host: s.host(501), path: `/x${i}`, headers: { cookie: idleCookie } })
  t.ok(s.activityWrites('idle').length <= 2, `20 requests within the interval: ${s.activityWrites('idle').length} writes`)

  // WebSocket frames: keep sending until the annotation moves (interval 5 s / 3).
  const ws = openWs({ gw: s.svc.gateway } as never, 501, { cookie: idleCookie, origin: s.origin(501) })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const before = s.activityWrites('idle').length
  const until = Date.now() + 15_000
  while (s.activityWrites('idle').length < before + 2 && Date.now() < until) {
    ws.send('ping')
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(s.activityWrites('idle').length >= before + 2, 'frames on the proxied WebSocket keep writing activity, once per interval')
  ws.close()
  const latest = (await s.get('idle')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION]
  t.ok(Date.parse(latest!) > Date.parse(first!), 'the annotation moved forward')

  t.equal(s.activityWrites('plain').length, 0, 'a DevServer without spec.idle is never patched')
  t.equal((await s.get('plain')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION], undefined)
})

t.test('a sleeping DevServer: the starting page wakes it, follows progress and lands when Ready', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 601, 30)
  const cookie = await s.signIn(601)
  const since = await s.sleep('box', 601)

  const page = await send(s.svc.gateway, { host: s.host(601), path: '/', headers: { cookie } })
  t.equal(page.status, 503)
  t.equal(page.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_WAKING')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.body, /Waking up box/)
  t.match(page.body, /asleep: no IDE traffic/, 'the Ready message is shown')
  const csp = String(page.headers['content-security-policy'])
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce, `CSP with a script nonce: ${csp}`)
  t.match(csp, /default-src 'none'/)
  t.match(csp, /connect-src 'self'/)
  t.equal(page.body.match(/<script/g)?.length, 1, 'one script')
  t.match(page.body, new RegExp(`<script nonce="${nonce!.replace(/[+/=]/g, (c) => `\\${c}`)}">`), 'the script carries the nonce')
  t.notMatch(page.body, /<script src=|https?:\/\//, 'nothing from outside')
  const other = await send(s.svc.gateway, { host: s.host(601), path: '/', headers: { cookie } })
  t.not(/nonce-([^']+)/.exec(String(other.headers['content-security-policy']))?.[1], nonce, 'a fresh nonce per page')

  await waitFor(() => s.wakeWrites('box').length >= 1, 'the wake write')
  const requested = (await s.get('box')).metadata.annotations?.[WAKE_REQUESTED_ANNOTATION]
  t.ok(requested && Date.parse(requested) > Date.parse(since), `wake-requested ${requested} is later than sleep.since ${since}`)
  await waitFor(
    () => s.svc.informers.devs.store.getByName('box', 'default')?.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION] !== undefined,
    'the informer to see the wake annotation',
  )
  await send(s.svc.gateway, { host: s.host(601), path: '/', headers: { cookie } })
  t.equal(s.wakeWrites('box').length, 1, 'opening it again while asleep asks no second time')

  const status = async () => {
    const r = await send(s.svc.gateway, { host: s.host(601), path: WAKE_STATUS_PATH, headers: { cookie } })
    t.equal(r.status, 200)
    t.equal(r.headers['cache-control'], 'no-store')
    return JSON.parse(r.body)
  }
  t.match(await status(), { state: 'asleep', phase: 'Sleeping', landing: false, ready: false })

  // Upgrades are refused while asleep, with a clear status.
  const refused = await new Promise<{ status: number; code?: string }>((resolve) => {
    const ws = openWs({ gw: s.svc.gateway } as never, 601, { cookie, origin: s.origin(601) })
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode!, code: res.headers['x-zlh-error'] as string })
      res.resume()
    })
    ws.once('open', () => resolve({ status: 101 }))
    ws.once('error', () => {})
  })
  t.same(refused, { status: 503, code: 'ZLH_GW_IDE_DEVSERVER_SLEEPING' })
  const post = await send(s.svc.gateway, { host: s.host(601), path: '/x', method: 'POST', headers: { cookie, origin: s.origin(601) } })
  t.equal(post.status, 503)
  t.equal(post.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_SLEEPING')

  // The controller wakes it: sleep cleared, starting, not Ready yet.
  await s.setStatus('box', {
    phase: 'Starting',
    sleep: null,
    conditions: [condition('Ready', 'False', 'Starting', 'starting code-server', new Date(Date.parse(since)))],
  })
  await waitFor(() => s.svc.informers.devs.store.getByName('box', 'default')?.status?.phase === 'Starting', 'phase Starting')
  t.match(await status(), { state: 'waking', phase: 'Starting', message: 'starting code-server', landing: false })
  const waking = await send(s.svc.gateway, { host: s.host(601), path: '/', headers: { cookie } })
  t.equal(waking.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_WAKING', 'the starting page while waking, too')
  t.equal(s.wakeWrites('box').length, 1, 'no wake write while waking')

  // Ready, but code-server not answering yet: not landing.
  await s.upstream.close()
  await s.setStatus('box', { phase: 'Running', conditions: [condition('Ready', 'True', 'Running', 'IDE up')] })
  await waitFor(() => s.svc.routes.lookup(601)?.ready === true, 'Ready')
  t.match(await status(), { state: 'awake', ready: true, landing: false }, 'Ready but the upstream does not answer')
})

t.test('lands once Ready and the upstream answers; the workbench redirect follows', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 602, 30)
  const cookie = await s.signIn(602)
  await s.sleep('box', 602)
  await send(s.svc.gateway, { host: s.host(602), path: '/', headers: { cookie } })
  await s.setStatus('box', { phase: 'Running', sleep: null, conditions: [condition('Ready', 'True', 'Running', 'IDE up')] })
  await waitFor(() => s.svc.routes.lookup(602)?.ready === true, 'Ready')
  const r = await send(s.svc.gateway, { host: s.host(602), path: WAKE_STATUS_PATH, headers: { cookie } })
  t.match(JSON.parse(r.body), { state: 'awake', ready: true, landing: true })
  const home = await send(s.svc.gateway, { host: s.host(602), path: '/', headers: { cookie } })
  t.equal(home.status, 302)
  t.match(home.headers.location, /\/\?folder=/)
  t.equal((await send(s.svc.gateway, { host: s.host(602), path: '/?folder=/home/dev/workspace', headers: { cookie } })).status, 200)
})

t.test('a DevServer unready for another reason after a wake gets the usual not-ready page', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 603, 30)
  const cookie = await s.signIn(603)
  await s.sleep('box', 603)
  await send(s.svc.gateway, { host: s.host(603), path: '/', headers: { cookie } })
  await waitFor(() => s.wakeWrites('box').length === 1, 'the wake write')
  const later = new Date(Date.now() + 2000)
  await s.setStatus('box', {
    phase: 'Crashed',
    sleep: null,
    conditions: [condition('Ready', 'False', 'Crashed', 'code-server exited', later)],
  })
  await waitFor(() => s.svc.informers.devs.store.getByName('box', 'default')?.status?.phase === 'Crashed', 'phase Crashed')
  const r = await send(s.svc.gateway, { host: s.host(603), path: '/x', headers: { cookie } })
  t.equal(r.status, 503)
  t.equal(r.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_NOT_READY')
})

t.test('the portal hands out a link for a sleeping DevServer; the link opens the starting page and wakes it', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 604, 30)
  await s.sleep('box', 604)
  const { token } = await s.svc.tokens.issue('alice', ['ide'])
  const r = await fetch(`${s.svc.gateway.url}/api/dev/box/ide-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  })
  t.equal(r.status, 200, 'a link, although the DevServer is not Ready (opening it wakes it)')
  const link = new URL(((await r.json()) as { url: string }).url)
  const redeem = await send(s.svc.gateway, { host: link.host, path: link.pathname + link.search })
  t.equal(redeem.status, 302)
  const cookie = redeem.headers['set-cookie']![0]!.split(';')[0]!
  const page = await send(s.svc.gateway, { host: link.host, path: '/', headers: { cookie } })
  t.equal(page.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_WAKING')
  await waitFor(() => s.wakeWrites('box').length === 1, 'the wake write')
  // Stopped (not asleep) and not Ready: still no link.
  await s.setStatus('box', { phase: 'Stopped', sleep: null })
  await waitFor(() => s.svc.informers.devs.store.getByName('box', 'default')?.status?.phase === 'Stopped', 'Stopped')
  const stopped = await fetch(`${s.svc.gateway.url}/api/dev/box/ide-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  })
  t.equal(stopped.status, 409, 'a stopped DevServer gets no link')
})
