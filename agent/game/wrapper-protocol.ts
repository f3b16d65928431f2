// Files and messages shared by the game wrapper (a detached process that owns the game) and the
// agent. The wrapper outlives the agent; these files are how a new agent finds the game again.
//
// Layout in the run directory:
//   launch.json  what to start (written by the agent before spawning the wrapper)
//   run.json     the pid file: wrapper and game pids with their /proc start times (written by the wrapper once the game runs)
//   exit.json    how the game ended (written by the wrapper, atomically, before it exits)
//   console.sock the wrapper's unix socket: game output out, console input in
import { readFileSync } from 'node:fs'

export interface LaunchConfig {
  runId: string
  command: string
  args: string[]
  env: Record<string, string>
  cwd: string
  socketPath: string
  runFile: string
  exitFile: string
  logFile: string
  logMaxBytes: number
  logKeep: number
  /** A cgroup directory (v1 memory or v2) the wrapper joins before starting the game, so the game and its OOM kills are accounted there. */
  cgroupDir?: string
}

export interface RunInfo {
  runId: string
  wrapperPid: number
  wrapperStartTime: string
  gamePid: number
  gameStartTime: string
  /** Wall-clock ms when the game was spawned. */
  startedAt: number
  oomCounterFile: string | null
  oomKillsAtStart: number | null
}

export interface ExitInfo {
  runId: string
  exitCode: number | null
  signal: string | null
  /** Wall-clock ms when the game exited. */
  exitedAt: number
  oomKillsAtExit: number | null
  /** Set when the command could not be started at all. */
  spawnError: string | null
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    return null
  }
}

/** The first line the wrapper writes to the log for a run. */
export function runMarker(runId: string): string {
  return `[zlh] run ${runId} started`
}
