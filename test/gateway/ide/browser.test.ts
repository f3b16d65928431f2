// The IDE flow in a real browser: Debian's Chromium (playwright-core) over TLS from a test CA,
// `*.zlh.test` mapped to 127.0.0.1. Token → cookie → redirects → page, a WebSocket echo used from
// the page through the proxy, the cookie's attributes as the browser stored them, and a second dev
// host that cannot use the first one's cookie.
import t from 'tap'
import { existsSync } from 'node:fs'
import type { Test } from 'tap'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, launchChromium } from '../browser-fixture.ts'
import { startGateway, startUpstream, SUFFIX, type TestGateway, type Upstream } from '../fixtures.ts'
import type { GatewayOptions } from '../../../src/gateway/index.ts'
import { createTestTls } from '../tls-fixture.ts'

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`

/** A TLS gateway (extra options as given), an upstream standing in for code-server, Chromium trusting
 * the test CA, and a fresh page; all closed when `t` ends. */
async function startBrowserFlow(
  t: Test,
  gatewayOptions: Partial<GatewayOptions> = {},
): Promise<{ up: Upstream; g: TestGateway; browser: Browser; context: BrowserContext; page: Page }> {
  const tls = await createTestTls(SUFFIX)
  const up = await startUpstream()
  const g = await startGateway({ tls: { key: tls.key, cert: tls.cert }, ...gatewayOptions })
  const browser = await launchChromium(tls.spkiSha256)
  t.teardown(async () => {
    await browser.close()
    await g.gw.close()
    await up.close()
  })
  const context = await browser.newContext()
  return { up, g, browser, context, page: await context.newPage() }
}

t.test('IDE flow in Chromium', { skip, timeout: 120_000 }, async (t) => {
  const { up, g, context, page } = await startBrowserFlow(t)
  g.routes.set(401, { address: up.address, ready: true, name: 'alice-dev', namespace: 'team-a', uid: 'uid-1' })
  g.routes.set(402, { address: up.address, ready: true, name: 'bob-dev', namespace: 'team-b', uid: 'uid-1' })

  // 1. The link the portal hands out.
  const { url } = g.gw.mintIdeToken(401, 'alice', { apiTokenId: null })
  const chain: Array<{ url: string; status: number; referrerPolicy?: string }> = []
  page.on('response', (r) => chain.push({ url: r.url(), status: r.status(), referrerPolicy: r.headers()['referrer-policy'] }))
  const final = await page.goto(url, { waitUntil: 'load' })
  t.equal(final?.status(), 200, 'the page came from the upstream')
  t.equal(page.url(), `${g.origin(401)}/?folder=/home/dev/workspace`)
  const docs = chain.filter((r) => !r.url.includes('/ws-echo'))
  t.same(
    docs.map((r) => [r.url, r.status]),
    [
      [url, 302],
      [`${g.origin(401)}/`, 302],
      [`${g.origin(401)}/?folder=/home/dev/workspace`, 200],
    ],
    'token URL → same URL without token → folder → page',
  )
  t.equal(docs[0]!.referrerPolicy, 'no-referrer')

  // 2. The page's own WebSocket, through the proxy, echoed and closed with its code.
  await page.waitForFunction("document.title.startsWith('closed:')", undefined, { timeout: 30_000 })
  t.equal(await page.textContent('#out'), 'echo:hello from the page')
  t.equal(await page.title(), 'closed:4001')
  t.match(up.requests.find((r) => r.url === '/ws-echo?x=1')?.headers, { origin: g.origin(401), host: g.host(401) })

  // 3. The cookie as the browser stored it.
  const cookies = await context.cookies()
  t.equal(cookies.length, 1)
  const c = cookies[0]!
  t.equal(c.name, '__Host-zlh-ide')
  t.equal(c.domain, `dev-401.${SUFFIX}`, 'host-only: no Domain attribute')
  t.equal(c.path, '/')
  t.equal(c.secure, true)
  t.equal(c.httpOnly, true)
  t.equal(c.sameSite, 'Lax')
  t.ok(c.expires > Date.now() / 1000 + 3600, 'expires (renewable) rather than a session cookie')
  t.notOk(await page.evaluate("document.cookie.includes('zlh')"), 'not readable from page script')

  // 4. A second dev host: the browser does not send the cookie there, and a copy does not work.
  const other = await page.goto(`${g.origin(402)}/`)
  t.equal(other?.status(), 401, 'no session on the sibling dev host')
  t.equal(other?.headers()['x-zlh-error'], 'ZLH_GW_IDE_SESSION_REQUIRED')
  await context.addCookies([{ name: c.name, value: c.value, url: `${g.origin(402)}/`, secure: true, httpOnly: true, sameSite: 'Lax' }])
  t.equal((await context.cookies(`${g.origin(402)}/`)).filter((x) => x.value === c.value).length, 1, 'the copy is in the jar for dev-402')
  const copied = await page.goto(`${g.origin(402)}/`)
  t.equal(copied?.status(), 401, 'a cookie value bound to vmid 401 does not open vmid 402')
  // A sibling page cannot plant a cookie for dev-401 either (__Host- forbids Domain).
  await page.evaluate(`document.cookie = '__Host-zlh-ide=x; Domain=${SUFFIX}; Path=/; Secure'`)
  t.equal((await context.cookies(`${g.origin(401)}/`)).filter((x) => x.value === 'x').length, 0)

  // 5. The original dev host still works; a replayed link does not.
  t.equal((await page.goto(`${g.origin(401)}/?folder=/home/dev/workspace`))?.status(), 200)
  const replay = await page.goto(url)
  t.equal(replay?.status(), 401)
  t.equal(replay?.headers()['x-zlh-error'], 'ZLH_GW_IDE_TOKEN_INVALID')
  await context.close()
})

t.test(
  'Chromium keeps the cookie a WebSocket 101 renews: a session used only through WebSockets stays signed in',
  { skip, timeout: 120_000 },
  async (t) => {
    let offsetMs = 0
    const ttlSeconds = 600
    const { up, g, context, page } = await startBrowserFlow(t, { sessionTtlSeconds: ttlSeconds, clock: () => Date.now() + offsetMs })
    g.routes.set(403, { address: up.address, ready: true, name: 'ws-only', namespace: 'team-a', uid: 'uid-403' })
    t.equal((await page.goto(g.gw.mintIdeToken(403, 'alice', { apiTokenId: null }).url, { waitUntil: 'load' }))?.status(), 200)
    await page.waitForFunction("document.title.startsWith('closed:')", undefined, { timeout: 30_000 })
    const before = (await context.cookies(`${g.origin(403)}/`)).find((c) => c.name === '__Host-zlh-ide')!.value
    // Past half the lifetime, with no HTTP request: only a WebSocket handshake from the open page.
    offsetMs += ttlSeconds * 600
    const opened = await page.evaluate(`new Promise((resolve) => {
    const ws = new WebSocket('wss://' + location.host + '/ws-echo?again=1')
    ws.onopen = () => { ws.close(1000); resolve('open') }
    ws.onerror = () => resolve('error')
  })`)
    t.equal(opened, 'open')
    const after = (await context.cookies(`${g.origin(403)}/`)).find((c) => c.name === '__Host-zlh-ide')!.value
    t.not(after, before, 'the renewed cookie from the 101 replaced the old one in the browser')
    offsetMs += ttlSeconds * 600 // the first cookie has expired now; the renewed one has not
    t.equal((await page.goto(`${g.origin(403)}/?folder=/home/dev/workspace`))?.status(), 200, 'the page still loads')
    await context.close()
  },
)

t.test(
  "Chromium opens the route's workspace folder, URL-encoded, and code-server receives it intact",
  { skip, timeout: 120_000 },
  async (t) => {
    const { up, g, context, page } = await startBrowserFlow(t)
    // The process provider's layout (under the container's directory), with characters a URL must escape.
    const folder = '/home/a b/.local/state/zlh/containers/404/root/home/dev/work#space&x=1'
    g.routes.set(404, { address: up.address, ready: true, name: 'folder', namespace: 'team-a', uid: 'uid-404', folder })
    t.equal((await page.goto(g.gw.mintIdeToken(404, 'alice', { apiTokenId: null }).url, { waitUntil: 'load' }))?.status(), 200)
    const landed = new URL(page.url())
    t.equal(landed.origin, g.origin(404), 'still on the dev host')
    t.equal(landed.searchParams.get('folder'), folder, "the folder, decoded by the browser, is the route's")
    t.equal(landed.hash, '', 'its # did not become a fragment')
    const seen = up.requests.filter((r) => r.url.startsWith('/?')).map((r) => new URLSearchParams(r.url.slice(2)).get('folder'))
    t.same(seen, [folder], 'code-server was asked for exactly that folder')
    await context.close()
  },
)
