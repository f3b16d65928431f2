// The portal API as the console uses it: fetch with the session cookie (sent by the browser, never
// readable here) and the session's CSRF value in X-ZLH-CSRF; errors as ApiError with the portal's
// {code, message, hint, errors[]} body; the status event stream read from fetch (EventSource cannot
// send the CSRF header) with reconnect and backoff.

/** @typedef {{user: string, scopes: string[], namespaces: string[], csrf: string, expiresAt: string}} Session */

let csrf = ''
/** @type {Array<() => void>} */
const signedOutListeners = []

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{code?: string, message?: string, hint?: string, errors?: Array<{field: string, message: string}>}} body
   */
  constructor(status, body) {
    super(body.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body.code ?? ''
    this.hint = body.hint ?? ''
    /** @type {Array<{field: string, message: string}>} */
    this.errors = Array.isArray(body.errors) ? body.errors : []
  }
}

/** Calls `listener` when the API says the session is gone (401). */
export function onSignedOut(listener) {
  signedOutListeners.push(listener)
}

async function parse(res) {
  const text = await res.text()
  let body
  try {
    body = text ? JSON.parse(text) : {}
  } catch {
    body = { message: text.slice(0, 200) }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, body)
    if (res.status === 401 && err.code !== 'ZLH_GW_CONSOLE_SIGN_IN_INVALID') for (const l of signedOutListeners) l()
    throw err
  }
  return body
}

/** The current session, or null when not signed in. @returns {Promise<Session | null>} */
export async function currentSession() {
  const res = await fetch('/console/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
  const session = await parse(res)
  if (!session.signedIn) return null
  csrf = session.csrf
  return session
}

/** @param {string} token @returns {Promise<Session>} */
export async function signIn(token) {
  const res = await fetch('/console/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token }),
  })
  const session = await parse(res)
  csrf = session.csrf
  return session
}

export async function signOut() {
  csrf = ''
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin' })
}

/**
 * One portal API call. `path` is built by the caller from encoded parts (see `serverPath`).
 * @param {string} method @param {string} path @param {unknown} [body]
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'x-zlh-csrf': csrf }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return parse(res)
}

/** The CSRF header for modules that call fetch/XHR themselves (uploads with progress). */
export function csrfHeaders() {
  return { 'x-zlh-csrf': csrf }
}

/**
 * `/api/<game|dev>/<name>[/<rest>]?namespace=<ns>`, every part encoded.
 * @param {'GameServer'|'DevServer'} kind @param {string} namespace @param {string} name @param {string} [rest]
 */
export function serverPath(kind, namespace, name, rest = '') {
  const seg = kind === 'GameServer' ? 'game' : 'dev'
  return `/api/${seg}/${encodeURIComponent(name)}${rest}?namespace=${encodeURIComponent(namespace)}`
}

/**
 * Follows GET /api/events: `onSnapshot(items)` after every (re)connect, `onChange(change)` per
 * change, `onState('live'|'connecting'|'offline'|'refused', retryInMs?, message?)`. Reconnects
 * with backoff (1 s doubling to 30 s, reset once live); a 4xx refusal stops it ('refused', with
 * the API's message). Returns a function that stops it.
 */
export function followEvents({ onSnapshot, onChange, onState }) {
  let stopped = false
  let controller = new AbortController()
  let delay = 1000
  let timer = 0
  const run = async () => {
    if (stopped) return
    controller = new AbortController()
    onState('connecting')
    try {
      const res = await fetch('/api/events', {
        credentials: 'same-origin',
        headers: { accept: 'text/event-stream', 'x-zlh-csrf': csrf },
        signal: controller.signal,
      })
      if (!res.ok || !res.body) {
        await parse(res)
        throw new Error(`HTTP ${res.status}`)
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim()
            else if (line.startsWith('data:')) data += line.slice(5).trim()
          }
          if (!data) continue
          const parsed = JSON.parse(data)
          if (event === 'snapshot') {
            delay = 1000
            onState('live')
            onSnapshot(parsed.items)
          } else if (event === 'status') onChange(parsed)
        }
      }
    } catch (err) {
      if (stopped) return
      if (err instanceof ApiError && err.status === 401) return
      // A refusal (no servers:read scope, a namespace not held) does not heal by retrying.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        onState('refused', 0, err.message)
        return
      }
    }
    if (stopped) return
    onState('offline', delay)
    timer = setTimeout(run, delay)
    delay = Math.min(delay * 2, 30_000)
  }
  run()
  return () => {
    stopped = true
    clearTimeout(timer)
    controller.abort()
  }
}
