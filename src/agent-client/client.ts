// Typed client of the agent's core API. Every call sends the container's bearer token; errors
// surface as AgentClientError carrying the agent's stable code. events() is the state stream:
// an async iterator that reconnects (with backoff) until the caller stops iterating or aborts;
// after each (re)connect the first event is a full `snapshot`, so a consumer never misses state.
//
// Cancellation: every call takes an optional `{ signal }`, and the client may carry a default
// one (AgentClientOptions.signal, e.g. a controller's stop signal); either aborting ends the call.
// Guarantees
//  - An aborted call rejects with AgentClientError code ABORTED (cause: the signal's reason),
//    whether it aborts before the request, while waiting for headers or while reading the body;
//    the HTTP request is cancelled, so its connection is closed, not left open or pooled.
//  - A call whose own timeout passes rejects with TRANSPORT, as an unreachable agent does.
//  - An already-aborted signal sends nothing.
import type {
  AgentErrorBody,
  AgentEvent,
  AgentSnapshotEvent,
  AgentStateEvent,
  AgentStatus,
  CodeServerState,
  DevEnvState,
  RuntimeInstallRequest,
  RuntimeInstallResult,
  RuntimeList,
  RuntimeRemoveResult,
} from '../api/agent-types.ts'
import { AgentClientError, AgentClientErrorCodes } from './errors.ts'
import { parseSse } from './sse.ts'

export interface AgentClientOptions {
  /** e.g. http://10.0.0.12:7070 */
  baseUrl: string
  token: string
  /** per-request timeout (default 30 s; installs use installTimeoutMs) */
  timeoutMs?: number
  /** POST /runtimes waits for the whole install (default 30 min) */
  installTimeoutMs?: number
  /** Aborts every call and stream of this client (in addition to each call's own signal). */
  signal?: AbortSignal
}

/** What every call accepts. */
export interface CallOptions {
  /** Aborting it ends the call with AgentClientError code ABORTED. */
  signal?: AbortSignal
}

/** The signal a fetch runs under: the call's timeout plus every caller signal given. */
export function callSignal(timeoutMs: number | undefined, ...callers: Array<AbortSignal | undefined>): AbortSignal {
  const signals = callers.filter((s): s is AbortSignal => s !== undefined)
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs))
  return AbortSignal.any(signals)
}

/** Maps a failed fetch or body read: ABORTED when a caller's signal aborted, else TRANSPORT. */
export function transportError(method: string, path: string, err: unknown, ...callers: Array<AbortSignal | undefined>): AgentClientError {
  const aborted = callers.find((s) => s?.aborted === true)
  if (aborted !== undefined) {
    return new AgentClientError(
      AgentClientErrorCodes.ABORTED,
      `${method} ${path}: aborted by the caller (${describeReason(aborted.reason)})`,
      0,
      undefined,
      { cause: aborted.reason },
    )
  }
  return new AgentClientError(AgentClientErrorCodes.TRANSPORT, `${method} ${path}: ${(err as Error).message}`, 0, undefined, { cause: err })
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason)
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
  /** The client's default signal (AgentClientOptions.signal). */
  readonly signal: AbortSignal | undefined

  constructor(opts: AgentClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.#token = opts.token
    this.#timeoutMs = opts.timeoutMs ?? 30_000
    this.#installTimeoutMs = opts.installTimeoutMs ?? 30 * 60_000
    this.signal = opts.signal
  }

  /** Any agent route; game routes build on this (src/agent-client/game.ts). */
  async request<T>(method: string, path: string, body?: unknown, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const callers = [this.signal, opts.signal]
    if (callers.some((s) => s?.aborted === true)) throw transportError(method, path, undefined, ...callers)
    let res: Response
    let text: string
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: callSignal(opts.timeoutMs ?? this.#timeoutMs, ...callers),
      })
      text = await res.text()
    } catch (err) {
      throw transportError(method, path, err, ...callers)
    }
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status} with non-JSON`, res.status)
    }
    if (!res.ok) {
      const b = parsed as Partial<AgentErrorBody> | undefined
      if (b && typeof b.code === 'string')
        throw AgentClientError.fromBody({ code: b.code, message: b.message ?? '', statusCode: res.status, detail: b.detail })
      throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status}`, res.status)
    }
    return parsed as T
  }

  status(opts: CallOptions = {}): Promise<AgentStatus> {
    return this.request('GET', '/status', undefined, opts)
  }

  listRuntimes(opts: CallOptions = {}): Promise<RuntimeList> {
    return this.request('GET', '/runtimes', undefined, opts)
  }

  installRuntime(req: RuntimeInstallRequest, opts: CallOptions = {}): Promise<RuntimeInstallResult> {
    return this.request('POST', '/runtimes', req, { timeoutMs: this.#installTimeoutMs, signal: opts.signal })
  }

  switchRuntime(name: string, version: string, opts: CallOptions = {}): Promise<RuntimeInstallResult> {
    return this.request('PUT', `/runtimes/${encodeURIComponent(name)}/current`, { version }, opts)
  }

  removeRuntime(name: string, version: string, opts: CallOptions & { force?: boolean } = {}): Promise<RuntimeRemoveResult> {
    return this.request(
      'DELETE',
      `/runtimes/${encodeURIComponent(name)}/${encodeURIComponent(version)}${opts.force ? '?force=true' : ''}`,
      undefined,
      { signal: opts.signal },
    )
  }

  codeServer(opts: CallOptions = {}): Promise<CodeServerState> {
    return this.request('GET', '/dev/codeserver', undefined, opts)
  }

  startCodeServer(opts: CallOptions = {}): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/start', undefined, { timeoutMs: 120_000, signal: opts.signal })
  }

  stopCodeServer(opts: CallOptions = {}): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/stop', undefined, { timeoutMs: 120_000, signal: opts.signal })
  }

  restartCodeServer(opts: CallOptions = {}): Promise<CodeServerState> {
    return this.request('POST', '/dev/codeserver/restart', undefined, { timeoutMs: 120_000, signal: opts.signal })
  }

  devEnv(opts: CallOptions = {}): Promise<DevEnvState> {
    return this.request('GET', '/dev/env', undefined, opts)
  }

  openapi(opts: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.request('GET', '/openapi.json', undefined, opts)
  }

  /** The state stream; iterate with `for await`. Reconnects until aborted or the loop exits. */
  async *events(options: EventsOptions = {}): AsyncGenerator<AgentEvent> {
    const signal =
      this.signal === undefined
        ? options.signal
        : options.signal === undefined
          ? this.signal
          : AbortSignal.any([this.signal, options.signal])
    const opts = { ...options, signal }
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
        opts.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer)
            resolve()
          },
          { once: true },
        )
      })
      wait = Math.min(wait * 2, max)
    }
  }
}
