// IDE sleep and wake under attack (src/gateway/ide/sleep-wake.ts): only a valid session for this
// dev host wakes a DevServer or learns that it sleeps. A forged cookie, a cookie of another
// DevServer's host, a request with no cookie and the status endpoint without one all get exactly
// the refusal an awake DevServer gives, and write nothing; a storm of concurrent requests from a
// valid session is one wake write; the starting page's CSP runs nothing but its own nonce'd script.
import t from 'tap'
import { WAKE_REQUESTED_ANNOTATION } from '../../src/api/index.ts'
import { SESSION_COOKIE_NAME, WAKE_STATUS_PATH } from '../../src/gateway/ide/index.ts'
import { openWs, send, waitFor, type Reply } from '../gateway/fixtures.ts'
import { startSleepEnv } from '../gateway/ide/sleep-env.ts'

const shape = (r: Reply) => ({ status: r.status, code: r.headers['x-zlh-error'], body: r.body })

t.test('without a valid session for this host: the same refusal asleep as awake, and no wake', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('awake', 701, 30)
  await s.devServer('sleepy', 702, 30)
  const sleepyCookie = await s.signIn(702)
  const awakeCookie = await s.signIn(701)
  await s.sleep('sleepy', 702)

  const valid = sleepyCookie.slice(`${SESSION_COOKIE_NAME}=`.length)
  const forged = [
    `${SESSION_COOKIE_NAME}=${valid.slice(0, -4)}AAAA`, // MAC changed
    `${SESSION_COOKIE_NAME}=${valid.replace('v2.702.', 'v2.701.')}`, // vmid edited under the MAC
    `${SESSION_COOKIE_NAME}=garbage`,
  ]
  for (const path of ['/', '/x', WAKE_STATUS_PATH]) {
    const headersFor = (cookie?: string) => (cookie ? { cookie } : undefined)
    for (const cookie of [undefined, ...forged, awakeCookie /* another DevServer's host */]) {
      const asleep = await send(s.svc.gateway, { host: s.host(702), path, headers: headersFor(cookie) })
      const awake = await send(s.svc.gateway, {
        host: s.host(701),
        path,
        headers: headersFor(cookie === awakeCookie ? sleepyCookie : cookie),
      })
      t.same(
        shape(asleep),
        shape(awake),
        `${path} with ${cookie === undefined ? 'no cookie' : cookie.slice(0, 40)}: same answer asleep and awake`,
      )
      t.equal(asleep.status, 401)
    }
  }
  // WebSocket upgrades without a valid session: the usual 401, not the sleeping 503.
  for (const cookie of [undefined, forged[0], awakeCookie]) {
    const status = await new Promise<number>((resolve) => {
      const ws = openWs({ gw: s.svc.gateway } as never, 702, { cookie, origin: s.origin(702) })
      ws.once('unexpected-response', (_q, res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      ws.once('open', () => resolve(101))
      ws.once('error', () => {})
    })
    t.equal(status, 401, 'upgrade refused as unauthenticated')
  }
  t.equal(s.wakeWrites('sleepy').length, 0, 'nothing woke it')
  t.equal((await s.get('sleepy')).metadata.annotations?.[WAKE_REQUESTED_ANNOTATION], undefined)
})

t.test('many concurrent waking requests → one annotation write', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 711, 30)
  const cookie = await s.signIn(711)
  await s.sleep('box', 711)
  const replies = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      send(s.svc.gateway, { host: s.host(711), path: i % 4 === 3 ? WAKE_STATUS_PATH : `/?n=${i}`, headers: { cookie } }),
    ),
  )
  t.ok(
    replies.every((r) => r.status === 503 || r.status === 200),
    'pages and statuses',
  )
  await waitFor(() => s.wakeWrites('box').length >= 1, 'the wake write')
  await waitFor(
    () => s.svc.informers.devs.store.getByName('box', 'default')?.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION] !== undefined,
    'the informer to see it',
  )
  await Promise.all(Array.from({ length: 10 }, () => send(s.svc.gateway, { host: s.host(711), path: '/', headers: { cookie } })))
  t.equal(s.wakeWrites('box').length, 1, 'exactly one write for 50 requests')
})

t.test('a session token redeemed on a sleeping DevServer: token → cookie → redirect first, then the page', async (t) => {
  const s = await startSleepEnv(t)
  await s.devServer('box', 721, 30)
  await s.sleep('box', 721)
  const { token } = s.svc.gateway.mintIdeToken(721, 'alice', { apiTokenId: null })
  const redeem = await send(s.svc.gateway, { host: s.host(721), path: `/?token=${token}` })
  t.equal(redeem.status, 302, 'the usual exchange')
  t.equal(s.wakeWrites('box').length, 0, 'redeeming alone does not wake (the redirected request does)')
  const cookie = redeem.headers['set-cookie']![0]!.split(';')[0]!
  const page = await send(s.svc.gateway, { host: s.host(721), path: new URL(redeem.headers.location!).pathname, headers: { cookie } })
  t.equal(page.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_WAKING')
  t.notMatch(page.body, new RegExp(token), 'the token is not on the page')
  const csp = String(page.headers['content-security-policy'])
  t.notMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'no unsafe sources')
  t.match(csp, /frame-ancestors 'none'/)
  await waitFor(() => s.wakeWrites('box').length === 1, 'the wake write')
})

t.test('the name shown on the page is escaped', async (t) => {
  const { sendWakePage } = await import('../../src/gateway/ide/wake-page.ts')
  let body = ''
  const res = {
    writeHead: () => res,
    end: (b?: string) => {
      body = b ?? ''
    },
  }
  sendWakePage(
    res as never,
    '<img src=x onerror=alert(1)>',
    { state: 'asleep', phase: '"><script>', message: '<b>x</b>', ready: false },
    false,
  )
  t.notMatch(body, /<img|"><script>|<b>x/)
})
