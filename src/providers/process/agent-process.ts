// The process backend's agent process: started detached (its own session; it writes its own
// size-rotated log, stdio goes to a small side file) so it outlives the controller, and found
// again from a pid file after a controller restart.
//
// Guarantees: a pid file names a process only while that exact process lives — the file records
// the kernel's start time of the pid (src/platform/process-identity.ts) and both must match, so a
// recycled pid is never mistaken for our agent (and never signalled).
// - A "container" stops as a whole: the agent detaches what it starts (game wrapper, game,
//   code-server each in their own session), so they are found by their working directory being
//   inside the container root, plus their process groups and descendants, and are signalled too.
// Assumptions: Linux /proc; processes of the container keep their cwd inside its root.

import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { readFile, readdir, readlink, rm } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { agentLaunch } from '../agent-launch.ts'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { isSameProcess, processStartTime, readProcessStat } from '../../platform/process-identity.ts'

export interface AgentProcessFiles {
  root: string
  tokenFile: string
  pidFile: string
  logFile: string
}

interface PidRecord {
  pid: number
  startTime: string
}

/** The live agent's pid, or undefined when none runs for these files. */
export async function runningAgentPid(files: AgentProcessFiles): Promise<number | undefined> {
  const record = await readFile(files.pidFile, 'utf8')
    .then((s) => JSON.parse(s) as PidRecord)
    .catch(() => undefined)
  if (!record) return undefined
  // A zombie (exited, not yet reaped by us) is not running: it has no start time any more.
  return isSameProcess(record.pid, record.startTime) ? record.pid : undefined
}

/** Where the agent's stdout/stderr go: only what bypasses its logger (a crash trace of the runtime). */
export function agentStderrFile(files: AgentProcessFiles): string {
  return join(dirname(files.logFile), 'agent.stderr.log')
}

export async function startAgentProcess(
  files: AgentProcessFiles,
  options: { cliPath: string; listen: string; codeServerBind: string; vmid: number; agentFromSources?: boolean },
): Promise<number> {
  // The bundle of the project that holds the CLI (agent-launch.ts), or `zlh agent` from the sources.
  const launch = options.agentFromSources
    ? { command: process.execPath, args: [options.cliPath, 'agent'] }
    : await agentLaunch(resolve(dirname(options.cliPath), '..'))
  // The agent writes and rotates `logFile` itself (--log-file; a redirected stdout could not be
  // rotated under the running process); stdio keeps a separate small file for what escapes the logger.
  const log = openSync(agentStderrFile(files), 'a', 0o600)
  try {
    const child = spawn(
      launch.command,
      [
        ...launch.args,
        '--root',
        files.root,
        '--listen',
        options.listen,
        '--token-file',
        files.tokenFile,
        '--code-server-bind',
        options.codeServerBind,
        '--vmid',
        String(options.vmid),
        '--log-file',
        files.logFile,
      ],
      {
        detached: true,
        stdio: ['ignore', log, log],
        // Not the controller's environment: it may hold credentials the agent has no business with.
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: files.root, LANG: 'C.UTF-8' },
        cwd: files.root,
      },
    )
    const pid = child.pid
    if (pid === undefined) throw new Error('spawn returned no pid')
    child.unref()
    await writeFileDurable(files.pidFile, JSON.stringify({ pid, startTime: processStartTime(pid) ?? '' } satisfies PidRecord), 0o600)
    return pid
  } finally {
    closeSync(log)
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopAgentProcess(files: AgentProcessFiles, timeoutMs: number): Promise<void> {
  const pid = await runningAgentPid(files)
  if (pid !== undefined) {
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(pid, sig)
      } catch {
        /* already gone */
      }
    }
    signal('SIGTERM')
    const deadline = Date.now() + timeoutMs
    let delay = 20
    while ((await runningAgentPid(files)) !== undefined) {
      if (Date.now() > deadline) {
        signal('SIGKILL')
        if (Date.now() > deadline + 5000) break
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 200)
    }
  }
  await rm(files.pidFile, { force: true })
}

/**
 * The container's processes (never this one nor its process group): every process whose working
 * directory is the root or inside it, every member of those processes' process groups, and their
 * descendants — so a game or code-server child that changed directory out of the root (a
 * terminal's `cd /tmp`) ends with the container too.
 */
export async function containerPids(root: string): Promise<number[]> {
  const ownGroup = readProcessStat(process.pid)?.pgid
  const all = new Map<number, { ppid: number; pgid: number; inRoot: boolean }>()
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    const stat = readProcessStat(pid)
    if (!stat) continue
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined)
    all.set(pid, { ppid: stat.ppid, pgid: stat.pgid, inRoot: cwd !== undefined && (cwd === root || cwd.startsWith(root + sep)) })
  }
  const found = new Set([...all].filter(([, p]) => p.inRoot).map(([pid]) => pid))
  const groups = new Set([...found].map((pid) => all.get(pid)!.pgid).filter((g) => g !== ownGroup && g > 1))
  for (const [pid, p] of all) if (groups.has(p.pgid)) found.add(pid)
  // Descendants, to a fixed point (a child may be listed before its parent).
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, p] of all)
      if (!found.has(pid) && found.has(p.ppid)) {
        found.add(pid)
        grew = true
      }
  }
  return [...found]
}

/**
 * Stops the whole container: the agent first (graceful), then every other process living in the
 * root with SIGTERM, SIGKILL for what is left when `timeoutMs` has passed.
 */
export async function stopContainer(files: AgentProcessFiles, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  await stopAgentProcess(files, timeoutMs)
  let signalled = false
  let delay = 20
  for (;;) {
    const pids = await containerPids(files.root)
    if (!pids.length) return
    const late = Date.now() > deadline
    if (!signalled || late) {
      for (const pid of pids) {
        try {
          process.kill(pid, late ? 'SIGKILL' : 'SIGTERM')
        } catch {
          /* gone */
        }
      }
      signalled = true
    }
    if (Date.now() > deadline + 5000) return
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 200)
  }
}
