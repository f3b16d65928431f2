// Driving the real VS Code workbench (code-server 4.x) in Chromium the way a person does, for the
// IDE browser tests: what went over the wire (responses, WebSockets and their frames), a refused
// request or a failed WebSocket ending every UI wait at once instead of a spinner, the command
// palette, the integrated terminal, an editor saved through the save dialog, and a screenshot
// kept in the test's fixture directory when the test failed.
//
// Guarantees: every wait is bounded (the timeouts below, or the caller's); nothing here sleeps.
// Assumptions: the workbench's keyboard is in its default bindings (F1 opens the palette; Ctrl+S
// saves) and xterm renders as DOM text (Chromium started without GPU, see browser-fixture.ts).
import { createHash, X509Certificate } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'

/** The base64 sha256 of a certificate's public key, what `--ignore-certificate-errors-spki-list` takes. */
export function spkiSha256OfCert(pem: string | Buffer): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}

export interface SocketRecord {
  url: string
  framesIn: number
  framesOut: number
  error?: string
  closedAt?: number
}

export interface WorkbenchWatch {
  /** Every response the page got, in order. */
  readonly responses: Array<{ url: string; status: number }>
  /** Every WebSocket the page opened, with its frame counts, failure and close time. */
  readonly sockets: SocketRecord[]
  /** Races a UI wait against the first refusal (401/403) or WebSocket failure. */
  ui<T>(wait: Promise<T>): Promise<T>
  /** While true, WebSocket failures are expected (a restart on purpose) and end no wait. */
  tolerateSocketErrors: boolean
}

/** Starts recording before the first navigation; `url` in messages has the reconnection token cut. */
export function watchWorkbench(page: Page): WorkbenchWatch {
  let refused: (err: Error) => void = () => {}
  const broken = new Promise<never>((_resolve, reject) => {
    refused = reject
  })
  broken.catch(() => {})
  const watch: WorkbenchWatch = {
    responses: [],
    sockets: [],
    tolerateSocketErrors: false,
    ui: <T>(wait: Promise<T>) => Promise.race([wait, broken]),
  }
  page.on('response', (r) => {
    watch.responses.push({ url: r.url(), status: r.status() })
    if (r.status() === 401 || r.status() === 403)
      refused(new Error(`${r.url()} answered ${r.status()} ${r.headers()['x-zlh-error'] ?? '(from code-server)'}`))
  })
  page.on('websocket', (ws) => {
    const s: SocketRecord = { url: ws.url(), framesIn: 0, framesOut: 0 }
    watch.sockets.push(s)
    ws.on('framereceived', () => {
      s.framesIn++
    })
    ws.on('framesent', () => {
      s.framesOut++
    })
    ws.on('close', () => {
      s.closedAt = Date.now()
    })
    ws.on('socketerror', (e) => {
      s.error = e
      if (!watch.tolerateSocketErrors) refused(new Error(`WebSocket ${redactReconnectionToken(s.url)} failed: ${e}`))
    })
  })
  return watch
}

export function redactReconnectionToken(url: string): string {
  return url.replace(/reconnectionToken=[^&]+/, 'reconnectionToken=…')
}

/** The workbench's "connection lost / reconnecting" UI (dialog or notification). */
export function reconnectBanner(page: Page): ReturnType<Page['locator']> {
  return page
    .locator('.monaco-dialog-box, .notifications-toasts, .statusbar-item')
    .filter({ hasText: /reconnect|connection.*lost|disconnected/i })
}

/** F1, the command's title, Enter: how a person runs a command they cannot find in a menu. */
export async function runCommand(page: Page, watch: WorkbenchWatch, title: string, timeoutMs = 30_000): Promise<void> {
  await page.keyboard.press('F1')
  const input = page.locator('.quick-input-widget .quick-input-box input')
  await watch.ui(input.waitFor({ state: 'visible', timeout: timeoutMs }))
  await input.fill(`>${title}`)
  // The entry that is exactly the command (the fuzzy match may rank a longer title first: "File:
  // Compare New Untitled Text Files"), chosen as a person does, by clicking it.
  const entry = page.locator('.quick-input-widget .quick-input-list').getByText(title, { exact: true }).first()
  await watch.ui(entry.waitFor({ state: 'visible', timeout: timeoutMs }))
  await entry.click()
  await watch.ui(input.waitFor({ state: 'hidden', timeout: timeoutMs }))
}

/**
 * Opens a new integrated terminal (command palette) and resolves with its xterm element, focused,
 * once its shell printed something. When the workbench asks whether to trust the folder (a
 * terminal runs code), answers as a person who opened their own workspace does: "Trust Folder".
 */
export async function openTerminal(page: Page, watch: WorkbenchWatch, timeoutMs = 60_000): Promise<ReturnType<Page['locator']>> {
  const before = await page.locator('.terminal-wrapper .xterm').count()
  await runCommand(page, watch, 'Terminal: Create New Terminal')
  const term = page.locator('.terminal-wrapper .xterm').nth(before)
  const prompt = term.locator('.xterm-rows', { hasText: /\S/ })
  const trust = page.locator('.monaco-dialog-box').getByRole('button', { name: /Trust Folder/ })
  await watch.ui(prompt.or(trust).first().waitFor({ state: 'visible', timeout: timeoutMs }))
  if (await trust.isVisible()) {
    await trust.click()
    await watch.ui(trust.waitFor({ state: 'hidden', timeout: timeoutMs }))
  }
  await watch.ui(prompt.waitFor({ state: 'visible', timeout: timeoutMs }))
  await term.click()
  return term
}

/** Types `command` + Enter into the focused terminal; resolves with the rows' text once `expect` shows. */
export async function runInTerminal(
  page: Page,
  watch: WorkbenchWatch,
  command: string,
  expect: RegExp,
  timeoutMs = 60_000,
): Promise<string> {
  await page.keyboard.type(`${command}\n`)
  const rows = page.locator('.terminal-wrapper .xterm-rows', { hasText: expect })
  await watch.ui(rows.first().waitFor({ state: 'visible', timeout: timeoutMs }))
  return rows.first().innerText()
}

/**
 * A new untitled editor (command palette), `text` typed into it, saved with Ctrl+S as
 * `absolutePath` through the save dialog; resolves once the editor's tab carries the file's name.
 */
export async function createFileInEditor(
  page: Page,
  watch: WorkbenchWatch,
  absolutePath: string,
  text: string,
  timeoutMs = 60_000,
): Promise<void> {
  await runCommand(page, watch, 'File: New Untitled Text File')
  const editor = page.locator('.editor-instance .monaco-editor').first()
  await watch.ui(editor.waitFor({ state: 'visible', timeout: timeoutMs }))
  await editor.click()
  await page.keyboard.type(text)
  await watch.ui(page.locator('.editor-instance .view-lines', { hasText: text }).waitFor({ state: 'visible', timeout: timeoutMs }))
  await page.keyboard.press('Control+S')
  // code-server's save dialog is the workbench's own (a path box in the quick input).
  const pathBox = page.locator('.quick-input-widget .quick-input-box input')
  await watch.ui(pathBox.waitFor({ state: 'visible', timeout: timeoutMs }))
  // The dialog shows first and fills in its suggestion (folder + a name from the first line) once
  // it has read the folder: replace the suggestion only after it is there, or it replaces ours.
  const valueIs = (test: string) =>
    `(() => { const v = document.querySelector('.quick-input-widget .quick-input-box input')?.value ?? ''; return ${test} })()`
  await watch.ui(page.waitForFunction(valueIs(`v.length > 0 && !v.endsWith('/')`), undefined, { timeout: timeoutMs }))
  await pathBox.fill(absolutePath)
  await watch.ui(page.waitForFunction(valueIs(`v === ${JSON.stringify(absolutePath)}`), undefined, { timeout: timeoutMs }))
  await page.keyboard.press('Enter')
  await watch.ui(pathBox.waitFor({ state: 'hidden', timeout: timeoutMs }))
  const name = absolutePath.slice(absolutePath.lastIndexOf('/') + 1)
  await watch.ui(page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: timeoutMs }))
}

/** A full-page screenshot in the test's fixture directory (kept: tap removes it only after `t.testdir()`). */
export async function keepScreenshot(page: Page, testdirName: string, name: string): Promise<string | undefined> {
  try {
    mkdirSync(testdirName, { recursive: true })
    const file = join(testdirName, `${name}.png`)
    await page.screenshot({ path: file, fullPage: true, timeout: 15_000 })
    return file
  } catch {
    return undefined
  }
}
