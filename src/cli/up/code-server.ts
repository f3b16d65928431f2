// Builds code-server the first time a DevServer needs it (the build and its per-user cache are
// code-server-build.ts), serves the artifact from this start's artifact server and enters it in
// the `code-server` RuntimeCatalog with its real sha256. While it builds, or after it failed, the
// waiting DevServers carry the build's state (CODE_SERVER_BUILD_ANNOTATION, src/api), which the
// controller shows as their condition reason/message and a Warning Event per failed attempt.
//
// Expected flow
//  1. Every few seconds: does a DevServer want code-server while no `code-server` catalog of ours
//     exists (or this start has not applied ours yet, with its artifact URL)?
//  2. If so: build (or reuse the cache), in the background; waiting DevServers say Building with
//     progress ("312 MB of ≈740 MB installed, 2m10s"), refreshed every few seconds.
//  3. Success: link the tarball into the state dir's artifacts, apply the catalog, remove the
//     annotation. Failure: annotate Failed (npm's last lines, the missing package) and try again
//     after a backoff (30 s, 60 s, … 10 min) — no restart needed.
// Guarantees: a catalog someone else made (not managed by zlh-up) is left alone; a failed build
// leaves no catalog, is never replaced by a stand-in; no two builds run in this process.
import type { Logger } from 'pino'
import { runtimeCatalog, type ArtifactServer } from '../artifacts/index.ts'
import {
  CODE_SERVER_BUILD_ANNOTATION,
  CODE_SERVER_RUNTIME,
  DEVSERVER,
  RUNTIMECATALOG,
  formatCodeServerBuild,
  type CodeServerBuildState,
} from '../../api/index.ts'
import { type Client, isNotFound, PatchType, serverSideApply, type KObject } from '../../runtime/index.ts'
import type { Progress } from '../progress.ts'
import { CODE_SERVER_SPEC, ensureCodeServerBuild, linkInto, type NpmCommand } from './code-server-build.ts'

export { CODE_SERVER_SPEC }
const FIELD_MANAGER = 'zlh-up'
const MANAGED_BY = { 'app.kubernetes.io/managed-by': FIELD_MANAGER }

/** Delay before attempt n+1 after n failed attempts: 30 s doubling to 10 min. */
export function retryDelayMs(failures: number, firstMs = 30_000, maxMs = 600_000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, failures - 1))
}

type DevServerLite = KObject & {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> }
  spec?: { codeServer?: { enabled?: boolean }; runtimes?: Array<{ name: string; version?: string }> }
}

/** A DevServer that follows the code-server catalog's channel (not one pinning its own version). */
function waitsForBuild(d: DevServerLite): boolean {
  return (
    d.spec?.codeServer?.enabled !== false &&
    !(d.spec?.runtimes ?? []).some((r) => r.name === CODE_SERVER_RUNTIME && r.version !== undefined)
  )
}

export interface OnDemandOptions {
  client: Client
  artifacts: ArtifactServer
  /** The per-user cache: <cache>/code-server. */
  cacheDir: string
  /** The state dir's artifact directory (the artifact server serves it). */
  outDir: string
  progress: Progress
  log: Logger
  intervalMs?: number
  /** First retry delay (default 30 s; doubles to maxRetryMs, default 10 min). */
  firstRetryMs?: number
  maxRetryMs?: number
  /** How often a waiting DevServer's Building message is refreshed (default 5 s). */
  publishEveryMs?: number
  npm?: NpmCommand
  parentEnv?: NodeJS.ProcessEnv
}

export class CodeServerOnDemand {
  readonly #o: OnDemandOptions
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #building: Promise<void> | undefined
  #applied = false
  #attempt = 0
  #failures = 0
  #retryAt = 0
  #state: CodeServerBuildState | undefined
  #lastPublish = 0
  #stopped = false

  constructor(o: OnDemandOptions) {
    this.#o = o
  }

  start(): void {
    const tick = (): void => {
      if (this.#stopped) return
      void this.#check()
        .catch((err) => this.#o.log.warn({ err: (err as Error).message }, 'code-server check failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs ?? 3000)
        })
    }
    tick()
  }

  async #check(): Promise<void> {
    const list = await this.#o.client.list<DevServerLite>(DEVSERVER)
    const waiting = list.items.filter(waitsForBuild)
    let catalog: KObject | undefined
    try {
      catalog = await this.#o.client.get(RUNTIMECATALOG, CODE_SERVER_RUNTIME)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    const ours =
      catalog === undefined ||
      catalog.metadata?.labels?.['app.kubernetes.io/managed-by'] === FIELD_MANAGER ||
      ((catalog.metadata?.managedFields ?? []) as Array<{ manager?: string }>).some((f) => f.manager === FIELD_MANAGER)
    if (!ours || (catalog !== undefined && this.#applied)) {
      await this.#publish(waiting, undefined)
      return
    }
    if (waiting.length === 0) return
    if (this.#building !== undefined) {
      await this.#publishToWaiting(false)
      return
    }
    if (Date.now() < this.#retryAt) {
      await this.#publish(waiting, this.#state)
      return
    }
    this.#building = this.#build(catalog === undefined).finally(() => {
      this.#building = undefined
    })
  }

  /** `announce`: no catalog yet, so waiting DevServers say Building (a restart re-applying ours from the cache stays quiet). */
  async #build(announce: boolean): Promise<void> {
    const attempt = ++this.#attempt
    const started = Date.now()
    this.#state = { phase: 'Building', attempt, message: `building code-server (${CODE_SERVER_SPEC}) for this DevServer: starting` }
    if (announce) await this.#publishToWaiting(true).catch(() => {})
    else this.#lastPublish = Date.now()
    try {
      const build = await this.#o.progress.step(`building code-server (${CODE_SERVER_SPEC}) for DevServers`, (detail) =>
        ensureCodeServerBuild({
          cacheDir: this.#o.cacheDir,
          npm: this.#o.npm,
          parentEnv: this.#o.parentEnv,
          signal: this.#abort.signal,
          detail: (text) => {
            detail(text)
            this.#state = { phase: 'Building', attempt, message: `building code-server (${CODE_SERVER_SPEC}) for this DevServer: ${text}` }
            if (Date.now() - this.#lastPublish >= (this.#o.publishEveryMs ?? 5000)) void this.#publishToWaiting(false).catch(() => {})
          },
        }),
      )
      if (this.#stopped) return
      const file = await linkInto(build, this.#o.outDir)
      const url = this.#o.artifacts.url(file.slice(file.lastIndexOf('/') + 1))
      const obj = runtimeCatalog(
        CODE_SERVER_RUNTIME,
        [{ artifact: build, url, verify: { command: ['bin/code-server', '--version'], expectOutput: build.version } }],
        { stable: build.version },
      ) as KObject
      obj.metadata = { ...obj.metadata, labels: MANAGED_BY }
      await serverSideApply(this.#o.client, obj, { fieldManager: FIELD_MANAGER })
      this.#applied = true
      this.#failures = 0
      this.#state = undefined
      this.#o.log.info(
        { version: build.version, sha256: build.sha256, cache: build.dir, ms: Date.now() - started },
        'code-server catalog applied',
      )
      await this.#publishToWaiting(true)
    } catch (err) {
      if (this.#stopped) return
      this.#failures++
      const delay = retryDelayMs(this.#failures, this.#o.firstRetryMs, this.#o.maxRetryMs)
      this.#retryAt = Date.now() + delay
      const message = (err as Error).message
      this.#state = { phase: 'Failed', attempt, message, retryAt: new Date(this.#retryAt).toISOString() }
      this.#o.log.error({ err: message, attempt, retryInMs: delay }, 'code-server build failed')
      this.#o.progress.info(`code-server could not be built (attempt ${attempt}); retrying in ${Math.round(delay / 1000)}s: ${message}`, {
        event: 'code-server build failed',
        attempt,
        retryInMs: delay,
      })
      await this.#publishToWaiting(true).catch(() => {})
    }
  }

  async #publishToWaiting(force: boolean): Promise<void> {
    if (!force && Date.now() - this.#lastPublish < (this.#o.publishEveryMs ?? 5000)) return
    this.#lastPublish = Date.now()
    const list = await this.#o.client.list<DevServerLite>(DEVSERVER)
    await this.#publish(list.items.filter(waitsForBuild), this.#state)
  }

  /** Sets (or removes, for undefined) the build annotation on each DevServer where it differs. */
  async #publish(servers: DevServerLite[], state: CodeServerBuildState | undefined): Promise<void> {
    const value = state === undefined ? undefined : formatCodeServerBuild(state)
    for (const ds of servers) {
      if (ds.metadata.annotations?.[CODE_SERVER_BUILD_ANNOTATION] === value) continue
      await this.#o.client
        .patch(
          DEVSERVER,
          ds.metadata.name,
          ds.metadata.namespace,
          { metadata: { annotations: { [CODE_SERVER_BUILD_ANNOTATION]: value ?? null } } },
          PatchType.merge,
          { fieldManager: FIELD_MANAGER },
        )
        .catch((err) => {
          if (!isNotFound(err)) throw err
        })
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#abort.abort()
    if (this.#timer) clearTimeout(this.#timer)
    await this.#building?.catch(() => {})
  }
}
