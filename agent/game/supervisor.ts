// The game supervisor: runs the game server from the GameServer's `server` + `supervision` spec,
// restarts it with backoff, classifies crashes, stops it gracefully and finds it again after an
// agent restart.
//
// Expected flow:
//  1. init(): reads the persisted spec and counters, then the pid file of the last run: a live
//     wrapper is adopted (Running), an exit that happened while no agent ran is recorded and
//     classified like any other, a run that vanished (or whose pid now belongs to someone else)
//     is recorded as lost.
//  2. applySpec()/start()/stop()/restart() are serialized: one lifecycle operation at a time.
//  3. An unrequested exit: crash record → restart policy → backoff step (reset when the run
//     lasted resetAfterSeconds) → Crashed with nextRestartTime, or Error after
//     maxConsecutiveFailures (until the spec changes or a start is requested).
//  4. While a run lives, one health probe loop (health.ts) asks the game; its answers feed the
//     players and the idle clock (idle.ts). failureThreshold failures → the run is stopped like any
//     stop and handled as an unrequested exit classified unresponsive (step 3).
//  5. Idle for stopAfterSeconds (spec.idle level process, a probe that reports players): graceful
//     stop → Sleeping, the port held by a Minecraft front door (sleep-door.ts); a login there, a
//     wake() or a start() launches the game again. The sleep is persisted like the rest.
// Guarantees: every exit of a started run is recorded exactly once (live or on re-attach); a
// signal is only ever sent to the game's process group after its pid and start time matched.
// The game is never stopped by the agent going away (detach()). No probe runs (and no probe
// timer is set) while no game runs; detach() stops the probe and closes the sleeping door.
// Assumptions: a single supervisor owns `stateDir`. All delays (backoff, grace periods, uptime)
// use the injected Clock (src/platform/clock.ts; timers that never keep the agent alive).
// Why this is not the code-server supervisor (agent/codeserver/supervisor.ts): the game runs under
// a detached wrapper that records its exit while no agent runs, restarts follow the user's
// restart policy with crash classification, and a stop goes through the game's stop command;
// code-server is adopted by its command line, judged by /healthz and restarted on a fixed
// backoff. What they share is below them: process identity (src/platform/process-identity.ts).
// Size: kept whole on purpose: it is one state machine (start, exit, backoff, stop, re-attach, hang,
// sleep, wake) whose transitions are read and changed together; its parts (launcher, wrapper,
// classify, crash-policy, health, idle, sleep-door) are their own modules.
import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import type {
  CrashRecord,
  EffectiveGameSpec,
  GameSpecRequest,
  GameState,
  GameStatus,
  HealthStatus,
  StopStep,
} from '../../src/api/agent-game-types.ts'
import { crashRecord, decideRestart, plainCrashRecord } from './crash-policy.ts'
import { realBackgroundClock, type Clock, type TimerHandle } from '../../src/platform/clock.ts'
import { GameError } from './errors.ts'
import { clearRun, findRun, launchRun, runFiles, RunLink, terminateOrphan, type RunFiles } from './launcher.ts'
import { isSameProcess } from '../../src/platform/process-identity.ts'
import { LineRing } from './ring-buffer.ts'
import { runLogTail } from './rotating-log.ts'
import { effectiveSpec, sameProcessSpec, sameSpec, workingDirectory } from './spec.ts'
import { HealthProbeLoop, probeTarget, waitUntilAnswering, type GameProbe } from './health.ts'
import { IdleClock, idleBlockedMessage, sleepRecord } from './idle.ts'
import { SleepDoors, type DoorFactory } from './sleep-door.ts'
import { createMinecraftFrontDoor, probeGame, type Backend } from '../../src/platform/game-protocol/index.ts'
import { readJson, type ExitInfo, type RunInfo } from './wrapper-protocol.ts'
import { writeFileDurableSync } from '../../src/platform/durable-file.ts'
import path from 'node:path'

export interface SupervisorLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface SupervisorOptions {
  /** Durable supervisor state and the run files (pid file, exit file, console socket). Keep it short: it holds a unix socket. */
  stateDir: string
  /** The game's files; the process runs in it (or in server.workingDir below it). */
  serverRoot: string
  /** The rotating game log. */
  logFile: string
  clock?: Clock
  /** The base environment of the game (e.g. the dev environment's PATH); spec env and SERVER_PORT go on top. */
  baseEnv?: () => Record<string, string>
  /** Runs before every start (mods are applied here). A throw is logged, the start goes on. */
  beforeStart?: () => Promise<void>
  logger?: SupervisorLogger
  /** Lines kept in memory for consoles (default 1000). */
  ringLines?: number
  logMaxBytes?: number
  logKeep?: number
  /** A memory cgroup directory to run the game in (its oom_kill counter then classifies OOM kills); default: the agent's own cgroup. */
  cgroupDir?: string
  /** Asks the game once (health probes, wake readiness); default: the platform's game-protocol probes. */
  probe?: GameProbe
  /** Makes the Minecraft front door a sleeping game leaves on its port; default: the platform's. */
  createDoor?: DoorFactory
  /** How long a login is held while the game wakes (default 25 s, the front door's). */
  wakeHoldTimeoutMs?: number
}

interface ActiveRun {
  link: RunLink
  info: RunInfo
  /** Start on the supervisor's clock (uptime is measured on it). */
  startedAt: number
  stopRequested: boolean
  /** When the stop command was typed on the console (clock ms), if it was. */
  consoleStopAt?: number
  adopted: boolean
  exited: Promise<ExitInfo>
  resolveExit: (exit: ExitInfo) => void
}

interface Persisted {
  failures: number
  restarts: number
  lastCrash: CrashRecord | null
  lastStop: GameStatus['lastStop']
  /** 'stopped' after a stop request: a lost run is then not a crash. */
  desired: 'running' | 'stopped'
  state: GameState
  nextRestartAt: number | null
  message: string | null
  /** While asleep (state Sleeping): since when, how it wakes, why. */
  sleep?: GameStatus['sleep']
  /** The game's MOTD and max players as its probe last saw them (the sleeping door shows them). */
  gameMotd?: string | null
  maxPlayers?: number | null
}

const quietLogger: SupervisorLogger = { info() {}, warn() {}, error() {} }
const CRASH_TAIL_LINES = 100
/** How a line the agent sent to the game's stdin shows in the console. */
export const SENT_INPUT_PREFIX = '> '

export class GameSupervisor extends EventEmitter {
  private readonly opts: SupervisorOptions
  private readonly clock: Clock
  private readonly log: SupervisorLogger
  private readonly files: RunFiles
  private readonly specFile: string
  private readonly stateFile: string
  readonly ring: LineRing
  private spec: EffectiveGameSpec | null = null
  private current: ActiveRun | null = null
  private timer: TimerHandle | null = null
  private restartPending = false
  private queue: Promise<unknown> = Promise.resolve()
  private readonly probe: GameProbe
  private health: HealthProbeLoop | null = null
  private lastHealth: HealthStatus | null = null
  private readonly idle = new IdleClock()
  private readonly doors: SleepDoors
  /** Why the sleeping door could not hold the port, if it could not. */
  private doorError: string | null = null
  private p: Persisted = {
    failures: 0,
    restarts: 0,
    lastCrash: null,
    lastStop: null,
    desired: 'stopped',
    state: 'Stopped',
    nextRestartAt: null,
    message: null,
  }

  constructor(opts: SupervisorOptions) {
    super()
    this.opts = opts
    this.clock = opts.clock ?? realBackgroundClock
    this.log = opts.logger ?? quietLogger
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 })
    this.files = runFiles(opts.stateDir)
    this.specFile = path.join(opts.stateDir, 'spec.json')
    this.stateFile = path.join(opts.stateDir, 'supervisor.json')
    this.ring = new LineRing(opts.ringLines ?? 1000)
    this.probe = opts.probe ?? probeGame
    this.doors = new SleepDoors(opts.createDoor ?? createMinecraftFrontDoor, opts.wakeHoldTimeoutMs)
  }

  // ─── public surface ─────────────────────────────────────────────────────────────────────

  /** Loads persisted state and re-attaches to (or accounts for) the run a previous agent left. */
  async init(): Promise<void> {
    await this.serial(async () => {
      const saved = readJson<{ spec: EffectiveGameSpec }>(this.specFile)
      // Defaults filled in again: a spec an older agent saved has no health or idle.
      this.spec = saved?.spec
        ? effectiveSpec({
            server: saved.spec.server,
            supervision: saved.spec.supervision,
            ...(saved.spec.health ? { health: saved.spec.health } : {}),
            ...(saved.spec.idle ? { idle: saved.spec.idle } : {}),
          })
        : null
      const persisted = readJson<Persisted>(this.stateFile)
      if (persisted) this.p = { ...this.p, ...persisted }
      if (this.p.lastCrash) this.p.lastCrash = plainCrashRecord(this.p.lastCrash)
      const found = findRun(this.files)
      if (found.kind === 'alive') {
        this.attach(found.run, true)
        this.log.info({ pid: found.run.gamePid, runId: found.run.runId }, 'game: re-attached to the running server')
        if (this.p.desired === 'stopped' && this.p.state === 'Stopping') void this.stop()
        return
      }
      if (found.kind === 'exited' || found.kind === 'lost') {
        const lost = found.kind === 'lost'
        const exit =
          found.kind === 'exited'
            ? found.exit
            : { runId: found.run.runId, exitCode: null, signal: null, exitedAt: Date.now(), oomKillsAtExit: null, spawnError: null }
        this.log.warn(
          { runId: found.run.runId, lost, exit },
          lost
            ? 'game: the last run is gone and left no exit status (its pid is free or belongs to another process); recording it as lost'
            : 'game: the server exited while no agent was running; recording the exit',
        )
        if (lost && isSameProcess(found.run.gamePid, found.run.gameStartTime)) terminateOrphan(found.run, this.log)
        clearRun(this.files)
        const uptimeMs = Math.max(0, exit.exitedAt - found.run.startedAt)
        if (this.p.desired === 'stopped') this.setState('Stopped')
        else
          this.afterUnexpectedExit(found.run, exit, uptimeMs, runLogTail(this.opts.logFile, found.run.runId, CRASH_TAIL_LINES), true, lost)
        return
      }
      // Nothing was running: resume a pending backoff, otherwise keep the persisted state.
      if (this.p.state === 'Crashed' && this.p.nextRestartAt !== null && this.spec) this.scheduleRestart(this.p.nextRestartAt)
      else if (this.p.state === 'Sleeping' && this.p.sleep && this.spec) {
        this.setState('Sleeping')
        await this.openDoor()
      } else if (this.p.state === 'Error') this.setState('Error')
      else if (this.p.state === 'Crashed') this.setState('Crashed')
      else this.setState('Stopped')
    })
  }

  /** PUT /game: store the spec; a changed spec clears Error; `running` starts or stops. */
  async applySpec(req: GameSpecRequest): Promise<GameStatus> {
    return await this.serial(async () => {
      const next = effectiveSpec(req)
      workingDirectory(this.opts.serverRoot, next.server.workingDir)
      if (!sameSpec(this.spec, next)) {
        const before = this.spec
        this.spec = next
        writeFileDurableSync(this.specFile, JSON.stringify({ spec: next }))
        // The process needs a restart for server/supervision changes; health and idle apply at once.
        if (this.current && !sameProcessSpec(before, next)) this.restartPending = true
        if (this.current && JSON.stringify(before?.health) !== JSON.stringify(next.health)) this.startHealth(this.current)
        if (this.state === 'Error') {
          this.p.failures = 0
          this.p.message = null
          this.setState('Stopped')
        }
        // Asleep with the new spec: the door answers for it (its port or wake may have changed).
        if (this.state === 'Sleeping' && req.running !== false) {
          if (this.p.sleep && next.idle) this.p.sleep = { ...this.p.sleep, wake: next.idle.wake }
          await this.openDoor()
        }
      }
      if (req.running === true) {
        this.p.desired = 'running'
        if (this.state === 'Stopped' || (this.state === 'Crashed' && !this.timer)) await this.launch()
      } else if (req.running === false) {
        this.p.desired = 'stopped'
        await this.doStop()
      }
      this.persist()
      return this.status()
    })
  }

  /** POST /game/start: starts now (also out of Error or a pending backoff). */
  async start(): Promise<GameStatus> {
    return await this.serial(async () => {
      this.requireSpec()
      this.p.desired = 'running'
      if (this.current) return this.status()
      this.cancelTimer()
      this.p.failures = 0
      this.p.message = null
      await this.launch()
      return this.status()
    })
  }

  /** POST /game/stop: graceful stop; resolves once the process is gone, saying which step ended it. */
  async stop(): Promise<GameStatus> {
    return await this.serial(async () => {
      this.p.desired = 'stopped'
      await this.doStop()
      return this.status()
    })
  }

  /** POST /game/restart: graceful stop, then start with the current spec (applies pending changes). */
  async restart(): Promise<GameStatus> {
    return await this.serial(async () => {
      this.requireSpec()
      this.p.desired = 'running'
      await this.doStop()
      this.p.failures = 0
      this.p.message = null
      await this.launch()
      return this.status()
    })
  }

  /** POST /game/wake: a sleeping game is started (the door hands its port back); 409 when it is not asleep. */
  async wake(): Promise<GameStatus> {
    return await this.serial(async () => {
      if (this.p.state !== 'Sleeping') throw new GameError('AGENT_GAME_NOT_SLEEPING', `the game is ${this.p.state}`)
      this.log.info({}, 'game: waking the sleeping server on request')
      await this.launch()
      return this.status()
    })
  }

  /**
   * POST /game/command: one console line to the game, shown on the console as typed.
   * Throws GAME_NOT_RUNNING when no game runs, GAME_CONSOLE_UNAVAILABLE when its console is not connected.
   */
  sendCommand(line: string): void {
    if (!this.current) throw new GameError('GAME_NOT_RUNNING', `the game is ${this.p.state}`)
    if (!this.writeInput(`${line}\n`)) throw new GameError('GAME_CONSOLE_UNAVAILABLE')
    this.echoSentInput(line)
  }

  /** Marks that something applied at the next start changed (e.g. mods). */
  markRestartPending(): void {
    if (this.current) {
      this.restartPending = true
      this.publish()
    }
  }

  /**
   * Console input: bytes to the game's stdin. False when no game is attached. Typing the stop
   * command on the console counts as a requested stop (no crash record, no restart) when the
   * server exits within the grace period after it.
   */
  writeInput(data: string | Buffer): boolean {
    const run = this.current
    if (!run) return false
    const stopCommand = this.spec?.server.stopCommand
    if (
      stopCommand &&
      String(data)
        .split(/\r?\n/)
        .some((line) => line.trim() === stopCommand)
    )
      run.consoleStopAt = this.clock.now()
    return run.link.write(data)
  }

  get state(): GameState {
    return this.p.state
  }

  get running(): boolean {
    return this.current !== null
  }

  get currentSpec(): EffectiveGameSpec | null {
    return this.spec
  }

  status(): GameStatus {
    const run = this.current
    const message = this.statusMessage()
    return {
      state: this.p.state,
      configured: this.spec !== null,
      pid: run?.info.gamePid ?? null,
      startedAt: run ? new Date(run.info.startedAt).toISOString() : null,
      consecutiveFailures: this.p.failures,
      restarts: this.p.restarts,
      nextRestartTime: this.p.state === 'Crashed' && this.p.nextRestartAt !== null ? new Date(this.p.nextRestartAt).toISOString() : null,
      lastCrash: this.p.lastCrash,
      lastStop: this.p.lastStop,
      restartPending: this.restartPending,
      ...(message ? { message } : {}),
      adopted: run?.adopted ?? false,
      players: this.idle.players,
      health: this.health?.status() ?? this.lastHealth,
      idleSince: this.idle.idleSince === null ? null : new Date(this.idle.idleSince).toISOString(),
      sleep: this.p.state === 'Sleeping' ? (this.p.sleep ?? null) : null,
    }
  }

  /** Agent shutdown: stop timers and let go of the game, which keeps running. */
  detach(): void {
    this.cancelTimer()
    this.stopHealth()
    void this.doors.closeAll()
    this.current?.link.removeAllListeners('exit')
    this.current?.link.detach()
    this.current = null
  }

  // ─── internals ──────────────────────────────────────────────────────────────────────────

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn)
    this.queue = next.catch(() => undefined)
    return next
  }

  private requireSpec(): EffectiveGameSpec {
    if (!this.spec) throw new GameError('GAME_NOT_CONFIGURED')
    return this.spec
  }

  private setState(state: GameState): void {
    this.p.state = state
    this.persist()
    this.publish()
  }

  private publish(): void {
    this.emit('state', this.status())
  }

  private persist(): void {
    try {
      writeFileDurableSync(this.stateFile, JSON.stringify(this.p))
    } catch (err) {
      this.log.error({ err }, 'game: could not persist supervisor state')
    }
  }

  private cancelTimer(): void {
    if (this.timer) this.clock.clearTimer(this.timer)
    this.timer = null
    this.p.nextRestartAt = null
  }

  private async launch(): Promise<void> {
    const spec = this.requireSpec()
    this.cancelTimer()
    this.restartPending = false
    // Leaving sleep (a wake, a start): the door hands the port back to the game.
    this.p.sleep = null
    this.doorError = null
    await this.doors.release()
    this.setState('Starting')
    if (this.opts.beforeStart) {
      try {
        await this.opts.beforeStart()
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'game: pre-start step failed; starting anyway')
      }
    }
    const cwd = workingDirectory(this.opts.serverRoot, spec.server.workingDir)
    mkdirSync(cwd, { recursive: true })
    const env: Record<string, string> = { ...(this.opts.baseEnv?.() ?? defaultEnv()) }
    for (const e of spec.server.env ?? []) env[e.name] = e.value ?? ''
    env.SERVER_PORT = String(spec.server.port)
    const [command = '', ...lead] = spec.server.command
    const runId = randomUUID()
    const startedAt = this.clock.now()
    this.ring.clear()
    let result: Awaited<ReturnType<typeof launchRun>>
    try {
      result = await launchRun(this.files, {
        runId,
        command,
        args: [...lead, ...spec.server.args],
        env,
        cwd,
        logFile: this.opts.logFile,
        logMaxBytes: this.opts.logMaxBytes ?? 8 * 1024 * 1024,
        logKeep: this.opts.logKeep ?? 3,
        ...(this.opts.cgroupDir ? { cgroupDir: this.opts.cgroupDir } : {}),
      })
    } catch (err) {
      result = {
        exit: { runId, exitCode: null, signal: null, exitedAt: Date.now(), oomKillsAtExit: null, spawnError: (err as Error).message },
      }
    }
    if (result.run) {
      this.attach(result.run, false, startedAt)
      this.log.info({ pid: result.run.gamePid, runId, command }, 'game: started')
      return
    }
    // The command could not be started at all: a crash like any other (policy, backoff, Error).
    const pseudo: RunInfo = {
      runId,
      wrapperPid: 0,
      wrapperStartTime: '',
      gamePid: 0,
      gameStartTime: '',
      startedAt: result.exit.exitedAt,
      oomCounterFile: null,
      oomKillsAtStart: null,
    }
    clearRun(this.files)
    this.afterUnexpectedExit(pseudo, result.exit, 0, runLogTail(this.opts.logFile, runId, CRASH_TAIL_LINES), false, false)
  }

  private attach(info: RunInfo, adopted: boolean, startedAt?: number): void {
    let resolveExit!: (exit: ExitInfo) => void
    const exited = new Promise<ExitInfo>((resolve) => {
      resolveExit = resolve
    })
    const link = new RunLink(this.files, info)
    const run: ActiveRun = {
      link,
      info,
      adopted,
      exited,
      resolveExit,
      stopRequested: false,
      // An adopted run started on the wall clock; express that on the supervisor's clock.
      startedAt: startedAt ?? this.clock.now() - Math.max(0, Date.now() - info.startedAt),
    }
    this.current = run
    link.on('output', (d: Buffer) => {
      this.ring.push(d.toString('utf8'))
      this.emit('output', d)
    })
    link.on('exit', (exit: ExitInfo, lost: boolean) => this.onRunExit(run, exit, lost))
    link.connect()
    this.setState('Running')
    this.startHealth(run)
  }

  private onRunExit(run: ActiveRun, exit: ExitInfo, lost: boolean): void {
    if (this.current === run) {
      this.current = null
      this.stopHealth()
    }
    clearRun(this.files)
    run.resolveExit(exit)
    this.emit('exit', exit)
    if (run.stopRequested) return
    const grace = (this.spec?.server.gracePeriodSeconds ?? 30) * 1000
    if (run.consoleStopAt !== undefined && this.clock.now() - run.consoleStopAt <= Math.max(grace, 1000) && !lost) {
      this.log.info({ exit }, 'game: stopped by the stop command typed on the console')
      this.p.desired = 'stopped'
      this.p.lastStop = { time: new Date(this.clock.now()).toISOString(), endedBy: 'stopCommand' }
      this.setState('Stopped')
      return
    }
    if (lost && isSameProcess(run.info.gamePid, run.info.gameStartTime)) terminateOrphan(run.info, this.log)
    const uptimeMs = this.clock.now() - run.startedAt
    this.afterUnexpectedExit(run.info, exit, uptimeMs, runLogTail(this.opts.logFile, run.info.runId, CRASH_TAIL_LINES), false, lost)
  }

  private afterUnexpectedExit(
    run: RunInfo,
    exit: ExitInfo,
    uptimeMs: number,
    logTail: string[],
    afterAgentRestart: boolean,
    lost: boolean,
    hung?: { evidence: string; healthyUptimeMs: number },
  ): void {
    const plain = crashRecord({ run, exit, uptimeMs, logTail, afterAgentRestart, lost })
    const crash: CrashRecord = hung ? { ...plain, classification: 'unresponsive', evidence: hung.evidence } : plain
    // A hung run counts its uptime up to its last answer: a game that hangs again and again backs off.
    const decision = decideRestart(this.spec, this.p.failures, hung ? hung.healthyUptimeMs : uptimeMs, exit, crash.classification)
    this.p.failures = decision.failures
    this.p.lastCrash = crash
    this.log.warn({ crash: { ...crash, logTail: undefined }, failures: this.p.failures }, 'game: the server exited unexpectedly')
    this.emit('crash', crash)
    if (decision.kind === 'restart') {
      this.scheduleRestart(this.clock.now() + decision.delayMs)
      return
    }
    this.p.nextRestartAt = null
    if (decision.kind === 'error') {
      this.p.message = decision.message
      this.setState('Error')
    } else {
      this.setState(decision.state)
    }
  }

  private scheduleRestart(at: number): void {
    this.cancelTimer()
    this.p.nextRestartAt = at
    this.timer = this.clock.setTimer(
      () => {
        this.timer = null
        void this.serial(async () => {
          if (this.p.state !== 'Crashed' || this.p.nextRestartAt !== at || this.current) return
          this.p.restarts++
          await this.launch()
        }).catch((err: unknown) => this.log.error({ err }, 'game: restart failed'))
      },
      Math.max(0, at - this.clock.now()),
    )
    this.setState('Crashed')
  }

  private async doStop(): Promise<StopStep> {
    this.cancelTimer()
    const run = this.current
    if (!run) {
      if (this.p.state !== 'Stopped') this.p.message = null
      // A stop while asleep ends the sleep: the door closes, the port is free.
      this.p.sleep = null
      this.doorError = null
      await this.doors.closeAll()
      this.p.lastStop = { time: new Date(this.clock.now()).toISOString(), endedBy: 'notRunning' }
      this.setState('Stopped')
      return 'notRunning'
    }
    this.stopHealth()
    const endedBy = await this.endRun(run)
    this.p.lastStop = { time: new Date(this.clock.now()).toISOString(), endedBy }
    this.log.info({ endedBy }, 'game: stopped')
    this.setState('Stopped')
    return endedBy
  }

  /** Ends a run on purpose (its exit is then not a crash): Stopping, escalateStop, and the run let go. */
  private async endRun(run: ActiveRun): Promise<StopStep> {
    run.stopRequested = true
    this.setState('Stopping')
    const endedBy = await this.escalateStop(run)
    if (this.current === run) this.current = null
    return endedBy
  }

  /**
   * Ends a run the way every stop does: the stop command, then SIGTERM (with SIGCONT, so a
   * SIGSTOPped game gets to handle it), then SIGKILL (which even a stopped process cannot ignore),
   * each step waiting the grace period. Resolves when the process is gone (or 30 s after SIGKILL).
   */
  private async escalateStop(run: ActiveRun): Promise<StopStep> {
    const spec = this.spec
    const graceMs = (spec?.server.gracePeriodSeconds ?? 30) * 1000
    if (spec?.server.stopCommand && run.link.write(`${spec.server.stopCommand}\n`)) this.echoSentInput(spec.server.stopCommand)
    if (await this.exitWithin(run, graceMs)) return 'stopCommand'
    run.link.signalGroup('SIGTERM')
    run.link.signalGroup('SIGCONT')
    if (await this.exitWithin(run, graceMs)) return 'SIGTERM'
    run.link.signalGroup('SIGKILL')
    await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, 30_000).unref())])
    return 'SIGKILL'
  }

  // ─── health, players and sleep ─────────────────────────────────────────────────────────

  private statusMessage(): string | null {
    return this.p.message ?? this.doorError ?? idleBlockedMessage(this.spec)
  }

  /** One probe loop per run, while it runs (none for probe 'none'). */
  private startHealth(run: ActiveRun): void {
    this.stopHealth()
    const spec = this.spec
    if (!spec || spec.health.probe === 'none') return
    const loop = new HealthProbeLoop({
      clock: this.clock,
      probe: this.probe,
      health: spec.health,
      startedAt: run.startedAt,
      handlers: {
        onAnswer: (answer) => {
          if (this.current !== run || this.health !== loop) return
          if (answer.players?.motd !== undefined) this.p.gameMotd = answer.players.motd
          if (answer.players) this.p.maxPlayers = answer.players.max
          const now = this.clock.now()
          if (this.idle.observe(answer, now)) this.publish()
          if (this.idle.shouldSleep(this.spec, now)) void this.sleepIfIdle(run)
        },
        onHealthChange: () => {
          if (this.current === run && this.health === loop) this.publish()
        },
        onUnresponsive: (failures, lastError) => {
          if (this.current !== run || this.health !== loop) return
          const evidence = `health probe ${spec.health.probe} failed ${failures} times: ${lastError}`
          const healthyUptimeMs = loop.lastSuccessAt === null ? 0 : Math.max(0, loop.lastSuccessAt - run.startedAt)
          void this.stopHung(run, evidence, healthyUptimeMs).catch((err: unknown) =>
            this.log.error({ err }, 'game: stopping the unresponsive server failed'),
          )
        },
      },
    })
    this.health = loop
    this.lastHealth = null
    loop.start()
  }

  private stopHealth(): void {
    if (this.health) {
      this.health.stop()
      this.lastHealth = this.health.status()
    }
    this.health = null
    this.idle.reset()
  }

  /** The game stopped answering: stop it like any stop, then treat it as a crash classified unresponsive. */
  private stopHung(run: ActiveRun, evidence: string, healthyUptimeMs: number): Promise<void> {
    return this.serial(async () => {
      if (this.current !== run || run.stopRequested) return
      this.log.warn({ pid: run.info.gamePid, evidence }, 'game: the server is not answering its health probe; stopping it')
      const health = this.health?.status() ?? null
      this.stopHealth()
      this.lastHealth = health
      const endedBy = await this.endRun(run)
      const exit: ExitInfo = await Promise.race([
        run.exited,
        Promise.resolve({
          runId: run.info.runId,
          exitCode: null,
          signal: endedBy === 'SIGKILL' ? 'SIGKILL' : null,
          exitedAt: Date.now(),
          oomKillsAtExit: null,
          spawnError: null,
        }),
      ])
      const uptimeMs = this.clock.now() - run.startedAt
      const tail = runLogTail(this.opts.logFile, run.info.runId, CRASH_TAIL_LINES)
      this.afterUnexpectedExit(run.info, exit, uptimeMs, tail, false, false, { evidence, healthyUptimeMs })
    })
  }

  /** No players for stopAfterSeconds (level process): stop the game gracefully and hold its port. */
  private sleepIfIdle(run: ActiveRun): Promise<void> {
    return this.serial(async () => {
      const spec = this.spec
      if (this.current !== run || run.stopRequested || !spec?.idle || !this.idle.shouldSleep(spec, this.clock.now())) return
      const reason = `no players online for ${spec.idle.stopAfterSeconds} s`
      this.log.info({ reason }, 'game: going to sleep')
      this.stopHealth()
      const endedBy = await this.endRun(run)
      this.p.lastStop = { time: new Date(this.clock.now()).toISOString(), endedBy }
      this.p.sleep = sleepRecord(spec, this.clock.now(), reason)
      this.setState('Sleeping')
      await this.openDoor()
    })
  }

  /** While Sleeping: (re)opens the door on the game's port (Minecraft games; others sleep without one). */
  private async openDoor(): Promise<void> {
    const spec = this.spec
    const sleep = this.p.sleep
    if (!spec || !sleep || spec.health.probe !== 'minecraft') {
      await this.doors.release()
      return
    }
    try {
      await this.doors.open(spec.server.port, {
        gameMotd: this.p.gameMotd ?? null,
        ...(this.p.maxPlayers !== null && this.p.maxPlayers !== undefined ? { maxPlayers: this.p.maxPlayers } : {}),
        wake: sleep.wake,
        onLogin: () => this.wakeForLogin(),
      })
      this.doorError = null
    } catch (err) {
      this.doorError = `the sleeping server could not hold port ${spec.server.port} (${(err as Error).message}); a join does not wake it, POST /game/wake does`
      this.log.warn({ err: (err as Error).message, port: spec.server.port }, 'game: the sleeping door could not listen')
    }
    this.publish()
  }

  /** A login on the sleeping door: wake the game, then resolve where it answers once its probe does. */
  private async wakeForLogin(): Promise<Backend | undefined> {
    await this.serial(async () => {
      if (this.p.state !== 'Sleeping') return
      this.log.info({}, 'game: a player is joining; waking the sleeping server')
      await this.launch()
    })
    const spec = this.spec
    const target = spec ? probeTarget(spec.health) : null
    if (!spec || !target) return undefined
    const up = await waitUntilAnswering(this.probe, target, this.opts.wakeHoldTimeoutMs ?? 25_000, () => this.current !== null)
    return up ? { host: '127.0.0.1', port: spec.server.port } : undefined
  }

  /**
   * A line the agent itself typed into the game (the stop command), shown where people read the
   * console (live viewers, late joiners' history, the console log) as `> line`, the way a game
   * console echoes what was typed. Not part of any crash tail: a requested stop is no crash.
   */
  private echoSentInput(line: string): void {
    const text = `${this.ring.midLine ? '\n' : ''}${SENT_INPUT_PREFIX}${line}\n`
    this.ring.push(text)
    this.emit('output', Buffer.from(text))
    try {
      appendFileSync(this.opts.logFile, text)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'game: could not echo the stop command into the console log')
    }
  }

  private exitWithin(run: ActiveRun, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.clock.setTimer(() => resolve(false), ms)
      void run.exited.then(() => {
        this.clock.clearTimer(t)
        resolve(true)
      })
    })
  }
}

function defaultEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) {
    const v = process.env[k]
    if (v) env[k] = v
  }
  return env
}
