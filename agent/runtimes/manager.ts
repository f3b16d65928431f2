// The runtime manager: install (download → extract → verify → commit → switch), switch, remove,
// with an install guard, progress published to the state hub, and graceful draining.
//
// Expected flow of an install:
//   1. Requests for the same name@version coalesce onto one in-flight install; a different url or
//      sha256 for it while in flight is INSTALL_CONFLICT. Operations on one runtime name are
//      serialized (a per-name queue); different names proceed in parallel.
//   2. Installed and verified with the same sha256 → no download; only `current` is (re)pointed.
//   3. Disk-space check (catalog size before the request, announced size from the headers),
//      streaming download (only from the sources the request's outbound policy allows; none → refused) with the tar extracted as it arrives into a private staging dir,
//      sha256 compared at the end, then the catalog verify command.
//   4. Commit: marker written into the tree, tree renamed into runtimes/<name>/<version>, then
//      `current` switched (rename of a fresh symlink). Listeners get 'switched' (to restart what
//      used the old version) and `onChanged` rewrites the dev environment.
// Guarantees: a failed or aborted install leaves nothing behind (staging is removed); a crash at
// any point leaves the old or the new version complete — see RuntimeStore.recover().
// Caveats: once the commit step starts it is not aborted; drain() lets it finish.
import { EventEmitter } from 'node:events'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { AgentPaths } from '../paths.ts'
import type { Logger } from '../log.ts'
import type { StateHub } from '../state.ts'
import type {
  InstallProgress,
  RuntimeInstallRequest,
  RuntimeInstallResult,
  RuntimeList,
  RuntimeRemoveResult,
} from '../../src/api/agent-types.ts'
import { AgentError, isAgentError } from '../errors.ts'
import type { FaultHook } from '../fault.ts'
import { downloadArtifact } from './fetcher.ts'
import type { ArtifactSink } from './fetcher.ts'
import { runVerify } from './verify.ts'
import { assertDiskSpace } from './disk.ts'
import { RuntimeStore, assertSafeName } from './store.ts'

export interface RuntimeManagerOptions {
  paths: AgentPaths
  log: Logger
  hub: StateHub
  /** environment for verify commands (the dev environment) */
  env: () => Record<string, string>
  /** called after the set of installed/current runtimes changed (rewrites the dev environment) */
  onChanged?: () => Promise<void>
  maxArtifactBytes?: number
  downloadTimeoutMs?: number
  stallTimeoutMs?: number
  downloadAttempts?: number
  verifyTimeoutMs?: number
  diskExpansionFactor?: number
  diskReserveBytes?: number
  fault?: FaultHook
}

export interface RuntimeSwitchedEvent {
  name: string
  from: string | null
  to: string | null
}

interface InFlight {
  request: RuntimeInstallRequest
  progress: InstallProgress
  abort: AbortController
  promise: Promise<RuntimeInstallResult>
}

export class RuntimeManager extends EventEmitter<{ switched: [RuntimeSwitchedEvent] }> {
  readonly store: RuntimeStore
  readonly #o: RuntimeManagerOptions
  readonly #log: Logger
  readonly #inflight = new Map<string, InFlight>()
  readonly #queues = new Map<string, Promise<unknown>>()
  #closing = false
  #lastProgressPublish = 0

  constructor(opts: RuntimeManagerOptions) {
    super()
    this.#o = opts
    this.#log = opts.log.child({ component: 'runtimes' })
    this.store = new RuntimeStore(opts.paths, this.#log)
  }

  /** Startup: repair whatever a crash left, then publish the installed set. */
  async init(): Promise<void> {
    await this.store.recover()
    await this.#publish()
  }

  async list(): Promise<RuntimeList> {
    return { runtimes: await this.store.list(), installing: [...this.#inflight.values()].map((f) => ({ ...f.progress })) }
  }

  /** Bin directories of runtimes with a current version, for PATH. */
  async binDirs(): Promise<string[]> {
    return (await this.store.list()).filter((r) => r.current !== null).map((r) => r.binDir)
  }

  install(request: RuntimeInstallRequest): Promise<RuntimeInstallResult> {
    assertSafeName('name', request.name)
    assertSafeName('version', request.version)
    const sha256 = request.sha256.toLowerCase()
    const key = `${request.name}@${request.version}`
    const running = this.#inflight.get(key)
    if (running) {
      if (running.request.url !== request.url || running.request.sha256.toLowerCase() !== sha256) {
        return Promise.reject(new AgentError('INSTALL_CONFLICT', `${key} is being installed from ${running.request.url}`))
      }
      return running.promise
    }
    if (this.#closing) return Promise.reject(new AgentError('SHUTTING_DOWN'))
    const abort = new AbortController()
    const entry: InFlight = {
      request: { ...request, sha256 },
      progress: { name: request.name, version: request.version, phase: 'queued', receivedBytes: 0 },
      abort,
      promise: Promise.resolve() as unknown as Promise<RuntimeInstallResult>,
    }
    entry.promise = this.#serialize(request.name, () => this.#install(entry)).finally(() => {
      this.#inflight.delete(key)
      void this.#publish()
    })
    this.#inflight.set(key, entry)
    void this.#publish()
    return entry.promise
  }

  /** Point `current` at an installed version (rollback / roll forward). */
  switchTo(name: string, version: string): Promise<RuntimeInstallResult> {
    assertSafeName('name', name)
    assertSafeName('version', version)
    return this.#serialize(name, async () => {
      if (!(await this.store.marker(name, version))) throw new AgentError('RUNTIME_NOT_FOUND', `${name} ${version} is not installed`)
      const previous = await this.#activate(name, version)
      await this.#changed()
      return { name, version, downloaded: false, current: version, previous }
    })
  }

  remove(name: string, version: string, opts: { force?: boolean } = {}): Promise<RuntimeRemoveResult> {
    assertSafeName('name', name)
    assertSafeName('version', version)
    return this.#serialize(name, async () => {
      if (!(await this.store.marker(name, version))) throw new AgentError('RUNTIME_NOT_FOUND', `${name} ${version} is not installed`)
      const current = await this.store.current(name)
      if (current === version && !opts.force) throw new AgentError('RUNTIME_IN_USE', `${name} ${version} is current`)
      await this.store.remove(name, version)
      let next = current
      if (current === version) {
        next = (await this.store.versions(name))[0] ?? null
        await this.store.switchCurrent(name, next)
        this.emit('switched', { name, from: version, to: next })
      }
      await this.store.pruneEmpty(name)
      this.#log.info({ runtime: name, version, current: next, forced: !!opts.force }, 'runtime version removed')
      await this.#changed()
      return { name, version, current: next }
    })
  }

  /** Shutdown: let in-flight installs finish for up to graceMs, then roll back the rest. */
  async drain(graceMs: number): Promise<void> {
    this.#closing = true
    const pending = [...this.#inflight.values()]
    if (pending.length === 0) return
    const settled = Promise.allSettled(pending.map((p) => p.promise))
    const timer = setTimeout(() => {
      for (const p of pending) if (p.progress.phase !== 'committing') p.abort.abort(new AgentError('INSTALL_ABORTED'))
    }, graceMs)
    await settled
    clearTimeout(timer)
  }

  #serialize<T>(name: string, op: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(name) ?? Promise.resolve()
    const next = prev.catch(() => {}).then(op)
    const tail = next.catch(() => {})
    this.#queues.set(name, tail)
    void tail.then(() => {
      if (this.#queues.get(name) === tail) this.#queues.delete(name)
    })
    return next
  }

  async #install(entry: InFlight): Promise<RuntimeInstallResult> {
    const { request, progress, abort } = entry
    const { name, version, sha256 } = request
    const log = this.#log.child({ runtime: name, version })
    const installed = await this.store.marker(name, version)
    if (installed) {
      if (installed.sha256 !== sha256) {
        throw new AgentError(
          'INSTALL_CONFLICT',
          `${name} ${version} is installed with sha256 ${installed.sha256}, not ${sha256}; remove it first`,
        )
      }
      const previous = request.activate === false ? undefined : await this.#activate(name, version)
      if (previous !== undefined && previous !== version) await this.#changed()
      return { name, version, downloaded: false, current: await this.store.current(name), previous }
    }
    if (abort.signal.aborted || this.#closing) throw new AgentError('INSTALL_ABORTED', `${name} ${version} was not started`)

    const staging = await this.store.newStagingDir(name, version)
    try {
      const diskCheck = (bytes: number): Promise<void> =>
        assertDiskSpace({
          dir: this.#o.paths.runtimes,
          artifactBytes: bytes,
          expansionFactor: this.#o.diskExpansionFactor,
          reserveBytes: this.#o.diskReserveBytes,
        })
      if (request.sizeBytes) await diskCheck(request.sizeBytes)
      const tree = path.join(staging, 'tree')
      progress.phase = 'downloading'
      void this.#publish()
      const started = Date.now()
      const result = await downloadArtifact(
        {
          url: request.url,
          ...(request.outbound !== undefined ? { outbound: request.outbound } : {}),
          label: `runtime ${name} ${version}`,
          sha256,
          maxBytes: this.#o.maxArtifactBytes,
          timeoutMs: this.#o.downloadTimeoutMs,
          stallTimeoutMs: this.#o.stallTimeoutMs,
          attempts: this.#o.downloadAttempts,
          signal: abort.signal,
          onHeaders: async (total) => {
            progress.totalBytes = total
            if (total !== undefined && !request.sizeBytes) await diskCheck(total)
          },
          onProgress: (received) => {
            progress.receivedBytes = received
            this.#throttledPublish()
          },
        },
        extractSink(tree, `${name} ${version}`),
      )
      log.info({ bytes: result.size, ms: Date.now() - started }, 'artifact downloaded, verified and extracted')
      this.#o.fault?.('after-download')

      const root = await singleTopDir(tree)
      if (request.verify) {
        progress.phase = 'verifying'
        void this.#publish()
        await runVerify({
          tree: root,
          verify: request.verify,
          env: this.#o.env(),
          timeoutMs: this.#o.verifyTimeoutMs,
          signal: abort.signal,
        })
      }
      this.#o.fault?.('after-verify')
      if (abort.signal.aborted) throw new AgentError('INSTALL_ABORTED', `${name} ${version} was rolled back`)

      progress.phase = 'committing'
      void this.#publish()
      await this.store.commit(root, { name, version, sha256, url: request.url, installedAt: new Date().toISOString(), verified: true })
      this.#o.fault?.('after-commit')
      const previous = request.activate === false ? undefined : await this.#activate(name, version)
      log.info({ previous }, 'runtime installed')
      await this.#changed()
      return { name, version, downloaded: true, current: await this.store.current(name), previous }
    } catch (err) {
      log.warn({ code: isAgentError(err) ? err.code : undefined, err: (err as Error).message }, 'runtime install failed; rolled back')
      throw err
    } finally {
      await fs.rm(staging, { recursive: true, force: true })
    }
  }

  /** Switch current to version; returns the previous current. */
  async #activate(name: string, version: string): Promise<string | null> {
    const previous = await this.store.current(name)
    if (previous === version) return previous
    await this.store.switchCurrent(name, version, this.#o.fault)
    this.emit('switched', { name, from: previous, to: version })
    return previous
  }

  async #changed(): Promise<void> {
    await this.#o.onChanged?.()
    await this.#publish()
  }

  #throttledPublish(): void {
    const now = Date.now()
    if (now - this.#lastProgressPublish < 250) return
    this.#lastProgressPublish = now
    void this.#publish()
  }

  async #publish(): Promise<void> {
    try {
      this.#o.hub.update('runtimes', await this.list())
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not read the runtime store')
    }
  }
}

/** Extract as the bytes arrive; a retry starts from an empty tree. */
function extractSink(tree: string, label: string): ArtifactSink {
  return {
    resumable: false,
    async open() {
      await fs.rm(tree, { recursive: true, force: true })
      await fs.mkdir(tree, { recursive: true })
      // tar is loaded by the first install, not when the agent starts.
      const { safeExtractor } = await import('./extract.ts')
      return safeExtractor({ dir: tree, label })
    },
    async discard() {
      await fs.rm(tree, { recursive: true, force: true })
    },
  }
}

/** Archives often wrap everything in one top directory (node-v22.1.0-linux-x64/); use its content,
 * unless the archive root already is the runtime root (it has bin/, e.g. an archive of just bin/). */
async function singleTopDir(tree: string): Promise<string> {
  const entries = await fs.readdir(tree, { withFileTypes: true })
  if (entries.length === 1 && entries[0]!.isDirectory() && entries[0]!.name !== 'bin') return path.join(tree, entries[0]!.name)
  return tree
}
