// Typed client of the agent's core API. Every call sends the container's bearer token; errors
// surface as AgentClientError carrying the agent's stable code. events() is the state stream:
// an async iterator that reconnects (with backoff) until the caller stops iterating or aborts;
// after each (re)connect the first event is a full `snapshot`, so a consumer never misses state.
import type {
  AgentErrorBody, AgentEvent, AgentSnapshotEvent, AgentStateEvent, AgentStatus, CodeServerState, DevEnvState,
  RuntimeInstallRequest, RuntimeInstallResult, RuntimeList, RuntimeRemoveResult,
} from '../api/agent-types.ts'
import { AgentClientError } from './errors.ts'
import { parseSse } from './sse.ts'

export interface AgentClientOptions {
  /** e.g. http://10.0.0.12:7070 */
  baseUrl: string
  token: string
  /** per-request timeout (default 30 s; installs use installTimeoutMs) */
  timeoutMs?: number
  /** POST /runtimes waits for the whole install (default 30 min) */
  installTimeoutMs?: number
}

export interface EventsOptions {
  signal?: AbortSignal
  /** first reconnect delay, doubled up to maxReconnectDelayMs (default 500 ms / 10 s) */
  reconnectDelayMs?: number
  maxReconnectDelayMs?: number
  /** called when the stream broke and a reconnect is scheduled */
  onReconnect?: (err: unknown, delayMs: number) => void
}

export class AgentClient {
  readonly baseUrl: string
  readonly #token: string
  readonly #timeoutMs: number
  readonly #installTimeoutMs: number

  constructor(opts: AgentClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.#token = opts.token
    this.#timeoutMs = opts.timeoutMs ?? 30_000
    this.#installTimeoutMs = opts.installTimeoutMs ?? 30 * 60_000
  }

  /** Any agent route; game routes build on this (src/agent-client/game.ts). */
  async request<T>(method: string, path: string, body?: unknown, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs)]
    if (opts.signal) signals.push(opts.signal)
    let res: Response
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.any(signals),
      })
    } catch (err) {
      throw new AgentClientError('TRANSPORT', `${method} ${path}: ${(err as Error).message}`)
    }
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status} with non-JSON`, res.status)
    }
    if (!res.ok) {
      const b = parsed as Partial<AgentErrorBody> | undefined
      if (b && typeof b.code === 'string') throw AgentClientError.fromBody({ code: b.code, message: b.message ?? '', statusCode: res.status, detail: b.detail })
      throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status}`, res.status)
    }
    return parsed as T
  }

  status(): Promise<AgentStatus> {
    return this.request('GET', '/status')
  }

  listRuntimes(): Promise<RuntimeList> {
    return this.request('GET', '/runtimes')
  }

  installRuntime(req: RuntimeInstallRequest, opts: { signal?: AbortSignal } = {}): Promise<RuntimeInstallResult> {
    return this.request('POST', '/runtimes', req, { timeoutMs: this.#installTimeoutMs, signal: opts.signal })
  }

  switchRuntime(name: string, version: string): Promise<RuntimeInstallResult> {
    return this.request('PUT', `/runtimes/${encodeURIComponent(name)}/current`, { version })
  }

  removeRuntime(name: string, version: string, opts: { force?: boolean } = {}): Promise<RuntimeRemoveResult> {
    return this.request('DELETE', `/runtimes/${encodeURIComponent(name)}/${encodeURIComponent(version)}${opts.force ? '?force=true' : ''}`)
  }

  codeServer(): Promise<CodeServerState> {
    return this.request('GET', '/dev/codeserver')
  }

  startCodeServer(): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/start', undefined, { timeoutMs: 120_000 })
  }

  stopCodeServer(): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/stop', undefined, { timeoutMs: 120_000 })
  }

  restartCodeServer(): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/restart', undefined, { timeoutMs: 120_000 })
  }

  devEnv(): Promise<DevEnvState> {
    return this.request('GET', '/dev/env')
  }

  openapi(): Promise<Record<string, unknown>> {
    return this.request('GET', '/openapi.json')
  }

  /** The state stream; iterate with `for await`. Reconnects until aborted or the loop exits. */
  async *events(opts: EventsOptions = {}): AsyncGenerator<AgentEvent> {
    const first = opts.reconnectDelayMs ?? 500
    const max = opts.maxReconnectDelayMs ?? 10_000
    let wait = first
    let lastId: string | undefined
    while (!opts.signal?.aborted) {
      let failure: unknown
      try {
        const res = await fetch(`${this.baseUrl}/events`, {
          headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
          signal: opts.signal,
        })
        if (res.status === 401) throw new AgentClientError('UNAUTHORIZED', 'the agent refused the token', 401)
        if (!res.ok || !res.body) throw new AgentClientError('BAD_RESPONSE', `GET /events answered ${res.status}`, res.status)
        for await (const msg of parseSse(res.body)) {
          wait = first
          if (msg.id !== undefined) lastId = msg.id
          if (msg.event === 'snapshot') yield { type: 'snapshot', data: JSON.parse(msg.data) as AgentSnapshotEvent }
          else if (msg.event === 'state') yield { type: 'state', data: JSON.parse(msg.data) as AgentStateEvent }
        }
        failure = new Error('the event stream ended')
      } catch (err) {
        if (opts.signal?.aborted) return
        if (err instanceof AgentClientError && err.code === 'UNAUTHORIZED') throw err
        failure = err
      }
      opts.onReconnect?.(failure, wait)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        opts.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
      wait = Math.min(wait * 2, max)
    }
  }
}
