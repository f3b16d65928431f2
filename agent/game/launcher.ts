// Agent side of the game wrapper: start a wrapper for a run, find a run again after an agent
// restart, and keep a live link to it (output in, console input out, exit status when it ends).
//
// Guarantees:
//  - A run is adopted only when the wrapper pid is alive with the start time run.json recorded
//    (/proc/<pid>/stat), so a recycled pid is never mistaken for our wrapper.
//  - Every run ends in exactly one ExitInfo: the wrapper's exit.json, or a synthesized "lost"
//    exit when the wrapper vanished without writing one.
// Assumptions: one run directory per supervisor. Socket paths too long for sun_path are reached
// through /proc/self/fd/<run dir fd>/console.sock.
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { constants as fsConstants, existsSync, mkdirSync, openSync, closeSync, rmSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { isSameProcess } from '../../src/platform/process-identity.ts'
import { readJson, type ExitInfo, type LaunchConfig, type RunInfo } from './wrapper-protocol.ts'
import { writeFileDurableSync } from '../../src/platform/durable-file.ts'

/** The native wrapper's file name in a bundle (wrapper.c, compiled by src/providers/agent-launch.ts). */
export const NATIVE_WRAPPER = 'game-wrapper'

/** The wrapper beside this module: wrapper.ts from the sources; in a bundle, the native
 * game-wrapper when the bundle has one, else wrapper.cjs (src/providers/agent-launch.ts). */
function wrapperBesideMe(): string {
  const ext = path.extname(import.meta.filename)
  const native = path.join(import.meta.dirname, NATIVE_WRAPPER)
  return ext !== '.ts' && existsSync(native) ? native : path.join(import.meta.dirname, `wrapper${ext}`)
}
const WRAPPER_SCRIPT = wrapperBesideMe()
/** Node flags for the bundled wrapper.cjs: it only moves bytes between pipes, a socket and a file, so
 * V8's lite mode and a 1 MiB young generation cost it nothing and keep it small (bench/footprint.ts).
 * Not for wrapper.ts: lite mode has no WebAssembly, which Node's type stripping needs. */
export const WRAPPER_NODE_FLAGS: readonly string[] = ['--lite-mode', '--max-semi-space-size=1']
/** The wrapper listens on this name relative to the run dir (its cwd), so deep roots never hit the 107-byte socket path limit. */
export const SOCKET_NAME = 'console.sock'

export interface RunFiles {
  dir: string
  launchFile: string
  runFile: string
  exitFile: string
  socketPath: string
  wrapperLog: string
}

export function runFiles(dir: string): RunFiles {
  const socketPath = path.join(dir, SOCKET_NAME)
  return {
    dir,
    launchFile: path.join(dir, 'launch.json'),
    runFile: path.join(dir, 'run.json'),
    exitFile: path.join(dir, 'exit.json'),
    socketPath,
    wrapperLog: path.join(dir, 'wrapper.log'),
  }
}

/** How to run a wrapper: the native one is an executable; wrapper.ts/.cjs run in this Node. */
function wrapperCommand(wrapperScript: string, launchFile: string): [string, string[]] {
  if (wrapperScript.endsWith('.ts')) return [process.execPath, [wrapperScript, launchFile]]
  if (wrapperScript.endsWith('.cjs')) return [process.execPath, [...WRAPPER_NODE_FLAGS, wrapperScript, launchFile]]
  return [wrapperScript, [launchFile]]
}

export type LaunchResult = { run: RunInfo; exit?: undefined } | { run?: undefined; exit: ExitInfo }

/** Starts a detached wrapper for one run and waits until the game is spawned (or failed to). */
export async function launchRun(
  files: RunFiles,
  cfg: Omit<LaunchConfig, 'socketPath' | 'runFile' | 'exitFile'>,
  timeoutMs = 15_000,
  wrapperScript = WRAPPER_SCRIPT,
): Promise<LaunchResult> {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 })
  rmSync(files.runFile, { force: true })
  rmSync(files.exitFile, { force: true })
  const full: LaunchConfig = { ...cfg, socketPath: files.socketPath, runFile: files.runFile, exitFile: files.exitFile }
  writeFileDurableSync(files.launchFile, JSON.stringify(full))
  const errFd = openSync(files.wrapperLog, 'a', 0o600)
  const [command, args] = wrapperCommand(wrapperScript, files.launchFile)
  const wrapper = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', errFd],
    cwd: files.dir,
  })
  closeSync(errFd)
  wrapper.unref()
  return await new Promise<LaunchResult>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => {
      fail(new Error(`the game wrapper did not report within ${timeoutMs} ms; see ${files.wrapperLog}`))
    }, timeoutMs)
    const fail = (err: Error): void => {
      clearTimeout(timer)
      wrapper.stdout?.destroy()
      reject(err)
    }
    wrapper.on('error', fail)
    wrapper.stdout?.setEncoding('utf8')
    wrapper.stdout?.on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      wrapper.stdout?.destroy()
      const msg = JSON.parse(buf.slice(0, nl).replace(/^ready /, '')) as { run?: RunInfo; exit?: ExitInfo }
      ;(wrapper.stdout as unknown as { unref?: () => void })?.unref?.()
      if (msg.run) resolve({ run: msg.run })
      else if (msg.exit) resolve({ exit: msg.exit })
      else reject(new Error('the game wrapper sent an unreadable ready line'))
    })
    // 'close', not 'exit': a wrapper that exits at once (the game failed to start) may be gone
    // before its ready line has been read.
    wrapper.on('close', (code) => {
      if (buf.indexOf('\n') < 0) fail(new Error(`the game wrapper exited (code ${code}) before starting the game; see ${files.wrapperLog}`))
    })
  })
}

export type FoundRun =
  | { kind: 'none' }
  | { kind: 'alive'; run: RunInfo }
  | { kind: 'exited'; run: RunInfo; exit: ExitInfo }
  /** run.json names a process that is gone (or is now someone else) and left no exit status. */
  | { kind: 'lost'; run: RunInfo }

/** What the pid file says about a run left by a previous agent. */
export function findRun(files: RunFiles): FoundRun {
  const run = readJson<RunInfo>(files.runFile)
  if (!run || typeof run.wrapperPid !== 'number') return { kind: 'none' }
  const exit = readJson<ExitInfo>(files.exitFile)
  if (exit && exit.runId === run.runId) return { kind: 'exited', run, exit }
  if (isSameProcess(run.wrapperPid, run.wrapperStartTime)) return { kind: 'alive', run }
  return { kind: 'lost', run }
}

/** Forgets a run whose exit has been recorded. */
export function clearRun(files: RunFiles): void {
  rmSync(files.runFile, { force: true })
  rmSync(files.exitFile, { force: true })
}

/** A synthesized exit for a run whose wrapper vanished without telling. */
export function lostExit(run: RunInfo, now = Date.now()): ExitInfo {
  return { runId: run.runId, exitCode: null, signal: null, exitedAt: now, oomKillsAtExit: null, spawnError: null }
}

/**
 * A live link to a run's wrapper. Emits 'output' (Buffer) and, once, 'exit' (ExitInfo, lost:boolean).
 * Reconnects for as long as the wrapper lives (e.g. after it dropped a slow connection).
 */
export class RunLink extends EventEmitter {
  readonly run: RunInfo
  private readonly files: RunFiles
  private sock: net.Socket | null = null
  private ended = false
  private attempts = 0
  private dirFd: number | null = null

  constructor(files: RunFiles, run: RunInfo) {
    super()
    this.files = files
    this.run = run
  }

  connect(): void {
    if (this.ended) return
    const sock = net.connect(this.socketAddress())
    this.sock = sock
    sock.on('connect', () => {
      this.attempts = 0
    })
    sock.on('data', (d: Buffer) => this.emit('output', d))
    sock.on('error', () => {
      /* handled on close */
    })
    sock.on('close', () => {
      this.sock = null
      if (this.ended) return
      // The wrapper closes its clients right after writing the exit status.
      if (readJson<ExitInfo>(this.files.exitFile)?.runId === this.run.runId) {
        this.finish()
        return
      }
      // While the wrapper lives the game may be fine: keep trying (fast at first, then once a
      // second) rather than declaring the run lost.
      if (isSameProcess(this.run.wrapperPid, this.run.wrapperStartTime)) {
        setTimeout(() => this.connect(), this.attempts++ < 50 ? 100 : 1000)
        return
      }
      this.finish()
    })
  }

  private socketAddress(): string {
    if (Buffer.byteLength(this.files.socketPath) <= 107) return this.files.socketPath
    if (this.dirFd === null) this.dirFd = openSync(this.files.dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY)
    return `/proc/self/fd/${this.dirFd}/${SOCKET_NAME}`
  }

  private closeDirFd(): void {
    if (this.dirFd !== null) {
      try {
        closeSync(this.dirFd)
      } catch {
        /* already closed */
      }
    }
    this.dirFd = null
  }

  private finish(): void {
    this.ended = true
    this.closeDirFd()
    const exit = readJson<ExitInfo>(this.files.exitFile)
    if (exit && exit.runId === this.run.runId) this.emit('exit', exit, false)
    else this.emit('exit', lostExit(this.run), true)
  }

  /** Sends bytes to the game's stdin. Returns false when no wrapper connection is up. */
  write(data: string | Buffer): boolean {
    if (!this.sock || this.sock.destroyed || this.sock.connecting) return false
    this.sock.write(data)
    return true
  }

  /** Signals the game's whole process group, after checking the pid is still the game. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (!isSameProcess(this.run.gamePid, this.run.gameStartTime)) return false
    try {
      process.kill(-this.run.gamePid, signal)
      return true
    } catch {
      return false
    }
  }

  /** Drops the link without touching the game (the agent is shutting down). */
  detach(): void {
    this.ended = true
    this.sock?.destroy()
    this.closeDirFd()
  }
}

/** A game that outlived its wrapper: without the wrapper its exit cannot be seen, so end it (SIGTERM, then SIGKILL after 10 s). */
export function terminateOrphan(run: RunInfo, log: { warn(obj: object, msg: string): void }): void {
  log.warn({ pid: run.gamePid }, 'game: the server outlived its wrapper; terminating its process group so it can be supervised again')
  try {
    process.kill(-run.gamePid, 'SIGTERM')
  } catch {
    /* gone */
  }
  setTimeout(() => {
    if (isSameProcess(run.gamePid, run.gameStartTime)) {
      try {
        process.kill(-run.gamePid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }, 10_000).unref()
}
