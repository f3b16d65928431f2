// A DevServer that sleeps when nobody uses its IDE and wakes from its IDE URL, in Chromium, through
// the real controller (a child process, as its ServiceAccount) on the process provider with the
// code-server STAND-IN (test/e2e/code-server-stand-in.ts), and the gateway service in-process as
// the zlh-gateway ServiceAccount over TLS from a test CA:
// 1. DevServer with spec.idle.stopAfterSeconds small → Ready → the IDE link opens the stand-in's
//    page in Chromium; the gateway records the traffic (last-activity annotation).
// 2. Nobody uses it → the controller stops the container → phase Sleeping.
// 3. The IDE URL again → the starting page (the wake annotation written, progress polled from
//    /__zlh/wake-status) → the page lands in the workbench (`/?folder=…`) by itself, no reload
//    by the test.
// Teardown: Chromium closed, the gateway closed, the harness deletes the DevServer through the
// controller and removes its state dir.
import t from 'tap'
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION } from '../../src/api/index.ts'
import { startGatewayService } from '../../src/gateway/service.ts'
import { CHROMIUM, launchChromium } from '../gateway/browser-fixture.ts'
import { SUFFIX } from '../gateway/fixtures.ts'
import { createTestTls } from '../gateway/tls-fixture.ts'
import { buildArtifacts, condition, startE2E } from './harness.ts'

t.setTimeout(10 * 60_000)

/** Long enough to open the IDE after Ready, short enough to wait for. */
const STOP_AFTER_SECONDS = 15
const NAME = 'sleepy'

t.test(
  'a DevServer sleeps when its IDE is idle and wakes in Chromium from its IDE URL',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium` },
  async (t) => {
    const art = await buildArtifacts(t)
    const e = await startE2E(t, art)
    t.teardown(() => {
      if (!t.passing()) console.error(e.logs().split('\n').slice(-80).join('\n'))
    })
    await e.startController()
    const tls = await createTestTls(SUFFIX)
    const gw = await startGatewayService({
      client: e.gatewayClient(),
      listen: '127.0.0.1:0',
      ideSuffix: SUFFIX,
      tls: { key: tls.key, cert: tls.cert },
      publicScheme: 'https',
      publicPort: 'listen',
    })
    t.teardown(() => gw.close())
    const browser: Browser = await launchChromium(tls.spkiSha256)
    t.teardown(() => browser.close())
    const page = await (await browser.newContext()).newPage()

    // 1. Ready, and the IDE opened while it is in use.
    await e.apply({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'DevServer',
      metadata: { name: NAME, namespace: 'default' },
      spec: { runtimes: [], codeServer: { enabled: true }, idle: { stopAfterSeconds: STOP_AFTER_SECONDS } },
    })
    const ready = await e.waitFor(
      'Ready',
      'devserver',
      NAME,
      (o: any) => condition(o, 'Ready')?.status === 'True' && o.status?.ide?.upstream !== undefined,
      240_000,
    )
    const vmid: number = ready.status.vmid
    await waitUntil(() => gw.routes.lookup(vmid)?.ready === true, 'the gateway to route the IDE', 30_000)
    const { url } = gw.gateway.mintIdeToken(vmid, 'alice', { apiTokenId: null })
    const origin = new URL(url).origin
    const first = await page.goto(url, { waitUntil: 'load', timeout: 60_000 })
    t.equal(first?.status(), 200, 'the IDE (stand-in) page loads')
    t.equal(await page.title(), 'code-server stand-in', 'the stand-in answered')
    const used = await e.waitFor(
      'last-activity',
      'devserver',
      NAME,
      (o: any) => !!o.metadata.annotations?.[LAST_ACTIVITY_ANNOTATION],
      30_000,
    )
    t.ok(used.metadata.annotations[LAST_ACTIVITY_ANNOTATION], 'the gateway recorded the IDE traffic on the DevServer')

    // 2. Idle → asleep.
    const asleep = await e.waitFor('Sleeping', 'devserver', NAME, (o: any) => o.status?.phase === 'Sleeping', 180_000)
    t.equal(asleep.status.sleep?.level, 'container', 'the container sleeps')
    t.ok(
      Date.parse(asleep.status.sleep.since) - Date.parse(used.metadata.annotations[LAST_ACTIVITY_ANNOTATION]) >=
        STOP_AFTER_SECONDS * 1000 - 1000,
      'not before stopAfterSeconds without IDE traffic',
    )

    // 3. The IDE URL again: the starting page, progress, and the workbench without a manual reload.
    const statuses: Array<{ state?: string; phase?: string; landing?: boolean }> = []
    page.on('response', (r) => {
      if (r.url().endsWith('/__zlh/wake-status'))
        void r.json().then(
          (s) => statuses.push(s),
          () => {},
        )
    })
    const documents: Array<{ url: string; status: number }> = []
    page.on('response', (r) => {
      if (r.request().resourceType() === 'document') documents.push({ url: r.url(), status: r.status() })
    })
    const wakeStarted = Date.now()
    const starting = await page.goto(`${origin}/`, { waitUntil: 'load', timeout: 60_000 })
    t.equal(starting?.status(), 503, 'the starting page (503: the IDE is not there yet)')
    t.equal(starting?.headers()['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_WAKING', 'its code names it')
    t.match(await page.textContent('h1'), /Waking up sleepy/, 'it says what is happening')
    // Waited for from outside the page: the starting page's CSP allows no evaluated script.
    await page.waitForURL(/\/\?folder=/, { timeout: 240_000, waitUntil: 'load' })
    t.equal(await page.title(), 'code-server stand-in', 'the IDE page is back')
    t.match(page.url(), new RegExp(`^${origin}/\\?folder=`), 'landed in the workbench (/?folder=…)')
    t.comment(`IDE URL opened → workbench: ${((Date.now() - wakeStarted) / 1000).toFixed(1)} s (process provider, code-server stand-in)`)
    t.ok(statuses.length > 0, `the page followed progress (${statuses.map((s) => `${s.state}/${s.phase}`).join(', ')})`)
    t.ok(
      statuses.some((s) => s.state === 'asleep' || s.state === 'waking'),
      'it saw the DevServer asleep or waking',
    )
    // The last answer (landing: true) is read by the page, which reloads at once: its body may be
    // gone before this listener reads it, so the reload is checked on the navigations below.
    t.same(
      documents.map((d) => d.status),
      [503, 302, 200],
      `one navigation by the test, then the page's own reload: ${documents.map((d) => `${d.status} ${d.url}`).join(', ')}`,
    )
    const woke = await e.get('devserver', NAME)
    t.ok(
      Date.parse(woke.metadata.annotations[WAKE_REQUESTED_ANNOTATION]) > Date.parse(asleep.status.sleep.since),
      'woken by the wake request',
    )
    t.equal(woke.status.sleep, undefined, 'status.sleep cleared')
    const events = JSON.parse(
      await e.h.k('get', 'events', '--field-selector', `involvedObject.name=${NAME},reason=Woke`, '-o', 'json'),
    ).items
    t.match(events[0]?.message, /wake request/, 'a Woke Event names the wake request')
  },
)

async function waitUntil(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
