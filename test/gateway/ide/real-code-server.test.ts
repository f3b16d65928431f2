// Opt-in: the hosted IDE flow against the REAL code-server 4.x in Chromium, through the gateway.
// Runs only when ZLH_CODE_SERVER_BIN names a code-server executable or its out/node/entry.js
// (e.g. after `npm install code-server@4` in a scratch folder); CI has none and skips it.
//
// What it shows: token → session cookie → `?folder=` → the VS Code workbench renders from the
// proxied code-server; the workbench's WebSockets open through the proxy and carry frames (the
// remote file system: a file written by the test appears in the Explorer and opens in an editor;
// the integrated terminal runs a command); a WebSocket on another path (code-server's own
// /proxy/<port>/ to a loopback app) works through both proxies; after a gateway restart the
// workbench reconnects and the same terminal answers; code-server's own Origin check accepts what the proxy
// forwards (no 401/403 anywhere) while it does refuse a foreign Origin sent to it directly; the
// gateway refuses a foreign Origin itself even with a valid cookie.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, realpathSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { CHROMIUM, launchChromium } from '../browser-fixture.ts'
import { redactReconnectionToken, watchWorkbench, type SocketRecord } from '../workbench-fixture.ts'
import { WebSocket } from 'ws'
import { loopbackLookup, startGateway, startUpstream, SUFFIX, waitFor, type TestGateway } from '../fixtures.ts'
import { createTestTls } from '../tls-fixture.ts'

const BIN = process.env.ZLH_CODE_SERVER_BIN
const VMID = 501
const PROOF_FILE = 'zlh-proof.txt'
const PROOF_TEXT = 'written by the gateway test'

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

interface CodeServer {
  child: ChildProcess
  port: number
  output(): string
  stop(): Promise<void>
}

/** Starts code-server in its own process group with every path it writes under `dir`. */
async function startCodeServer(bin: string, dir: string, workspace: string): Promise<CodeServer> {
  const port = await freePort()
  const entry = realpathSync(bin)
  // The npm package's entry is a .js file: run it with this Node (24, what code-server 4.x wants).
  const [cmd, pre] = entry.endsWith('.js') ? [process.execPath, [entry]] : [entry, []]
  const home = join(dir, 'home')
  await mkdir(join(dir, 'user-data', 'User'), { recursive: true })
  await mkdir(home, { recursive: true })
  // No trust prompt or welcome page in the way of the Explorer; no network calls.
  await writeFile(
    join(dir, 'user-data', 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
    }),
  )
  let output = ''
  const child = spawn(
    cmd,
    [
      ...pre,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--config',
      join(dir, 'config.yaml'),
      '--user-data-dir',
      join(dir, 'user-data'),
      '--extensions-dir',
      join(dir, 'extensions'),
      workspace,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        XDG_DATA_HOME: join(home, '.local', 'share'),
        SHELL: '/bin/sh',
      },
    },
  )
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let gone = false
  void exited.then(() => {
    gone = true
  })
  const stop = async (): Promise<void> => {
    if (gone || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      return
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }, 10_000)
    await exited
    clearTimeout(timer)
    // Children code-server forked (extension host, pty shells) share the group; none may stay.
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      /* group empty */
    }
  }
  const until = Date.now() + 90_000
  for (;;) {
    if (gone) throw new Error(`code-server exited before it was healthy:\n${output}`)
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > until) {
      await stop()
      throw new Error(`code-server not healthy after 90 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { child, port, output: () => output, stop }
}

/** The status code a WebSocket handshake got (101 when it opened), and the gateway's error code. */
function handshake(url: string, opts: { origin: string; cookie?: string; ca?: string }): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      origin: opts.origin,
      headers: opts.cookie ? { cookie: opts.cookie } : {},
      ca: opts.ca,
      lookup: loopbackLookup,
      handshakeTimeout: 15_000,
    })
    ws.once('open', () => {
      ws.terminate()
      resolve({ status: 101 })
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, error: res.headers['x-zlh-error'] as string | undefined })
      res.resume()
      ws.terminate()
    })
    ws.once('error', (err) => reject(err))
  })
}

const skipReason =
  BIN === undefined
    ? 'set ZLH_CODE_SERVER_BIN=<path to code-server> to run against the real code-server'
    : !existsSync(CHROMIUM)
      ? `${CHROMIUM} missing: apt-get install -y chromium`
      : undefined

if (skipReason !== undefined) {
  t.plan(0, skipReason)
} else {
  t.test('real code-server behind the gateway in Chromium', { timeout: 300_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'zlh-real-cs-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const workspace = join(dir, 'workspace')
    await mkdir(workspace)
    await writeFile(join(workspace, PROOF_FILE), `${PROOF_TEXT}\n`)
    const started = Date.now()
    const cs = await startCodeServer(BIN!, dir, workspace)
    t.teardown(() => cs.stop())
    t.comment(`code-server healthy after ${Date.now() - started} ms on 127.0.0.1:${cs.port}`)

    const tls = await createTestTls(SUFFIX)
    const signingKey = randomBytes(32)
    const route = { address: `127.0.0.1:${cs.port}`, ready: true, name: 'alice-dev', namespace: 'team-a', uid: 'uid-1' }
    let g: TestGateway = await startGateway({ tls: { key: tls.key, cert: tls.cert }, workspaceFolder: workspace, signingKey })
    t.teardown(() => g.gw.close())
    g.routes.set(VMID, route)

    const browser: Browser = await launchChromium(tls.spkiSha256)
    t.teardown(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
    const page: Page = await context.newPage()

    const origin = g.origin(VMID)
    // A refused request or WebSocket ends the UI waits below at once, saying what was refused
    // (the workbench itself keeps retrying and would only show a spinner).
    const watch = watchWorkbench(page)
    const { ui, responses, sockets } = watch

    // 1. The portal's link → cookie → folder → the workbench.
    const { url } = g.gw.mintIdeToken(VMID, 'alice', { apiTokenId: null })
    const first = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 90_000 })
    t.equal(first?.status(), 200, 'the workbench page came from code-server')
    t.equal(page.url(), `${origin}/?folder=${workspace}`, 'landed on the dev host with the workspace folder')
    t.same(
      responses.slice(0, 2).map((r) => [r.url, r.status]),
      [
        [url, 302],
        [`${origin}/`, 302],
      ],
      'token URL → / → ?folder=',
    )
    await ui(page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 }))
    t.pass('the VS Code workbench rendered')

    // 2. The remote file system over the proxied WebSocket: the Explorer lists the file, it opens.
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: PROOF_FILE })
    await ui(row.waitFor({ state: 'visible', timeout: 120_000 }))
    t.pass('the Explorer lists the workspace file (read through code-server over the proxy)')
    await row.dblclick()
    await ui(page.locator('.editor-instance .view-lines', { hasText: PROOF_TEXT }).waitFor({ state: 'visible', timeout: 60_000 }))
    t.pass('the file opened in an editor with its content')

    // 3. The integrated terminal: a shell on the code-server side, its output as DOM text.
    await page.keyboard.press('Control+Backquote')
    const term = page.locator('.terminal-wrapper .xterm')
    await ui(term.waitFor({ state: 'visible', timeout: 60_000 }))
    await term.click()
    await page.keyboard.type('echo zlh-$((6*7))-ok pid=$$\n')
    const rows = page.locator('.xterm-rows', { hasText: 'zlh-42-ok' })
    await ui(rows.waitFor({ state: 'visible', timeout: 60_000 }))
    t.pass('the integrated terminal ran a command')
    const shellPid = Number(/zlh-42-ok\s+pid=(\d+)/.exec(await rows.innerText())?.[1])
    t.ok(shellPid > 1, `the terminal's shell is process ${shellPid}`)

    // 4. What went over the wire.
    const live = sockets.filter((s) => s.url.startsWith(`wss://dev-${VMID}.${SUFFIX}:${g.gw.port}/`))
    t.ok(live.length >= 1, 'the workbench opened WebSockets to the dev host')
    t.ok(
      live.some((s) => s.framesIn > 0),
      'and received frames on them',
    )
    t.same(
      sockets.filter((s) => s.error !== undefined),
      [],
      'no WebSocket failed',
    )
    t.comment(
      `WebSockets: ${JSON.stringify(sockets.map((s) => ({ url: redactReconnectionToken(s.url), in: s.framesIn, out: s.framesOut })))}`,
    )
    t.same(
      responses.filter((r) => r.status === 401 || r.status === 403),
      [],
      "no response was 401/403 (code-server's origin check passed)",
    )
    // blob: URLs are the page's own objects, not requests.
    const fetched = responses.filter((r) => !r.url.startsWith('blob:'))
    t.same(
      fetched.filter((r) => !r.url.startsWith(`${origin}/`)).map((r) => r.url),
      [],
      'every request went to the dev host',
    )
    t.comment(
      `${fetched.length} responses; paths: ${[...new Set(fetched.map((r) => new URL(r.url).pathname.split('/').slice(0, 3).join('/')))].join(' ')}`,
    )

    // 5. The session cookie as the browser holds it.
    const cookies = await context.cookies(`${origin}/`)
    const c = cookies.find((x) => x.name === '__Host-zlh-ide')
    t.ok(c, 'the session cookie is in the jar')
    t.match(c, { domain: `dev-${VMID}.${SUFFIX}`, path: '/', secure: true, httpOnly: true, sameSite: 'Lax' })

    // 6. WebSockets on another path: code-server's own port proxy (/proxy/<port>/) behind ours,
    //    to an app listening on loopback next to it (HTTP page + WebSocket echo).
    const app = await startUpstream()
    t.teardown(() => app.close())
    const viaPortProxy = await page.evaluate(`(async () => {
      const base = '/proxy/${app.port}'
      const status = (await fetch(base + '/hello')).status
      const echo = await new Promise((resolve) => {
        const ws = new WebSocket('wss://' + location.host + base + '/echo?x=1')
        ws.onopen = () => ws.send('through two proxies')
        ws.onmessage = (e) => { resolve(String(e.data)); ws.close(1000) }
        ws.onerror = () => resolve('ws-error')
      })
      return { status, echo }
    })()`)
    t.same(viaPortProxy, { status: 200, echo: 'through two proxies' }, "HTTP and a WebSocket through code-server's /proxy/<port>/")
    t.same(
      app.requests.map((r) => [r.method, r.url]),
      [
        ['GET', '/hello'],
        ['GET', '/echo?x=1'],
      ],
      'the app saw both, prefix stripped by code-server',
    )

    // 7. A gateway restart (a new replica on the same address with the same signing key): the
    //    workbench reconnects its WebSockets with its reconnection token and the session goes on.
    const port = g.gw.port
    const before = sockets.length
    watch.tolerateSocketErrors = true
    await g.gw.close()
    g = await startGateway({ tls: { key: tls.key, cert: tls.cert }, workspaceFolder: workspace, signingKey, listen: `127.0.0.1:${port}` })
    g.routes.set(VMID, route)
    const reconnected = (): SocketRecord[] =>
      sockets.slice(before).filter((s) => s.url.includes('reconnection=true') && s.error === undefined && s.framesIn > 0)
    await waitFor(() => reconnected().length >= 2, 'the workbench to reconnect both WebSockets', 90_000)
    watch.tolerateSocketErrors = false
    t.pass(`the workbench reconnected (${sockets.length - before} attempts, ${reconnected().length} carrying frames)`)
    await term.click()
    await page.keyboard.type('echo zlh-$((7*7))-back pid=$$\n')
    const back = page.locator('.xterm-rows', { hasText: 'zlh-49-back' })
    await ui(back.waitFor({ state: 'visible', timeout: 60_000 }))
    t.equal(
      Number(/zlh-49-back\s+pid=(\d+)/.exec(await back.innerText())?.[1]),
      shellPid,
      "the same terminal's shell answers after the reconnect",
    )

    // 8. Origins: the gateway refuses a foreign one with a valid cookie; the dev host's own opens.
    const wsUrl = `wss://dev-${VMID}.${SUFFIX}:${g.gw.port}/?reconnectionToken=${crypto.randomUUID()}&reconnection=false&skipWebSocketFrames=false`
    const cookie = `${c!.name}=${c!.value}`
    t.same(
      await handshake(wsUrl, { origin: 'https://evil.example', cookie, ca: tls.caCert }),
      { status: 403, error: 'ZLH_GW_IDE_ORIGIN_MISMATCH' },
      'foreign Origin refused by the gateway',
    )
    t.same(
      await handshake(wsUrl.replace(/reconnectionToken=[^&]+/, `reconnectionToken=${crypto.randomUUID()}`), {
        origin,
        cookie,
        ca: tls.caCert,
      }),
      { status: 101 },
      "the dev host's own Origin upgrades through to code-server",
    )
    // code-server's own check is real: straight to it, a foreign Origin is refused.
    const direct = await handshake(
      `ws://127.0.0.1:${cs.port}/?reconnectionToken=${crypto.randomUUID()}&reconnection=false&skipWebSocketFrames=false`,
      { origin: 'https://evil.example' },
    )
    t.equal(direct.status, 403, 'code-server itself refuses a foreign Origin')

    await context.close()

    // 9. Stopping code-server leaves nothing behind: the terminal's shell (own session) goes too.
    await cs.stop()
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    const until = Date.now() + 15_000
    while (alive(shellPid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100))
    const shellLeft = alive(shellPid)
    if (shellLeft) process.kill(shellPid, 'SIGKILL')
    t.notOk(alive(cs.child.pid!), 'code-server exited')
    t.notOk(shellLeft, "the terminal's shell exited with it")
  })
}
