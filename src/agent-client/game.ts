// Typed client of the agent's game, console, files, uploads and mods routes, on top of
// AgentClient (JSON calls) plus raw byte transfers for files and uploads. Errors surface as
// AgentClientError with the agent's stable code (e.g. FILE_PATH_TRAVERSAL, GAME_NOT_CONFIGURED).
import WebSocket from 'ws'
import type {
  DirectoryListing, GameInfo, GameSpecRequest, ModSpec, ModsListing, UploadResult,
} from '../api/agent-game-types.ts'
import type { AgentErrorBody } from '../api/agent-types.ts'
import { AgentClient, type AgentClientOptions } from './client.ts'
import { AgentClientError } from './errors.ts'

/** A stop waits up to two grace periods (stop command, then SIGTERM); allow for the longest. */
const LIFECYCLE_TIMEOUT_MS = 2 * 3600_000 + 60_000

/** URL path of a root-relative file path. ".." is refused here: URL parsing would resolve it away and send a different request. */
function filePath(p: string): string {
  const parts = p.split('/')
  if (parts.includes('..')) throw new AgentClientError('FILE_PATH_TRAVERSAL', `the path ${JSON.stringify(p)} may not contain ".." components`, 400)
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
  game(): Promise<GameInfo> {
    return this.agent.request('GET', '/game')
  }

  /** PUT /game: the GameServer's server + supervision spec, and optionally whether it should run. */
  putGame(spec: GameSpecRequest): Promise<GameInfo> {
    return this.agent.request('PUT', '/game', spec, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  startGame(): Promise<GameInfo> {
    return this.agent.request('POST', '/game/start', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  stopGame(): Promise<GameInfo> {
    return this.agent.request('POST', '/game/stop', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  restartGame(): Promise<GameInfo> {
    return this.agent.request('POST', '/game/restart', undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  // ─── consoles ──────────────────────────────────────────────────────────────────────────
  /** Opens GET /game/console or /dev/console (JSON frames: see ConsoleServerMessage / ConsoleClientMessage). */
  openConsole(which: 'game' | 'dev', opts: { session?: string } = {}): WebSocket {
    const q = which === 'dev' && opts.session ? `?session=${encodeURIComponent(opts.session)}` : ''
    return new WebSocket(`${this.#baseUrl.replace(/^http/, 'ws')}/${which}/console${q}`, { headers: { authorization: `Bearer ${this.#token}` } })
  }

  // ─── mods ──────────────────────────────────────────────────────────────────────────────
  mods(): Promise<ModsListing> {
    return this.agent.request('GET', '/mods')
  }

  installMod(mod: ModSpec, opts: { restart?: boolean } = {}): Promise<ModsListing> {
    return this.agent.request('PUT', `/mods/${encodeURIComponent(mod.name)}${opts.restart ? '?restart=true' : ''}`, { url: mod.url, sha256: mod.sha256 }, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  /** The whole desired list (spec.mods). */
  setMods(mods: ModSpec[], opts: { restart?: boolean } = {}): Promise<ModsListing> {
    return this.agent.request('PUT', `/mods${opts.restart ? '?restart=true' : ''}`, { mods }, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  removeMod(name: string, opts: { restart?: boolean } = {}): Promise<ModsListing> {
    return this.agent.request('DELETE', `/mods/${encodeURIComponent(name)}${opts.restart ? '?restart=true' : ''}`, undefined, { timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  // ─── files and uploads ─────────────────────────────────────────────────────────────────
  list(path = ''): Promise<DirectoryListing> {
    return this.agent.request('GET', `/files/${filePath(path)}`)
  }

  async readFile(path: string): Promise<Buffer> {
    const res = await this.#raw('GET', `/files/${filePath(path)}`)
    return Buffer.from(await res.arrayBuffer())
  }

  async writeFile(path: string, body: Buffer | string | ReadableStream<Uint8Array>): Promise<{ path: string; bytes: number }> {
    return await (await this.#raw('PUT', `/files/${filePath(path)}`, body)).json() as { path: string; bytes: number }
  }

  async deleteFile(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    await this.#raw('DELETE', `/files/${filePath(path)}${opts.recursive ? '?recursive=true' : ''}`)
  }

  async mkdir(path: string): Promise<void> {
    await this.#raw('POST', `/files/${filePath(path)}?op=mkdir`)
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#raw('POST', `/files/${filePath(from)}?op=rename`, JSON.stringify({ to }))
  }

  /** POST /uploads: a raw streamed upload; with `extract`, `path` is the directory a zip/tar.gz is extracted into. */
  async upload(path: string, body: Buffer | ReadableStream<Uint8Array>, opts: { extract?: boolean; format?: 'zip' | 'tar.gz' } = {}): Promise<UploadResult> {
    const q = new URLSearchParams()
    if (opts.extract) q.set('extract', 'true')
    if (opts.format) q.set('format', opts.format)
    const qs = q.size > 0 ? `?${q}` : ''
    return await (await this.#raw('POST', `/uploads/${filePath(path)}${qs}`, body, LIFECYCLE_TIMEOUT_MS)).json() as UploadResult
  }

  async #raw(method: string, path: string, body?: Buffer | string | ReadableStream<Uint8Array>, timeoutMs = this.#timeoutMs): Promise<Response> {
    let res: Response
    try {
      res = await fetch(this.#baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}) },
        body: body as RequestInit['body'],
        signal: AbortSignal.timeout(timeoutMs),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit)
    } catch (err) {
      throw new AgentClientError('TRANSPORT', `${method} ${path}: ${(err as Error).message}`)
    }
    if (res.ok) return res
    let b: Partial<AgentErrorBody> | undefined
    try { b = await res.json() as Partial<AgentErrorBody> } catch { b = undefined }
    if (b && typeof b.code === 'string') throw AgentClientError.fromBody({ code: b.code, message: b.message ?? '', statusCode: res.status, detail: b.detail })
    throw new AgentClientError('BAD_RESPONSE', `${method} ${path}: answered ${res.status}`, res.status)
  }
}
