// The "starting" page a browser gets when it opens the IDE of a sleeping (or waking) DevServer, and
// the small JSON answer that page polls on the same dev host (WAKE_STATUS_PATH, cookie-
// authenticated by the IDE proxy like every other request there).
//
// The page shows the DevServer's phase and its Ready condition's message, polls once a second,
// and reloads itself when the answer says `landing`: the DevServer is Ready and its code-server
// answers. The reload is the same URL the browser asked for, so the IDE proxy's usual flow runs
// (`/` → `/?folder=…` → the workbench). Without JavaScript a meta refresh retries every 5 s.
//
// Guarantees: its own CSP (`default-src 'none'`; the one inline script and style run by a fresh
// per-response nonce; fetch only to the same origin; no framing, no forms, no base), no-store,
// no-referrer, nothing from outside; every value shown is escaped (the script sets textContent).

import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { ERROR_CODE_HEADER } from './pages.ts'
import type { DevServerProgress } from './sleep-state.ts'

/** The JSON endpoint the starting page polls; the IDE proxy keeps this path for itself on every dev host. */
export const WAKE_STATUS_PATH = '/__zlh/wake-status'
export const WAKE_POLL_MS = 1000

/** What WAKE_STATUS_PATH answers. */
export interface WakeStatus extends DevServerProgress {
  /** The DevServer is Ready and its code-server answered: reload to open the IDE. */
  readonly landing: boolean
  /** Why the gateway could not ask the controller to wake it, if it could not. */
  readonly wakeError?: string
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const SCRIPT = `(() => {
  const phase = document.getElementById('phase')
  const message = document.getElementById('message')
  const poll = async () => {
    try {
      const res = await fetch(${JSON.stringify(WAKE_STATUS_PATH)}, { cache: 'no-store', credentials: 'same-origin', headers: { accept: 'application/json' } })
      if (res.status === 401 || res.status === 404) return location.reload()
      if (res.ok) {
        const s = await res.json()
        phase.textContent = s.phase || (s.state === 'asleep' ? 'Sleeping' : 'Starting')
        message.textContent = s.wakeError ? 'Could not ask to wake it: ' + s.wakeError : s.message || (s.state === 'asleep' ? 'asked to wake up' : '')
        document.body.dataset.state = s.landing ? 'landing' : s.state
        if (s.landing) return location.reload()
      }
    } catch {}
    setTimeout(poll, ${WAKE_POLL_MS})
  }
  poll()
})()`

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.4rem}#phase{font-weight:600}.spin{display:inline-block;width:1em;height:1em;border:.15em solid #ccc;' +
  'border-top-color:#333;border-radius:50%;animation:s 1s linear infinite;vertical-align:middle;margin-right:.5em}' +
  '@keyframes s{to{transform:rotate(1turn)}}'

/** Writes the starting page (503 with Retry-After: the IDE is not there yet) for DevServer `name`. */
export function sendWakePage(res: ServerResponse, name: string, progress: DevServerProgress, headOnly: boolean): void {
  const nonce = randomBytes(16).toString('base64')
  const phase = progress.phase || (progress.state === 'asleep' ? 'Sleeping' : 'Starting')
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Starting ${escapeHtml(name)}…</title>` +
    `<noscript><meta http-equiv="refresh" content="5"></noscript><style nonce="${nonce}">${STYLE}</style></head>` +
    `<body data-state="${escapeHtml(progress.state)}"><h1><span class="spin"></span>Waking up ${escapeHtml(name)}</h1>` +
    `<p>The dev server was asleep because nobody used it. It is starting; the IDE opens here by itself when it is ready.</p>` +
    `<p>Phase: <span id="phase">${escapeHtml(phase)}</span></p><p id="message">${escapeHtml(progress.message)}</p>` +
    `<script nonce="${nonce}">${SCRIPT}</script></body></html>`
  res.writeHead(503, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'retry-after': '5',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    [ERROR_CODE_HEADER]: 'ZLH_GW_IDE_DEVSERVER_WAKING',
  })
  res.end(headOnly ? undefined : body)
}

export function sendWakeStatus(res: ServerResponse, status: WakeStatus): void {
  const body = JSON.stringify(status)
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(body)
}
