// Typed client of the agent's game, console, files, uploads and mods routes, on top of
// AgentClient (JSON calls) plus raw byte transfers for files and uploads. Errors surface as
// AgentClientError with the agent's stable code (e.g. FILE_PATH_TRAVERSAL, GAME_NOT_CONFIGURED).
// Every call takes an optional `{ signal }` and honours the client's default one, with the
// guarantees stated in client.ts (ABORTED, the request cancelled, bodies included); an aborted
// console socket is terminated.
import WebSocket from 'ws'
import type {
  DirectoryListing,
  GameCommandRequest,
  GameInfo,
  GameSpecRequest,
  ModSpec,
  ModsListing,
  ModsSetRequest,
  UploadResult,
} from '../api/agent-game-types.ts'
import type { OutboundPolicy } from '../api/outbound.ts'
import type { AgentErrorBody } from '../api/agent-types.ts'
import { AgentClient, callSignal, transportError, type AgentClientOptions, type CallOptions } from './client.ts'
import { AgentClientError } from './errors.ts'

/** A stop waits up to two grace periods (stop command, then SIGTERM); allow for the longest. */
const LIFECYCLE_TIMEOUT_MS = 2 * 3600_000 + 60_000

/** URL path of a root-relative file path. ".." is refused here: URL parsing would resolve it away and send a different request. */
function filePath(p: string): string {
  const parts = p.split('/')
  if (parts.includes('..'))
    throw new AgentClientError('FILE_PATH_TRAVERSAL', `the path ${JSON.stringify(p)} may not contain ".." components`, 400)
  return parts.map(encodeURIComponent).join('/')
}

export class AgentGameClient {
  readonly agent: AgentClient
  readonly #baseUrl: string
  readonly #token: string
  readonly #timeoutMs: number

  constructor(opts: AgentClientOptions) {
    this.agent = new AgentClient(opts)
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.#token = opts.token
    this.#timeoutMs = opts.timeoutMs ?? 30_000
  }

  // ─── game ──────────────────────────────────────────────────────────────────────────────
  game(opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('GET', '/game', undefined, opts)
  }

  /** PUT /game: the GameServer's server + supervision spec, and optionally whether it should run. */
  putGame(spec: GameSpecRequest, opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('PUT', '/game', spec, { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
  }

  startGame(opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('POST', '/game/start', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
  }

  stopGame(opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('POST', '/game/stop', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
  }

  restartGame(opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('POST', '/game/restart', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
  }

  /** POST /game/wake: starts a sleeping game; AGENT_GAME_NOT_SLEEPING (409) when it is not asleep. */
  wakeGame(opts: CallOptions = {}): Promise<GameInfo> {
    return this.agent.request('POST', '/game/wake', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
  }

  /** POST /game/command: one line to the game's console; GAME_NOT_RUNNING (409) when no game runs. */
  async sendCommand(line: string, opts: CallOptions = {}): Promise<void> {
    const body: GameCommandRequest = { line }
    await this.agent.request('POST', '/game/command', body, opts)
  }

  // ─── consoles ──────────────────────────────────────────────────────────────────────────
  /** Opens GET /game/console or /dev/console (JSON frames: see ConsoleServerMessage / ConsoleClientMessage). */
  openConsole(which: 'game' | 'dev', opts: CallOptions & { session?: string } = {}): WebSocket {
    const q = which === 'dev' && opts.session ? `?session=${encodeURIComponent(opts.session)}` : ''
    const ws = new WebSocket(`${this.#baseUrl.replace(/^http/, 'ws')}/${which}/console${q}`, {
      headers: { authorization: `Bearer ${this.#token}` },
    })
    const signals = [this.agent.signal, opts.signal].filter((x): x is AbortSignal => x !== undefined)
    if (signals.length > 0) {
      const signal = AbortSignal.any(signals)
      const terminate = (): void => ws.terminate()
      if (signal.aborted) terminate()
      else {
        signal.addEventListener('abort', terminate, { once: true })
        ws.once('close', () => signal.removeEventListener('abort', terminate))
      }
    }
    return ws
  }

  // ─── mods ──────────────────────────────────────────────────────────────────────────────
  mods(opts: CallOptions = {}): Promise<ModsListing> {
    return this.agent.request('GET', '/mods', undefined, opts)
  }

  installMod(mod: ModSpec, opts: CallOptions & { restart?: boolean } = {}): Promise<ModsListing> {
    return this.agent.request(
      'PUT',
      `/mods/${encodeURIComponent(mod.name)}${opts.restart ? '?restart=true' : ''}`,
      { url: mod.url, sha256: mod.sha256 },
      { timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal },
    )
  }

  /** The whole desired list (spec.mods). */
  /** Replaces the mod set. `outbound`: the sources its downloads may come from (a provider's
   * policy; without one the agent downloads nothing); `timeoutMs` overrides the lifecycle timeout. */
  setMods(
    mods: ModSpec[],
    opts: CallOptions & { restart?: boolean; outbound?: OutboundPolicy; timeoutMs?: number } = {},
  ): Promise<ModsListing> {
    const body: ModsSetRequest = { mods, ...(opts.outbound !== undefined ? { outbound: opts.outbound } : {}) }
    return this.agent.request('PUT', `/mods${opts.restart ? '?restart=true' : ''}`, body, {
      timeoutMs: opts.timeoutMs ?? LIFECYCLE_TIMEOUT_MS,
      signal: opts.signal,
    })
  }

  removeMod(name: string, opts: CallOptions & { restart?: boolean } = {}): Promise<ModsListing> {
    return this.agent.request('DELETE', `/mods/${encodeURIComponent(name)}${opts.restart ? '?restart=true' : ''}`, undefined, {
      timeoutMs: LIFECYCLE_TIMEOUT_MS,
      signal: opts.signal,
    })
  }

  // ─── files and uploads ─────────────────────────────────────────────────────────────────
  list(path = '', opts: CallOptions = {}): Promise<DirectoryListing> {
    return this.agent.request('GET', `/files/${filePath(path)}`, undefined, opts)
  }

  async readFile(path: string, opts: CallOptions = {}): Promise<Buffer> {
    const p = `/files/${filePath(path)}`
    const res = await this.#raw('GET', p, { signal: opts.signal })
    return Buffer.from(await this.#read('GET', p, opts, () => res.arrayBuffer()))
  }

  async writeFile(
    path: string,
    body: Buffer | string | ReadableStream<Uint8Array>,
    opts: CallOptions = {},
  ): Promise<{ path: string; bytes: number }> {
    const p = `/files/${filePath(path)}`
    const res = await this.#raw('PUT', p, { body, signal: opts.signal })
    return (await this.#read('PUT', p, opts, () => res.json())) as { path: string; bytes: number }
  }

  async deleteFile(path: string, opts: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    await this.#raw('DELETE', `/files/${filePath(path)}${opts.recursive ? '?recursive=true' : ''}`, { signal: opts.signal })
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<void> {
    await this.#raw('POST', `/files/${filePath(path)}?op=mkdir`, { signal: opts.signal })
  }

  async rename(from: string, to: string, opts: CallOptions = {}): Promise<void> {
    await this.#raw('POST', `/files/${filePath(from)}?op=rename`, { body: JSON.stringify({ to }), signal: opts.signal })
  }

  /** POST /uploads: a raw streamed upload; with `extract`, `path` is the directory a zip/tar.gz is extracted into. */
  async upload(
    path: string,
    body: Buffer | ReadableStream<Uint8Array>,
    opts: CallOptions & { extract?: boolean; format?: 'zip' | 'tar.gz' } = {},
  ): Promise<UploadResult> {
    const q = new URLSearchParams()
    if (opts.extract) q.set('extract', 'true')
    if (opts.format) q.set('format', opts.format)
    const qs = q.size > 0 ? `?${q}` : ''
    const p = `/uploads/${filePath(path)}${qs}`
    const res = await this.#raw('POST', p, { body, timeoutMs: LIFECYCLE_TIMEOUT_MS, signal: opts.signal })
    return (await this.#read('POST', p, opts, () => res.json())) as UploadResult
  }

  /** Reads a response body, mapping an abort or a broken connection as the request itself. */
  async #read<T>(method: string, path: string, opts: CallOptions, read: () => Promise<T>): Promise<T> {
    try {
      return await read()
    } catch (err) {
      if (err instanceof SyntaxError) throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered with non-JSON`)
      throw transportError(method, path, err, this.agent.signal, opts.signal)
    }
  }

  async #raw(
    method: string,
    path: string,
    opts: CallOptions & { body?: Buffer | string | ReadableStream<Uint8Array>; timeoutMs?: number } = {},
  ): Promise<Response> {
    const { body, timeoutMs = this.#timeoutMs } = opts
    const callers = [this.agent.signal, opts.signal]
    if (callers.some((s) => s?.aborted === true)) throw transportError(method, path, undefined, ...callers)
    let res: Response
    try {
      res = await fetch(this.#baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}) },
        body: body as RequestInit['body'],
        signal: callSignal(timeoutMs, ...callers),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit)
    } catch (err) {
      throw transportError(method, path, err, ...callers)
    }
    if (res.ok) return res
    let b: Partial<AgentErrorBody> | undefined
    try {
      b = (await res.json()) as Partial<AgentErrorBody>
    } catch (err) {
      if (callers.some((x) => x?.aborted === true)) throw transportError(method, path, err, ...callers)
      b = undefined
    }
    if (b && typeof b.code === 'string')
      throw AgentClientError.fromBody({ code: b.code, message: b.message ?? '', statusCode: res.status, detail: b.detail })
    throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status}`, res.status)
  }
}
