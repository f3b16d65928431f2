// The Console tab of a server: xterm.js over the portal's console WebSocket
// (/api/game/<name>/console for a GameServer's console, /api/dev/<name>/console for a DevServer's
// login shell; JSON frames, see agent/console/routes.ts).
//
// Expected flow
//  1. Mount: one xterm Terminal, fitted to its box (ResizeObserver) and focused.
//  2. Connect (state "connecting"): the browser sends the session cookie; the gateway checks the
//     Origin. Open → "connected"; the game console starts with its history (the screen is reset
//     first, so a reconnect does not show it twice).
//  3. Typing: the dev shell is a terminal (keys go as they are, resizes follow the box); the game
//     console is a pipe, so input is edited here (echo, Backspace, ↑/↓ history) and sent a line at
//     a time on Enter.
//  4. A close we did not ask for → "reconnecting in N s" (1 s doubling to 30 s, reset once a
//     connection stayed up); "Reconnect now" skips the wait. A dev shell that exited (`exit`)
//     ends there ("ended"); "New shell" opens another.
// Guarantees: at most one socket per mounted console; unmount closes it, stops the timers and
// disposes the terminal.

import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { Terminal } from '@xterm/xterm'
import { FitAddon } from '@xterm/addon-fit'
import { serverPath } from './api.js'
import { installCspSafeStyleAttributes } from './csp-styles.js'
import { lineEditor } from './line-editor.js'

export const CONSOLE_PROTOCOL = 'zlh.console'
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000
/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 10_000

/**
 * The console WebSocket URL of a server, on this page's origin (the cookie and Origin go with it).
 * @param {'GameServer' | 'DevServer'} kind
 * @param {string} namespace
 * @param {string} name
 */
export function consoleUrl(kind, namespace, name) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${serverPath(kind, namespace, name, '/console')}`
}

/** Delay before reconnect attempt n (n ≥ 1). */
export const retryDelay = (/** @type {number} */ attempt) => Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1))

/**
 * A server page tab (detail.js): `server` is the portal's status view of the server.
 * @param {{ server: { kind: 'GameServer' | 'DevServer', namespace: string, name: string } }} props
 */
export function ServerConsole({ server }) {
  const { kind, namespace, name } = server
  const box = useRef(/** @type {HTMLDivElement | null} */ (null))
  const [state, setState] = useState({ status: 'connecting', detail: '' })
  const reconnectNow = useRef(() => {})
  const focus = useRef(() => {})

  useEffect(() => {
    installCspSafeStyleAttributes()
    const term = new Terminal({
      convertEol: kind === 'GameServer',
      cursorBlink: true,
      fontSize: window.matchMedia('(max-width: 600px)').matches ? 12 : 14,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      scrollback: 5000,
      theme: { background: '#11151c', foreground: '#d8dee9' },
    })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(/** @type {HTMLDivElement} */ (box.current))
    const refit = () => {
      try {
        fit.fit()
      } catch {
        // not laid out yet (hidden tab): the next resize fits it
      }
    }
    refit()
    term.focus()
    focus.current = () => term.focus()

    /** @type {WebSocket | null} */
    let ws = null
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let retryTimer
    /** @type {ReturnType<typeof setInterval> | undefined} */
    let countdown
    let attempt = 0
    let openedAt = 0
    let disposed = false
    const isGame = kind === 'GameServer'
    const editor = isGame ? lineEditor(term, (line) => send({ type: 'input', data: `${line}\n` })) : null

    /** @param {object} msg */
    const send = (msg) => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg))
    }
    /** Output from the server, drawn around the line being typed (game console). */
    const show = (/** @type {string} */ text) => (editor ? editor.around(text) : term.write(text))
    const note = (/** @type {string} */ text) => show(`\x1b[2m${text.replace(/\r?\n/g, '\r\n')}\x1b[0m\r\n`)

    const connect = () => {
      clearTimeout(retryTimer)
      clearInterval(countdown)
      if (disposed) return
      setState({ status: 'connecting', detail: '' })
      const socket = new WebSocket(consoleUrl(kind, namespace, name), [CONSOLE_PROTOCOL])
      ws = socket
      let opened = false
      /** The dev shell said it exited: the close that follows ends the session, no retry. */
      let shellExited = false
      socket.onopen = () => {
        opened = true
        openedAt = Date.now()
        setState({ status: 'connected', detail: '' })
        if (!isGame) send({ type: 'resize', cols: term.cols, rows: term.rows })
      }
      socket.onmessage = (ev) => {
        let msg
        try {
          msg = JSON.parse(String(ev.data))
        } catch {
          return
        }
        if (msg.type === 'output' && typeof msg.data === 'string') show(msg.data)
        else if (msg.type === 'history' && Array.isArray(msg.lines)) {
          term.reset()
          if (msg.lines.length > 0) term.write(`${msg.lines.join('\r\n')}\r\n`)
          editor?.redraw()
        } else if (msg.type === 'state') setState((s) => ({ ...s, detail: `game ${msg.state}` }))
        else if (msg.type === 'exit') {
          shellExited = !isGame
          note(`[the ${isGame ? 'game server' : 'shell'} exited: ${msg.signal ? `signal ${msg.signal}` : `code ${msg.exitCode}`}]`)
        } else if (msg.type === 'throttled')
          note(`[output too fast: ${msg.droppedBytes} bytes not shown; the full log is in the server's files]`)
        else if (msg.type === 'info' && typeof msg.message === 'string') note(`[${msg.message}]`)
      }
      socket.onclose = (ev) => {
        if (ws !== socket || disposed) return
        ws = null
        if (shellExited) {
          setState({ status: 'ended', detail: 'the shell exited' })
          return
        }
        if (opened && Date.now() - openedAt >= STABLE_MS) attempt = 0
        attempt++
        const delay = retryDelay(attempt)
        const why = opened ? `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})` : 'could not connect (is the server running?)'
        let left = Math.round(delay / 1000)
        setState({ status: 'reconnecting', detail: `${why}; retrying in ${left} s` })
        countdown = setInterval(() => {
          left = Math.max(0, left - 1)
          setState({ status: 'reconnecting', detail: `${why}; retrying in ${left} s` })
        }, 1000)
        retryTimer = setTimeout(connect, delay)
      }
    }
    reconnectNow.current = () => {
      attempt = 0
      const old = ws
      ws = null
      old?.close(1000)
      connect()
      term.focus()
    }

    term.onData((data) => {
      if (editor) editor.input(data)
      else send({ type: 'input', data })
    })
    term.onResize(({ cols, rows }) => {
      if (!isGame) send({ type: 'resize', cols, rows })
    })
    const observer = new ResizeObserver(refit)
    observer.observe(/** @type {HTMLDivElement} */ (box.current))
    connect()

    return () => {
      disposed = true
      clearTimeout(retryTimer)
      clearInterval(countdown)
      observer.disconnect()
      ws?.close(1000)
      term.dispose()
    }
  }, [kind, name, namespace])

  const label = kind === 'GameServer' ? 'Game console' : 'Dev shell'
  return html`<section class="tool console-tool" aria-label=${`${label} of ${name}`}>
    <div class="console-bar">
      <span class=${`console-state console-${state.status}`} role="status" aria-live="polite" data-state=${state.status}>
        ${state.status}${state.detail ? ` · ${state.detail}` : ''}
      </span>
      <span class="console-actions">
        ${
          state.status === 'reconnecting' || state.status === 'ended'
            ? html`<button type="button" class="secondary" onClick=${() => reconnectNow.current()}>
                ${state.status === 'ended' ? 'New shell' : 'Reconnect now'}
              </button>`
            : null
        }
        <button type="button" class="secondary" onClick=${() => focus.current()}>Focus</button>
      </span>
    </div>
    <div class="console-screen" ref=${box} onClick=${() => focus.current()}></div>
    ${
      kind === 'GameServer'
        ? html`<p class="tool-hint">Type a command and press Enter to send it to the game server; ↑/↓ recall earlier commands.</p>`
        : null
    }
  </section>`
}
