// The web console in Chromium against the system as `npm start` runs it (`zlh up --json` as a
// child process in a temp state dir, process provider), as a person uses it:
//  - sign in with the admin token `zlh up` wrote (Enter submits);
//  - a field error from the API (port 70000) appears next to the port input;
//  - a GameServer created from the form (flying-squid from the catalog on the node runtime)
//    reaches Running in the list without a reload (live from the event stream);
//  - a GameServer whose command exits non-zero shows its crash classification in the list, the
//    same the API reports, and its log tail on expand;
//  - a second tenant (a token for another namespace) signed in in another browser context sees
//    none of the first's servers, not even by URL;
//  - an edit is applied and keeps what the form does not show; a DevServer is created from its
//    form (catalog runtime, code-server unchecked); delete asks first (Escape cancels);
//  - the live list survives a restart of zlh up (reconnects by itself, same session);
//  - sign out ends the session (the cookie is gone).
// The test fails on any browser console error or page error, except the 400 answers the
// field-error step provokes on purpose. Screenshots of each main screen (sign-in, list, form with a
// field error, phone width) go to $ZLH_SCREENSHOTS_DIR when set (docs/screenshots/ in the
// repository), else to a temp dir removed at the end.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { Agent, fetch } from 'undici'
import { stateLayout } from '../../src/cli/state-dir.ts'
import { CHROMIUM, launchChromium } from '../gateway/browser-fixture.ts'
import { spkiSha256OfCert } from '../gateway/workbench-fixture.ts'
import { killProcessesUnder } from './harness.ts'
import { UpProcess } from './up-process.ts'

const RUNNING_TIMEOUT_MS = 8 * 60_000
t.setTimeout(15 * 60_000)

const stateDir = mkdtempSync(join(tmpdir(), 'zlh-console-e2e-'))
const home = mkdtempSync(join(tmpdir(), 'zlh-console-e2e-home-'))
const shotsDir = process.env.ZLH_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'zlh-console-shots-'))
const up = new UpProcess({ stateDir, home })
let browser: Browser | undefined
let dispatcher: Agent | undefined

t.teardown(async () => {
  await browser?.close().catch(() => {})
  if (up.running) await up.kubectl('delete', 'gameservers,devservers', '--all', '-A', '--wait=true', '--timeout=120s')
  await up.stop()
  await dispatcher?.close()
  killProcessesUnder(stateDir)
  rmSync(stateDir, { recursive: true, force: true })
  rmSync(home, { recursive: true, force: true })
  if (!process.env.ZLH_SCREENSHOTS_DIR) rmSync(shotsDir, { recursive: true, force: true })
})

/** A TCP port free on loopback right now (the process provider's games listen on the host). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * Browser console errors and page errors of a page. `expecting(400, fn)` runs `fn` while the
 * "Failed to load resource … 400" lines Chromium prints for API answers it provokes are expected
 * (or, with a RegExp, the lines it matches: connection errors while the gateway is down).
 */
function watchErrors(page: Page, who: string) {
  const errors: string[] = []
  let expected: RegExp | undefined
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (expected?.test(m.text())) return
    errors.push(`${who} console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`${who} page error: ${e.message}`))
  return {
    errors,
    async expecting<T>(what: number | RegExp, fn: () => Promise<T>): Promise<T> {
      expected = typeof what === 'number' ? new RegExp(`status of ${what}\\b`) : what
      try {
        return await fn()
      } finally {
        expected = undefined
      }
    },
  }
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true })
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true })
}

async function signIn(page: Page, gatewayUrl: string, token: string): Promise<void> {
  await page.goto(`${gatewayUrl}/`)
  t.match(page.url(), /\/console\/$/, '/ leads to the console')
  await page.locator('#token').fill(token)
  await page.locator('#token').press('Enter')
  await page.getByRole('heading', { name: 'Servers' }).waitFor({ timeout: 30_000 })
  await page.locator('.live.live').waitFor({ timeout: 30_000 })
}

/** Fills the new-GameServer form (fields left out keep the form's catalog defaults). */
async function fillGameForm(
  page: Page,
  f: { name: string; port: number; pkg?: string; command?: string; args?: string; restart?: string },
) {
  await page.locator('#f-name').fill(f.name)
  if (f.pkg !== undefined) await page.locator('#f-package').selectOption(f.pkg)
  if (f.command !== undefined) await page.locator('#f-command').fill(f.command)
  if (f.args !== undefined) await page.locator('#f-args').fill(f.args)
  if (f.restart !== undefined) await page.locator('#f-restart-policy').selectOption(f.restart)
  await page.locator('#f-port').fill(String(f.port))
}

t.test(
  'npm start → sign in → create, watch Running, crash, tenants, field error, sign out in Chromium',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium` },
  async (t) => {
    const started = Date.now()
    const comment = (s: string): void => {
      t.comment(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`)
    }
    const ready = await up.start(comment)
    const { gatewayUrl } = ready
    comment(`zlh up ready (gateway ${gatewayUrl})`)
    const adminToken = readFileSync(stateLayout(stateDir).adminTokenFile, 'utf8').trim()
    dispatcher = new Agent({ connect: { ca: readFileSync(ready.caFile) } })
    const portal = async (path: string, init: { method?: string; body?: unknown; token?: string; cookie?: string; csrf?: string } = {}) => {
      const headers: Record<string, string> = {}
      if (init.token) headers.authorization = `Bearer ${init.token}`
      if (init.cookie) headers.cookie = init.cookie
      if (init.csrf) headers['x-zlh-csrf'] = init.csrf
      if (init.body !== undefined) headers['content-type'] = 'application/json'
      const r = await fetch(`${gatewayUrl}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        dispatcher,
      })
      return { status: r.status, json: (await r.json().catch(() => undefined)) as any }
    }

    const pki = readFileSync(join(ready.caFile, '..', 'server.crt'))
    browser = await launchChromium(spkiSha256OfCert(pki))
    const contextA: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await contextA.newPage()
    const a = watchErrors(page, 'tenant A')
    try {
      // 1. Sign-in screen, then signed in with the admin token.
      await page.goto(`${gatewayUrl}/`)
      await page.locator('#token').waitFor()
      await shot(page, 'console-sign-in')
      await signIn(page, gatewayUrl, adminToken)
      await page.getByText('No servers yet').waitFor()
      comment('signed in: empty list')
      let loads = 0
      page.on('load', () => loads++)

      // 2. The form: the API's field error lands at the port input.
      await page.getByRole('link', { name: 'New game server' }).click()
      await page.locator('#f-package').waitFor()
      await page.locator('#f-package option[value="flying-squid"]').waitFor({ state: 'attached' })
      t.equal(await page.locator('#f-runtime').inputValue(), 'node', 'the runtime comes from the catalog (node)')
      const port = await freePort()
      await fillGameForm(page, { name: 'web', port: 70000, args: '--offline' })
      await a.expecting(400, async () => {
        await page.locator('#f-port').press('Enter')
        await page.locator('#f-port-error').waitFor({ timeout: 30_000 })
      })
      t.match(await page.locator('#f-port-error').textContent(), /spec\.server\.port/, 'the error names the field')
      t.equal(await page.locator('#f-port').getAttribute('aria-invalid'), 'true')
      t.equal(await page.locator('.field-error').count(), 1, 'only the port input shows an error')
      await page.waitForFunction("document.activeElement?.id === 'f-port'", null, { timeout: 5000 })
      t.pass('focus moved to the field in error')
      await shot(page, 'console-form-field-error')
      comment('field error shown at the port input')

      // 3. Created from the form; Running in the list without a reload.
      await page.locator('#f-port').fill(String(port))
      await page.getByRole('button', { name: 'Create' }).click()
      await page.locator('.server-page[data-server="web"]').waitFor({ timeout: 30_000 })
      await page.getByRole('link', { name: 'Servers', exact: true }).click()
      const web = page.locator('tr[data-server="web"]')
      await web.waitFor()
      comment(`web created; phase ${await web.locator('.phase').textContent()}`)
      await web.locator('.phase', { hasText: 'Running' }).waitFor({ timeout: RUNNING_TIMEOUT_MS })
      t.equal(loads, 0, 'the page was never reloaded: the phase came from the event stream')
      t.equal(await web.locator('.ready').textContent(), 'yes')
      t.match(await web.locator('.address').textContent(), /\S/, 'the address is shown')
      comment('web Running in the list')

      // 4. A command that exits non-zero: its crash classification in the list, as the API says.
      await page.getByRole('link', { name: 'New game server' }).click()
      await page.locator('#f-package option[value="flying-squid"]').waitFor({ state: 'attached' })
      await fillGameForm(page, {
        name: 'crashy',
        port: await freePort(),
        pkg: '',
        command: 'node',
        args: `-e "console.error('boom: world file is corrupt'); process.exit(3)"`,
        restart: 'Never',
      })
      await page.getByRole('button', { name: 'Create' }).click()
      await page.locator('.server-page[data-server="crashy"]').waitFor({ timeout: 30_000 })
      await page.getByRole('link', { name: 'Servers', exact: true }).click()
      const badge = page.locator('tr[data-server="crashy"] .last-crash .badge')
      await badge.waitFor({ timeout: RUNNING_TIMEOUT_MS })
      const status = await portal('/api/servers/crashy/status', { token: adminToken })
      t.ok(status.json?.lastCrash?.classification, 'the API has a classification')
      t.equal(
        await badge.textContent(),
        status.json.lastCrash.classification,
        `the list shows it (${status.json.lastCrash.classification})`,
      )
      await page.locator('tr[data-server="crashy"] .last-crash button').click()
      t.match(
        await page.locator('tr[data-server="crashy"] .log-tail').textContent(),
        /boom: world file is corrupt/,
        'the log tail on expand',
      )
      t.equal(loads, 0, 'still no reload')
      await shot(page, 'console-list')
      comment(`crash shown: ${status.json.lastCrash.classification}`)

      // 5. Phone width: readable, nothing wider than the screen.
      await page.setViewportSize({ width: 375, height: 812 })
      await page.locator('tr[data-server="web"]').waitFor()
      t.ok(await page.evaluate('document.documentElement.scrollWidth <= 375'), 'no horizontal scrolling at 375 px')
      await shot(page, 'console-phone')
      await page.setViewportSize({ width: 1280, height: 800 })

      // 6. A second tenant sees none of the first's servers, not even by URL.
      const issued = await portal('/api/tokens', {
        method: 'POST',
        token: adminToken,
        body: { user: 'bob', scopes: ['servers:read', 'servers:write', 'console', 'files'], namespaces: ['tenant-b'] },
      })
      t.equal(issued.status, 201, `tenant token issued: ${JSON.stringify(issued.json)}`)
      const contextB = await browser.newContext({ viewport: { width: 1280, height: 800 } })
      const pageB = await contextB.newPage()
      const b = watchErrors(pageB, 'tenant B')
      await signIn(pageB, gatewayUrl, issued.json.token)
      await pageB.getByText('No servers yet').waitFor()
      t.equal(await pageB.locator('tr[data-server]').count(), 0, 'tenant B lists no server')
      await pageB.goto(`${gatewayUrl}/console/#/game/default/web`)
      await pageB.getByText('No game server default/web.').waitFor()
      t.equal(await page.locator('tr[data-server]').count(), 2, 'tenant A still lists its two servers')
      t.same(b.errors, [], 'no browser errors for tenant B')
      await contextB.close()
      comment('tenant B sees nothing of A')

      // 7. Edit: the form loads the spec; the change is applied, fields the form does not show are kept.
      await page.locator('tr[data-server="web"]').getByRole('link', { name: 'Edit' }).click()
      await page.getByRole('button', { name: 'Save' }).and(page.locator(':enabled')).waitFor()
      t.equal(await page.locator('#f-port').inputValue(), String(port), 'the form shows the spec')
      await page.locator('#f-memory').fill('1024')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.locator('.server-page[data-server="web"]').waitFor()
      const edited = await portal('/api/game/web', { token: adminToken })
      t.equal(edited.json.spec.resources.memoryMiB, 1024, 'the edit was applied')
      t.same(edited.json.spec.server.args, ['--offline'], 'and the rest of the spec kept')

      // 8. A DevServer from its form: runtime from the catalog, code-server unchecked; Enter submits.
      await page.getByRole('link', { name: 'New dev server' }).click()
      await page.locator('#f-runtime option[value="node"]').waitFor({ state: 'attached' })
      await page.locator('#f-name').fill('dev1')
      await page.locator('#f-code-server').uncheck()
      await page.locator('#f-name').press('Enter')
      await page.locator('.server-page[data-server="dev1"]').waitFor({ timeout: 30_000 })
      const dev = await portal('/api/dev/dev1', { token: adminToken })
      t.match(dev.json.spec, { runtimes: [{ name: 'node' }], codeServer: { enabled: false } }, 'the DevServer as the form said')

      // 9. Delete asks first: Escape cancels; the dialog's Delete deletes, and the row goes (live).
      await page.getByRole('link', { name: 'Servers', exact: true }).click()
      const devRow = page.locator('tr[data-server="dev1"]')
      await devRow.getByRole('button', { name: 'Delete dev1' }).click()
      await page.getByRole('dialog').waitFor()
      await page.keyboard.press('Escape')
      await page.getByRole('dialog').waitFor({ state: 'detached' })
      t.equal(await devRow.count(), 1, 'Escape cancelled the delete')
      await devRow.getByRole('button', { name: 'Delete dev1' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
      await devRow.waitFor({ state: 'detached', timeout: 120_000 })
      t.equal((await portal('/api/dev/dev1', { token: adminToken })).status, 404, 'deleted')
      t.equal(loads, 0, 'still no reload')

      // 10. Live updates survive a restart of the control plane: the list says they were lost and
      // resumes by itself (backoff), with the same session (the gateway's key is in its Secret).
      await a.expecting(/net::ERR_|status of 50[23]/, async () => {
        const stopped = await up.stop()
        t.equal(stopped, 0, 'zlh up stopped')
        await page.locator('.live.offline').waitFor({ timeout: 60_000 })
        comment('the list shows the lost stream')
        const again = await up.start(comment)
        t.equal(again.gatewayUrl, gatewayUrl, 'the gateway came back on its port')
        await page.locator('.live.live').waitFor({ timeout: 90_000 })
      })
      t.equal(await page.locator('tr[data-server]').count(), 2, 'the list is back, live')
      t.equal(await page.locator('tr[data-server="web"] .phase').textContent(), 'Running', 'with the adopted game Running')
      t.equal(loads, 0, 'without a reload')
      comment('live again after the restart')

      // 11. Sign out: back to the sign-in form, and the cookie is gone.
      const [cookie] = (await contextA.cookies()).filter((c) => c.name === '__Host-zlh-console')
      t.ok(cookie?.httpOnly && cookie.secure && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly, Secure, SameSite=Strict')
      t.notOk(await page.evaluate("document.cookie.includes('zlh-console')"), 'scripts cannot read it')
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.locator('#token').waitFor()
      t.equal((await contextA.cookies()).filter((c) => c.name === '__Host-zlh-console').length, 0, 'the cookie is cleared')
      t.equal(await page.evaluate("fetch('/console/session').then((r) => r.json()).then((j) => j.signedIn)"), false)
      comment('signed out')
      t.same(a.errors, [], 'no browser console errors or page errors')
    } catch (err) {
      await shot(page, 'failure').catch(() => {})
      t.comment(`browser errors so far: ${JSON.stringify(a.errors)}\n(zlh up output tail)\n${up.output().slice(-3000)}`)
      throw err
    }
  },
)
