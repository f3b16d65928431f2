// The code-server addon: starts, stops and watches code-server installed as the `code-server`
// runtime, as the dev user, bound to `bindAddr` with `--auth none` (the gateway authenticates).
//
// Expected flow:
//   1. init(): read the desired state (<state>/codeserver.json), find an instance that outlived
//      the agent by scanning /proc for our --user-data-dir and adopt it; start one if enabled and
//      none runs; stop a found one if the desired state says stopped.
//   2. start/stop/restart persist the desired state first, then act.
//   3. A watched instance that dies while enabled is restarted after a backoff (reset once it had
//      run for resetAfterMs); /healthz is polled and a long-unhealthy instance is restarted.
//   4. A runtime switch of `code-server` (upgrade/rollback) restarts a running instance.
// Guarantees: at most one instance per agent root (adopt, never duplicate); code-server runs in
// its own process group so it survives an agent restart; close() leaves it running.
// Assumptions: the runtime's tree has bin/code-server (as code-server's release tarballs do).
// Why this is not the game supervisor (agent/game/supervisor.ts): see that module's header; the
// game needs a wrapper that outlives the agent, exit records, restart policies and crash
// classification, code-server needs health polling and adoption by command line.
//
// Who code-server (and so its integrated terminal) runs as: the dev user, by uid/gid, when the
// agent made one (root `/` as uid 0: LXC, Proxmox); otherwise the agent's own user (the process
// provider). Either way it starts in the workspace, which exists (and belongs to the dev user)
// before it is spawned, with the dev environment: the terminal's shell inherits HOME, USER and the
// dev PATH (installed runtimes first), and ~/.bashrc re-applies the same PATH.
// Size: kept whole on purpose: one state machine (install check, start, health, restart, adopt, stop)
// whose transitions are read together; health and process lookup are their own modules.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { AgentPaths } from '../paths.ts'
import type { Logger } from '../log.ts'
import type { StateHub } from '../state.ts'
import type { CodeServerState } from '../../src/api/agent-types.ts'
import type { RuntimeManager } from '../runtimes/manager.ts'
import type { DevEnvironment } from '../devenv/environment.ts'
import { AgentError } from '../errors.ts'
import { CODE_SERVER_RUNTIME } from '../../src/api/names.ts'
import { CODE_SERVER_PORT } from '../../src/api/ports.ts'
import { writeFileDurable } from '../../src/platform/durable-file.ts'
import { readJson } from '../json-file.ts'
import { argValue, findProcesses, isSameProcess, readProc, stopProcessGroup, topMost } from './proc.ts'
import { healthz, splitHostPort } from './health.ts'

/** The spawn options code-server gets (pure): cwd = the workspace, the dev environment, the dev user's ids when there is one. */
export function codeServerSpawnOptions(
  paths: Pick<AgentPaths, 'workspace'>,
  devEnv: Pick<DevEnvironment, 'environment' | 'runAs'>,
): { cwd: string; env: Record<string, string>; uid?: number; gid?: number } {
  const runAs = devEnv.runAs
  return { cwd: paths.workspace, env: devEnv.environment(), ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) }
}

/** Creates the workspace (and the code-server dirs) before a start; with a dev user, owned by it, as is everything from its home down to them. */
export async function prepareCodeServerDirs(
  paths: Pick<AgentPaths, 'devHome' | 'workspace' | 'codeServerUserData' | 'logs'>,
  runAs: { uid: number; gid: number } | null,
): Promise<void> {
  await fsp.mkdir(paths.codeServerUserData, { recursive: true })
  await fsp.mkdir(paths.workspace, { recursive: true })
  await fsp.mkdir(paths.logs, { recursive: true })
  if (!runAs) return
  // Every directory between the dev home and the user data dir, so dev owns ~/.local too.
  for (const leaf of [paths.codeServerUserData, paths.workspace]) {
    for (let dir = leaf; dir.startsWith(`${paths.devHome}/`); dir = path.dirname(dir)) await fsp.chown(dir, runAs.uid, runAs.gid)
  }
  await fsp.chown(paths.devHome, runAs.uid, runAs.gid)
}

export interface CodeServerOptions {
  paths: AgentPaths
  log: Logger
  hub: StateHub
  runtimes: RuntimeManager
  devEnv: DevEnvironment
  /** host:port code-server listens on (default 0.0.0.0:CODE_SERVER_PORT, 6000) */
  bindAddr?: string
  healthIntervalMs?: number
  startTimeoutMs?: number
  stopTimeoutMs?: number
  /** restart delays after consecutive deaths (default 1 s, 2 s, 5 s, 10 s, 30 s, 60 s) */
  backoffMs?: number[]
  /** a run at least this long resets the backoff (default 60 s) */
  resetAfterMs?: number
  /** consecutive failed health checks before a running instance is restarted (default 6) */
  unhealthyLimit?: number
  procDir?: string
}

interface Instance {
  pid: number
  startTime: number
  child: ChildProcess | null
  startedAt: number
  adopted: boolean
}

export class CodeServerSupervisor {
  readonly #o: Required<Omit<CodeServerOptions, 'paths' | 'log' | 'hub' | 'runtimes' | 'devEnv'>> & CodeServerOptions
  readonly #log: Logger
  readonly #desiredFile: string
  #enabled = false
  #instance: Instance | null = null
  #phase: CodeServerState['phase'] = 'Stopped'
  #restarts = 0
  #failures = 0
  #unhealthy = 0
  #nextRestartAt: number | undefined
  #lastExit: CodeServerState['lastExit']
  #message: string | undefined
  #version: string | null = null
  #restartTimer: NodeJS.Timeout | undefined
  #healthTimer: NodeJS.Timeout | undefined
  #closed = false
  #op: Promise<unknown> = Promise.resolve()

  constructor(opts: CodeServerOptions) {
    this.#o = {
      bindAddr: `0.0.0.0:${CODE_SERVER_PORT}`,
      healthIntervalMs: 5000,
      startTimeoutMs: 60_000,
      stopTimeoutMs: 10_000,
      backoffMs: [1000, 2000, 5000, 10_000, 30_000, 60_000],
      resetAfterMs: 60_000,
      unhealthyLimit: 6,
      procDir: '/proc',
      ...opts,
    }
    this.#log = opts.log.child({ component: 'codeserver' })
    this.#desiredFile = path.join(opts.paths.state, 'codeserver.json')
    opts.runtimes.on('switched', (ev) => {
      if (ev.name !== CODE_SERVER_RUNTIME) return
      if (this.#enabled && this.#instance) {
        this.#log.info({ from: ev.from, to: ev.to }, 'code-server runtime switched: restarting on the new version')
        void this.#serial(() => this.#restart()).catch((err: Error) =>
          this.#log.warn({ err: err.message }, 'restart after runtime switch failed'),
        )
      } else {
        void this.#refreshVersion().then(() => this.#publish())
      }
    })
  }

  state(): CodeServerState {
    const s: CodeServerState = {
      enabled: this.#enabled,
      phase: this.#phase,
      bindAddr: this.#o.bindAddr,
      folder: this.#o.paths.workspace,
      restarts: this.#restarts,
      version: this.#version,
    }
    if (this.#instance) {
      s.pid = this.#instance.pid
      s.adopted = this.#instance.adopted
    }
    if (this.#nextRestartAt !== undefined) s.nextRestartAt = new Date(this.#nextRestartAt).toISOString()
    if (this.#lastExit) s.lastExit = this.#lastExit
    if (this.#message) s.message = this.#message
    return s
  }

  /** load() then resume(). */
  async init(): Promise<void> {
    await this.load()
    await this.resume()
  }

  /**
   * Reads the desired state and adopts a code-server left running by a previous agent, then
   * publishes the state (quick: the agent does this before it listens, so /status is complete).
   */
  async load(): Promise<void> {
    const desired = await readJson<{ enabled?: boolean }>(this.#desiredFile)
    await this.#refreshVersion()
    const found = await this.#scan()
    if (found) {
      this.#instance = { pid: found.pid, startTime: found.startTime, child: null, startedAt: Date.now(), adopted: true }
      this.#log.info({ pid: found.pid }, 'found a running code-server: adopting it')
    }
    this.#enabled = desired?.enabled ?? found !== null
    if (found) this.#phase = this.#enabled ? 'Starting' : 'Stopping'
    else this.#phase = this.#enabled ? 'Starting' : this.#version ? 'Stopped' : 'NotInstalled'
    this.#publish()
  }

  /** Brings code-server to the state load() found wanted: may take seconds (a start waits for health). */
  async resume(): Promise<void> {
    if (this.#instance && !this.#enabled) {
      await this.#serial(() => this.#stopInstance())
    } else if (this.#instance) {
      this.#startWatching()
    } else if (this.#enabled) {
      await this.#serial(() => this.#spawnAndWait()).catch((err: Error) =>
        this.#log.warn({ err: err.message }, 'code-server did not come back at startup'),
      )
    }
    this.#publish()
  }

  start(): Promise<CodeServerState> {
    return this.#serial(async () => {
      await this.#setEnabled(true)
      if (!this.#instance) await this.#spawnAndWait()
      return this.state()
    })
  }

  stop(): Promise<CodeServerState> {
    return this.#serial(async () => {
      await this.#setEnabled(false)
      await this.#stopInstance()
      return this.state()
    })
  }

  restart(): Promise<CodeServerState> {
    return this.#serial(async () => {
      await this.#setEnabled(true)
      await this.#restart()
      return this.state()
    })
  }

  /** Agent shutdown: stop watching; code-server keeps running and is adopted by the next agent. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#restartTimer)
    clearTimeout(this.#healthTimer)
    await this.#op.catch(() => {})
    this.#instance?.child?.removeAllListeners('exit')
  }

  async #restart(): Promise<void> {
    await this.#stopInstance()
    await this.#spawnAndWait()
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#op.catch(() => {}).then(op)
    this.#op = next
    return next
  }

  async #setEnabled(enabled: boolean): Promise<void> {
    this.#enabled = enabled
    this.#failures = 0
    clearTimeout(this.#restartTimer)
    this.#nextRestartAt = undefined
    await fsp.mkdir(this.#o.paths.state, { recursive: true })
    await writeFileDurable(this.#desiredFile, `${JSON.stringify({ enabled })}\n`, 0o644)
  }

  async #refreshVersion(): Promise<void> {
    this.#version = await this.#o.runtimes.store.current(CODE_SERVER_RUNTIME)
  }

  #args(): string[] {
    const { paths } = this.#o
    return [
      '--bind-addr',
      this.#o.bindAddr,
      '--auth',
      'none',
      '--disable-telemetry',
      '--user-data-dir',
      paths.codeServerUserData,
      '--extensions-dir',
      paths.codeServerExtensions,
      paths.workspace,
    ]
  }

  async #scan(): Promise<{ pid: number; startTime: number } | null> {
    const userData = this.#o.paths.codeServerUserData
    const procs = topMost(await findProcesses((argv) => argValue(argv, '--user-data-dir') === userData, this.#o.procDir))
    if (procs.length > 1)
      this.#log.warn({ pids: procs.map((p) => p.pid) }, 'several code-server instances use our user data dir; adopting the oldest')
    procs.sort((a, b) => a.startTime - b.startTime)
    return procs[0] ?? null
  }

  async #spawnAndWait(): Promise<void> {
    if (this.#closed) return
    await this.#refreshVersion()
    const bin = path.join(this.#o.paths.runtimeCurrentLink(CODE_SERVER_RUNTIME), 'bin', 'code-server')
    if (!this.#version || !fs.existsSync(bin)) {
      this.#phase = 'NotInstalled'
      this.#message = `no ${bin}`
      this.#publish()
      throw new AgentError('CODESERVER_NOT_INSTALLED')
    }
    const existing = await this.#scan()
    if (existing) {
      // Never duplicate: something (a previous agent) already runs it.
      this.#instance = { pid: existing.pid, startTime: existing.startTime, child: null, startedAt: Date.now(), adopted: true }
      this.#startWatching()
      return
    }
    const { paths, devEnv } = this.#o
    const runAs = devEnv.runAs
    await prepareCodeServerDirs(paths, runAs)
    if (!runAs)
      this.#log.info(
        { user: devEnv.userName, workspace: paths.workspace },
        'code-server and its terminal run as the agent user: there is no dev user (root is not / or the agent is not uid 0)',
      )
    const logFd = fs.openSync(path.join(paths.logs, 'code-server.log'), 'a')
    let child: ChildProcess
    try {
      child = spawn(bin, this.#args(), { ...codeServerSpawnOptions(paths, devEnv), detached: true, stdio: ['ignore', logFd, logFd] })
    } finally {
      fs.closeSync(logFd)
    }
    child.unref()
    const spawned = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true))
      child.once('error', (err) => {
        this.#message = `spawn failed: ${err.message}`
        resolve(false)
      })
    })
    if (!spawned || child.pid === undefined) {
      this.#phase = 'Crashed'
      this.#publish()
      throw new AgentError('CODESERVER_START_FAILED', this.#message)
    }
    const info = await readProc(child.pid, this.#o.procDir)
    const instance: Instance = { pid: child.pid, startTime: info?.startTime ?? 0, child, startedAt: Date.now(), adopted: false }
    this.#instance = instance
    child.once('exit', (code, signal) => this.#onExit(instance, code, signal))
    this.#log.info({ pid: child.pid, bindAddr: this.#o.bindAddr, version: this.#version }, 'code-server started')
    this.#phase = 'Starting'
    this.#message = undefined
    this.#publish()
    this.#startWatching()
    const deadline = Date.now() + this.#o.startTimeoutMs
    while (Date.now() < deadline) {
      if (this.#instance !== instance)
        throw new AgentError('CODESERVER_START_FAILED', `code-server exited during startup (${this.#message ?? 'see code-server.log'})`)
      if (await this.#healthy()) {
        this.#phase = 'Running'
        this.#publish()
        return
      }
      await delay(200)
    }
    throw new AgentError('CODESERVER_START_FAILED', `code-server did not answer /healthz within ${this.#o.startTimeoutMs} ms`)
  }

  #onExit(instance: Instance, code: number | null, signal: string | null): void {
    if (this.#instance !== instance) return
    this.#instance = null
    this.#lastExit = { at: new Date().toISOString(), code, signal }
    clearTimeout(this.#healthTimer)
    if (this.#closed) return
    if (!this.#enabled) {
      this.#phase = 'Stopped'
      this.#publish()
      return
    }
    if (Date.now() - instance.startedAt >= this.#o.resetAfterMs) this.#failures = 0
    const wait = this.#o.backoffMs[Math.min(this.#failures, this.#o.backoffMs.length - 1)] ?? 1000
    this.#failures++
    this.#phase = 'Crashed'
    this.#nextRestartAt = Date.now() + wait
    this.#log.warn({ code, signal, restartInMs: wait }, 'code-server died while enabled; restarting after backoff')
    this.#publish()
    this.#restartTimer = setTimeout(() => {
      this.#nextRestartAt = undefined
      this.#restarts++
      void this.#serial(async () => {
        if (this.#enabled && !this.#instance && !this.#closed) await this.#spawnAndWait()
      }).catch((err: Error) => {
        this.#log.warn({ err: err.message }, 'code-server restart failed')
        if (this.#enabled && !this.#instance && !this.#closed && this.#phase !== 'NotInstalled')
          this.#onExit({ ...instance, startedAt: Date.now() }, null, null)
      })
    }, wait)
    this.#restartTimer.unref()
  }

  #startWatching(): void {
    clearTimeout(this.#healthTimer)
    const tick = async (): Promise<void> => {
      const instance = this.#instance
      if (!instance || this.#closed) return
      if (!instance.child && !(await isSameProcess(instance.pid, instance.startTime, this.#o.procDir))) {
        // An adopted instance is not our child: its death shows up only here.
        this.#onExit(instance, null, null)
        return
      }
      const ok = await this.#healthy()
      if (this.#instance !== instance) return
      if (ok) {
        this.#unhealthy = 0
        if (this.#phase !== 'Running') {
          this.#phase = 'Running'
          this.#publish()
        }
      } else if (this.#phase !== 'Starting' || Date.now() - instance.startedAt > this.#o.startTimeoutMs) {
        this.#unhealthy++
        if (this.#phase !== 'Unhealthy') {
          this.#phase = 'Unhealthy'
          this.#publish()
        }
        if (this.#unhealthy >= this.#o.unhealthyLimit && this.#enabled) {
          this.#unhealthy = 0
          this.#log.warn({ pid: instance.pid }, 'code-server unhealthy for too long: restarting it')
          void this.#serial(() => this.#restart()).catch((err: Error) =>
            this.#log.warn({ err: err.message }, 'restart of unhealthy code-server failed'),
          )
          return
        }
      }
      this.#healthTimer = setTimeout(() => void tick(), this.#o.healthIntervalMs)
      this.#healthTimer.unref()
    }
    this.#healthTimer = setTimeout(() => void tick(), this.#o.healthIntervalMs)
    this.#healthTimer.unref()
  }

  async #stopInstance(): Promise<void> {
    clearTimeout(this.#healthTimer)
    const instance = this.#instance
    if (!instance) {
      this.#phase = this.#version ? 'Stopped' : 'NotInstalled'
      this.#publish()
      return
    }
    // Detach first so its exit is not taken for a crash.
    this.#instance = null
    this.#phase = 'Stopping'
    this.#publish()
    const endedBy = await stopProcessGroup(instance.pid, instance.startTime, this.#o.stopTimeoutMs, this.#o.procDir)
    if (endedBy === 'SIGKILL') this.#log.warn({ pid: instance.pid }, 'code-server ignored SIGTERM: killed it')
    this.#phase = 'Stopped'
    this.#log.info({ pid: instance.pid }, 'code-server stopped')
    this.#publish()
  }

  #healthy(): Promise<boolean> {
    return healthz(this.#o.bindAddr)
  }

  #publish(): void {
    this.#o.hub.update('codeServer', this.state())
  }
}

export { splitHostPort }
