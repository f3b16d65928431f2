// The web console's server page in Chromium against the system as `npm start` runs it (`zlh up
// --json` as a child process in a temp state dir, process provider):
//  - Console: a GameServer (a small Node program that listens on its port and answers every
//    console line: it prints "heard: <line>" and appends the line to heard.txt) shows its output
//    in xterm.js; a command typed in the browser reaches it (the printed answer, and the file it
//    wrote, read back through the portal API); the DevServer's shell runs a command typed in it.
//  - Files: two files uploaded from the browser (progress to "uploaded") are listed by the agent
//    through the portal API with the same bytes; a folder made, entered and left by breadcrumb; a
//    rename and a confirmed delete seen through the API; a download gives the file's bytes.
//  - Open IDE: a DevServer with code-server (the code-server stand-in of the other IDE tests,
//    served from zlh up's own artifact server under a `code-server` RuntimeCatalog of ours, which
//    zlh up leaves alone) → the button opens a new tab on the one-time hosted URL, which reaches
//    the IDE through the gateway's dev-<vmid> host; while the DevServer is stopped the button is
//    disabled with its reason. With ZLH_CONSOLE_TOOLS_REAL_IDE=1, zlh up's real code-server instead
//    (built on first use into the per-user cache, minutes when cold), and the tab must show the
//    VS Code workbench.
//  - No browser console error or page error on the console's pages; nothing wider than a phone at
//    375 px.
// Screenshots go to $ZLH_SCREENSHOTS_DIR when set (docs/screenshots/ in the repository), else to a
// temp dir removed at the end.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { stringify } from 'yaml'
import { Agent, fetch } from 'undici'
import { artifactFileName, runtimeCatalog } from '../../src/cli/artifacts/index.ts'
import { stateLayout } from '../../src/cli/state-dir.ts'
import { CHROMIUM, launchChromium } from '../gateway/browser-fixture.ts'
import { keepScreenshot, spkiSha256OfCert } from '../gateway/workbench-fixture.ts'
import { buildCodeServerStandIn } from './code-server-stand-in.ts'
import { killProcessesUnder } from './harness.ts'
import { UpProcess } from './up-process.ts'

const GAME = 'echo'
const DEV = 'ide'
const NS = 'default'
const REAL_IDE = process.env.ZLH_CONSOLE_TOOLS_REAL_IDE === '1'
/** A cold code-server build is 3–9 minutes; everything else is quick. */
const READY_TIMEOUT_MS = (REAL_IDE ? 20 : 5) * 60_000

// The "game": listens on its port (the Ready probe is TCP), answers console lines.
const program = [
  "const fs=require('fs')",
  "const s=require('net').createServer((c)=>{c.on('error',()=>{});c.end('hi\\n')}).listen(Number(process.env.SERVER_PORT),()=>console.log('echo game listening'))",
  "require('readline').createInterface({input:process.stdin}).on('line',(l)=>{l=l.trim();if(l==='stop'){s.close(()=>process.exit(0));return}console.log('heard: '+l);fs.appendFileSync('heard.txt',l+'\\n')})",
].join(';')

t.setTimeout((REAL_IDE ? 30 : 15) * 60_000)

/** The DevServer: node and code-server (the real one needs more memory than the stand-in). */
const devSpec = (running: boolean) => ({
  runtimes: [{ name: 'node', channel: 'stable' }],
  codeServer: { enabled: true },
  resources: { memoryMiB: REAL_IDE ? 4096 : 512 },
  running,
})

const stateDir = mkdtempSync(join(tmpdir(), 'zlh-console-tools-'))
const home = mkdtempSync(join(tmpdir(), 'zlh-console-tools-home-'))
const shotsDir = process.env.ZLH_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'zlh-console-tools-shots-'))
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

/** Polls `probe` every 500 ms until it returns a value, or fails naming `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`)
}

/** The visible text of the xterm.js screen (DOM renderer rows), spaces normalised. */
async function terminalText(page: Page): Promise<string> {
  return (await page.locator('.xterm-rows').innerText()).replace(/\u00a0/g, ' ')
}

t.test(
  'the server page in Chromium: console, files, Open IDE',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium` },
  async (t) => {
    const started = Date.now()
    const comment = (s: string): void => {
      t.comment(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`)
    }
    const ready = await up.start(comment)
    comment(`zlh up ready (gateway ${ready.gatewayUrl})`)
    const layout = stateLayout(stateDir)
    const adminToken = readFileSync(layout.adminTokenFile, 'utf8').trim()
    dispatcher = new Agent({ connect: { ca: readFileSync(ready.caFile) } })
    const portal = async (method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: any }> => {
      const r = await fetch(`${ready.gatewayUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher,
      })
      const text = await r.text()
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: r.status, text, json }
    }

    // code-server: the stand-in, from zlh up's own artifact server (already an allowed source),
    // under a catalog zlh up did not make (so it builds nothing); or zlh up's own real one.
    if (!REAL_IDE) {
      const nodeCatalog = JSON.parse((await up.kubectl('get', 'runtimecatalog', 'node', '-o', 'json')).out)
      const artifactBase = new URL(nodeCatalog.spec.versions[0].artifacts[0].url).origin
      const standIn = await buildCodeServerStandIn(layout.artifacts)
      const catalogFile = join(home, 'code-server-catalog.yaml')
      writeFileSync(
        catalogFile,
        stringify(
          runtimeCatalog('code-server', [{ artifact: standIn, url: `${artifactBase}/${artifactFileName(standIn)}` }], {
            stable: standIn.version,
          }),
        ),
      )
      const applied = await up.kubectl('apply', '-f', catalogFile)
      t.equal(applied.code, 0, `code-server stand-in catalog applied: ${applied.err}`)
    }

    const gameCreated = await portal('POST', '/api/game', {
      name: GAME,
      spec: {
        game: 'echo',
        runtime: { name: 'node', channel: 'stable' },
        server: { command: ['node', '-e', program], port: 25565, gracePeriodSeconds: 3 },
        supervision: { backoffSeconds: [1, 2, 4] },
        resources: { memoryMiB: 256 },
      },
    })
    t.equal(gameCreated.status, 201, `GameServer created through the portal ${gameCreated.status === 201 ? '' : gameCreated.text}`)
    const devCreated = await portal('POST', '/api/dev', {
      name: DEV,
      spec: devSpec(true),
    })
    t.equal(devCreated.status, 201, `DevServer created through the portal ${devCreated.status === 201 ? '' : devCreated.text}`)
    const readyOf = async (kind: 'game' | 'dev', name: string) => {
      const r = await portal('GET', `/api/${kind}/${name}`)
      return r.status === 200 && (r.json?.status?.ready ?? r.json?.ready) === true ? r.json : undefined
    }
    await until(`GameServer ${GAME} Ready`, () => readyOf('game', GAME), READY_TIMEOUT_MS)
    comment('GameServer Ready')
    await until(`DevServer ${DEV} Ready`, () => readyOf('dev', DEV), READY_TIMEOUT_MS)
    comment('DevServer Ready')

    browser = await launchChromium(spkiSha256OfCert(readFileSync(join(ready.caFile, '..', 'server.crt'))))
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 860 } })
    const problems: string[] = []
    // Chromium prints "Failed to load resource … <status>" for every API error answer, and a line
    // for every refused WebSocket handshake; the ones a step provokes on purpose (expecting) are
    // not a problem, any other is.
    let expected: RegExp | undefined
    const expecting = async <T>(pattern: RegExp, fn: () => Promise<T>): Promise<T> => {
      expected = pattern
      try {
        return await fn()
      } finally {
        expected = undefined
      }
    }
    // The console's pages only: the IDE tab is code-server's page (the stand-in, or VS Code).
    const watch = (p: Page): void => {
      const ours = (): boolean => p.url() === 'about:blank' || p.url().startsWith(`${ready.gatewayUrl}/`)
      p.on('console', (m) => {
        if (m.type() !== 'error' || !ours()) return
        if (expected?.test(m.text())) return
        problems.push(`console error on ${p.url()}: ${m.text()}`)
      })
      p.on('pageerror', (e) => {
        if (ours()) problems.push(`page error on ${p.url()}: ${e.message}`)
      })
    }
    context.on('page', watch)
    const page = await context.newPage()
    const shot = async (name: string, p: Page = page): Promise<void> => {
      mkdirSync(shotsDir, { recursive: true })
      await p.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false, timeout: 15_000 })
    }
    const base = `${ready.gatewayUrl}/console/`
    try {
      // Sign in as a person does: the token into the form.
      await page.goto(base, { waitUntil: 'domcontentloaded' })
      await page.getByLabel('Portal token').fill(adminToken)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 })
      comment('signed in')

      await t.test('Console: the game output shows, a typed command reaches the game', async (t) => {
        await page.goto(`${base}#/game/${NS}/${GAME}/console`)
        await page.locator('.console-state[data-state="connected"]').waitFor({ timeout: 30_000 })
        await until('the game output in the console', async () =>
          (await terminalText(page)).includes('echo game listening') ? true : undefined,
        )
        t.pass('the console shows the game output (history on connect)')
        await page.locator('.console-screen').click()
        await page.keyboard.type('say hello from the browser')
        await page.keyboard.press('Enter')
        await until('the game answer in the console', async () =>
          (await terminalText(page)).includes('heard: say hello from the browser') ? true : undefined,
        )
        t.pass('the game printed its answer to the typed command')
        const heard = await portal('GET', `/api/game/${GAME}/files/heard.txt`)
        t.equal(heard.status, 200, 'the file the game wrote is served through the portal')
        t.match(heard.text, /^say hello from the browser$/m, 'the game acted on the command (heard.txt)')
        await shot('server-console')
        // Up arrow recalls the last command; sending it again reaches the game a second time.
        await page.keyboard.press('ArrowUp')
        await page.keyboard.press('Enter')
        await until('the recalled command answered', async () => {
          const r = await portal('GET', `/api/game/${GAME}/files/heard.txt`)
          return r.text.split('\n').filter((l) => l === 'say hello from the browser').length === 2 ? true : undefined
        })
        t.pass('↑ recalled the command and Enter sent it again')
      })

      await t.test('Console: the DevServer shell runs a typed command, follows resizes, ends on exit', async (t) => {
        await page.goto(`${base}#/dev/${NS}/${DEV}/console`)
        await page.locator('.console-state[data-state="connected"]').waitFor({ timeout: 30_000 })
        // No click first: the terminal has the keyboard focus when the tab opens.
        await page.keyboard.type('echo "sum=$((40+2))" > shell-proof.txt && cat shell-proof.txt')
        await page.keyboard.press('Enter')
        await until('the shell output', async () => ((await terminalText(page)).includes('sum=42') ? true : undefined))
        t.pass('the shell printed the command output (typed into the focused terminal)')
        const proof = await portal('GET', `/api/dev/${DEV}/files/shell-proof.txt`)
        t.equal(proof.text.trim(), 'sum=42', 'the command ran in the workspace (read back through the portal)')

        // The PTY follows the box: `stty size` (rows cols) before and after a narrower window.
        const sttySize = async (marker: string): Promise<[number, number]> => {
          await page.keyboard.type(`echo ${marker} $(stty size)`)
          await page.keyboard.press('Enter')
          const m = await until(`stty size (${marker})`, async () => {
            const found = new RegExp(`^${marker} (\\d+) (\\d+)\\s*$`, 'm').exec(await terminalText(page))
            return found ? found : undefined
          })
          return [Number(m[1]), Number(m[2])]
        }
        const [, wideCols] = await sttySize('wide')
        await page.setViewportSize({ width: 700, height: 860 })
        await until('the terminal refitted', async () => {
          const [, cols] = await sttySize(`narrow${Date.now() % 1000}`)
          return cols < wideCols ? cols : undefined
        })
        t.pass(`the shell's terminal narrowed with the window (from ${wideCols} columns)`)
        await page.setViewportSize({ width: 1280, height: 860 })

        // `exit` ends the session: no reconnect loop; "New shell" opens another one.
        await page.keyboard.type('exit')
        await page.keyboard.press('Enter')
        await page.locator('.console-state[data-state="ended"]').waitFor({ timeout: 15_000 })
        t.pass('the console says the shell ended')
        await page.getByRole('button', { name: 'New shell' }).click()
        await page.locator('.console-state[data-state="connected"]').waitFor({ timeout: 15_000 })
        await page.keyboard.type('echo second-shell-$((6*7))')
        await page.keyboard.press('Enter')
        await until('the new shell', async () => ((await terminalText(page)).includes('second-shell-42') ? true : undefined))
        t.pass('a new shell answers')
      })

      await t.test('Files: upload with progress, folders, rename, delete, download', async (t) => {
        await page.goto(`${base}#/game/${NS}/${GAME}/files`)
        const table = page.locator('.files-table')
        await table.locator('tr[data-name="heard.txt"]').waitFor({ timeout: 30_000 })
        t.pass('the listing shows the file the game wrote')
        const big = Buffer.alloc(3 * 1024 * 1024, 7)
        await page.locator('.files-tool input[type="file"]').setInputFiles([
          { name: 'notes one.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded from the browser\n') },
          { name: 'world.bin', mimeType: 'application/octet-stream', buffer: big },
        ])
        await page.locator('.uploads li[data-status="done"]').nth(1).waitFor({ timeout: 60_000 })
        t.equal(await page.locator('.uploads li[data-status="failed"]').count(), 0, 'no upload failed')
        const listing = await portal('GET', `/api/game/${GAME}/files/`)
        const names = (listing.json?.entries ?? []).map((e: { name: string }) => e.name)
        t.ok(names.includes('notes one.txt') && names.includes('world.bin'), `the agent lists both uploads (${names.join(', ')})`)
        const back = await portal('GET', `/api/game/${GAME}/files/notes%20one.txt`)
        t.equal(back.text, 'uploaded from the browser\n', 'the uploaded bytes read back through the portal')
        const bigBack = await fetch(`${ready.gatewayUrl}/api/game/${GAME}/files/world.bin`, {
          headers: { authorization: `Bearer ${adminToken}` },
          dispatcher,
        })
        t.ok(Buffer.from(await bigBack.arrayBuffer()).equals(big), 'the 3 MiB upload arrived whole')
        await table.locator('tr[data-name="world.bin"]').waitFor()

        // New folder, enter it, back by the breadcrumb.
        await page.getByRole('button', { name: 'New folder' }).click()
        await page.getByPlaceholder('New folder name').fill('maps')
        await page.keyboard.press('Enter')
        await table.locator('tr[data-name="maps"]').waitFor()
        const maps = await portal('GET', `/api/game/${GAME}/files/maps`)
        t.equal(maps.status, 200, 'the folder exists on the agent')
        await table.locator('tr[data-name="maps"] button.folder').click()
        await page.getByText('This folder is empty.').waitFor()
        t.equal(await page.locator('.breadcrumb [aria-current="location"]').innerText(), 'maps', 'the breadcrumb names the folder')
        await page.locator('.breadcrumb li').first().getByRole('button').click()
        await table.locator('tr[data-name="heard.txt"]').waitFor()

        // A name the agent would refuse is refused at its field, nothing sent.
        await page.getByRole('button', { name: 'Rename notes one.txt' }).click()
        const renameField = page.getByPlaceholder('New name for notes one.txt')
        await renameField.fill('../escape.txt')
        await page.keyboard.press('Enter')
        await page.locator('.name-form .field-error').waitFor()
        t.match(
          await page.locator('.name-form .field-error').innerText(),
          /may not contain "\/"/,
          'a name with "/" is refused at its field',
        )
        // The API's error is shown: renaming onto a file that exists is a conflict at the agent.
        await expecting(/status of 409/, async () => {
          await renameField.fill('heard.txt')
          await page.keyboard.press('Enter')
          await page.locator('.files-tool p.error').waitFor()
        })
        t.match(await page.locator('.files-tool p.error').innerText(), /already exists/, "the API's error is shown")
        t.equal((await portal('GET', `/api/game/${GAME}/files/notes%20one.txt`)).status, 200, 'and nothing was renamed')
        await renameField.fill('notes renamed.txt')
        await page.keyboard.press('Enter')
        await table.locator('tr[data-name="notes renamed.txt"]').waitFor()
        t.equal((await portal('GET', `/api/game/${GAME}/files/notes%20renamed.txt`)).status, 200, 'renamed on the agent')
        t.equal((await portal('GET', `/api/game/${GAME}/files/notes%20one.txt`)).status, 404, 'the old name is gone')

        // Download gives the file's bytes.
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download notes renamed.txt' }).click(),
        ])
        const saved = join(home, 'download.txt')
        await download.saveAs(saved)
        t.equal(download.suggestedFilename(), 'notes renamed.txt', 'the download keeps the file name')
        t.equal(readFileSync(saved, 'utf8'), 'uploaded from the browser\n', 'the download has the file bytes')

        // Delete asks first; Cancel keeps the file, Delete removes it.
        await page.getByRole('button', { name: 'Delete world.bin' }).click()
        const dialog = page.getByRole('dialog')
        await dialog.waitFor()
        await dialog.getByRole('button', { name: 'Cancel' }).click()
        t.equal((await portal('GET', `/api/game/${GAME}/files/world.bin`)).status, 200, 'Cancel deletes nothing')
        await shot('server-files')
        await page.getByRole('button', { name: 'Delete world.bin' }).click()
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
        await table.locator('tr[data-name="world.bin"]').waitFor({ state: 'detached' })
        t.equal((await portal('GET', `/api/game/${GAME}/files/world.bin`)).status, 404, 'deleted on the agent after the confirmation')
      })

      await t.test(
        'Open IDE: a one-time link opened in a new tab reaches the IDE; disabled while stopped; the console reconnects',
        async (t) => {
          await page.goto(`${base}#/dev/${NS}/${DEV}/ide`)
          const button = page.getByRole('button', { name: 'Open IDE' })
          await button.waitFor()
          t.ok(await button.isEnabled(), 'enabled while the DevServer is Ready')
          await shot('server-ide')
          const [ideTab] = await Promise.all([context.waitForEvent('page'), button.click()])
          await ideTab.waitForLoadState('domcontentloaded')
          if (REAL_IDE) {
            await ideTab.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 })
            await ideTab.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ state: 'visible', timeout: 120_000 })
            // The workspace the console's shell wrote into is the one the IDE opened.
            await ideTab.getByRole('treeitem', { name: /shell-proof\.txt/ }).waitFor({ timeout: 60_000 })
            t.pass('the workbench shows the file the dev shell wrote')
            await shot('server-ide-workbench', ideTab)
          } else await ideTab.getByText('code-server stand-in').first().waitFor({ timeout: 60_000 })
          const ideUrl = new URL(ideTab.url())
          t.match(ideUrl.hostname, /^dev-\d+\.localhost$/, `the tab is on the DevServer's IDE host (${ideUrl.hostname})`)
          t.equal(ideUrl.searchParams.get('token'), null, 'the one-time token is not left in the address bar')
          t.equal(await ideTab.evaluate('window.opener'), null, 'the IDE tab has no handle on the console (noopener)')
          await ideTab.close()

          // A second tab on the dev shell, to see it reconnect when the DevServer comes back.
          const shellPage = await context.newPage()
          await shellPage.goto(`${base}#/dev/${NS}/${DEV}/console`)
          await shellPage.locator('.console-state[data-state="connected"]').waitFor({ timeout: 30_000 })

          // While the DevServer is down the console's reconnect attempts are refused, and Chromium logs each.
          await expecting(/WebSocket connection to '[^']*\/api\/dev\/ide\/console\?namespace=default' failed/, async () => {
            // Stopped: the button is disabled and says why.
            const stopped = await portal('PUT', `/api/dev/${DEV}`, { spec: devSpec(false) })
            t.ok(
              stopped.status === 200 || stopped.status === 201,
              `DevServer stopped through the portal ${stopped.status < 300 ? '' : stopped.text}`,
            )
            await until('Open IDE disabled', async () => ((await button.isDisabled()) ? true : undefined), 120_000)
            t.match(await page.locator('#ide-reason').innerText(), /not Ready/, 'the reason is shown next to the button')

            // The console lost its server: it says so and retries with backoff until it is back.
            await shellPage.locator('.console-state[data-state="reconnecting"]').waitFor({ timeout: 60_000 })
            t.match(await shellPage.locator('.console-state').innerText(), /retrying in \d+ s/, 'the console shows it is reconnecting')
            const started = await portal('PUT', `/api/dev/${DEV}`, { spec: devSpec(true) })
            t.ok(started.status < 300, `DevServer started again ${started.status < 300 ? '' : started.text}`)
            await shellPage.locator('.console-state[data-state="connected"]').waitFor({ timeout: 180_000 })
          })
          await shellPage.locator('.console-screen').click()
          await shellPage.keyboard.type('echo back-$((2*21))')
          await shellPage.keyboard.press('Enter')
          await until('the shell after the reconnect', async () => ((await terminalText(shellPage)).includes('back-42') ? true : undefined))
          t.pass('the console reconnected by itself and the shell answers')
          await shellPage.close()
          await until('Open IDE enabled again', async () => ((await button.isEnabled()) ? true : undefined), 120_000)
        },
      )

      await t.test('phone width: the console and the files fit 375 px', async (t) => {
        await page.setViewportSize({ width: 375, height: 740 })
        for (const tab of ['console', 'files']) {
          await page.goto(`${base}#/game/${NS}/${GAME}/${tab}`)
          await page.locator(tab === 'console' ? '.console-state[data-state="connected"]' : '.files-table').waitFor({ timeout: 30_000 })
          const width = await page.evaluate<number>('document.documentElement.scrollWidth')
          t.ok(width <= 375, `${tab}: nothing wider than the screen (${width} px)`)
          if (tab === 'console') await shot('server-console-phone')
        }
      })

      t.same(problems, [], 'no browser console error or page error')
    } catch (err) {
      const kept = await keepScreenshot(page, t.testdirName, 'failure')
      if (kept) comment(`screenshot: ${kept}`)
      throw err
    } finally {
      await context.close()
    }

    const deleted = await up.kubectl('delete', 'gameservers,devservers', '--all', '-A', '--wait=true', '--timeout=120s')
    t.equal(deleted.code, 0, `servers deleted: ${deleted.err}`)
    t.equal(await up.stop(), 0, 'zlh up stops gracefully on SIGINT')
  },
)
