// The process backend's agent process: started detached (its own session, stdio to a log file) so
// it outlives the controller, and found again from a pid file after a controller restart.
//
// Guarantees: a pid file names a process only while that exact process lives — the file records
// the kernel's start time of the pid (/proc/<pid>/stat field 22) and both must match, so a
// recycled pid is never mistaken for our agent (and never signalled).
// - A "container" stops as a whole: the agent detaches what it starts (game wrapper, game,
//   code-server each in their own session), so they are found by their working directory being
//   inside the container root and are signalled too.
// Assumptions: Linux /proc; processes of the container keep their cwd inside its root.

import { spawn } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { readFile, readdir, readlink, rm } from 'node:fs/promises'
import { sep } from 'node:path'
import { writeFileAtomic } from '../atomic-file.ts'

export interface AgentProcessFiles {
  root: string
  tokenFile: string
  pidFile: string
  logFile: string
}

interface PidRecord { pid: number; startTime: string }

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; starttime is field 22 overall.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** The live agent's pid, or undefined when none runs for these files. */
export async function runningAgentPid(files: AgentProcessFiles): Promise<number | undefined> {
  const record = await readFile(files.pidFile, 'utf8').then((s) => JSON.parse(s) as PidRecord).catch(() => undefined)
  if (!record) return undefined
  const start = procStartTime(record.pid)
  if (start === undefined || start !== record.startTime) return undefined
  // A zombie (exited, not yet reaped by us) is not running.
  const state = readFileSync(`/proc/${record.pid}/stat`, 'utf8').split(') ')[1]?.[0]
  return state === 'Z' ? undefined : record.pid
}

export async function startAgentProcess(files: AgentProcessFiles, options: { cliPath: string; listen: string; vmid: number }): Promise<number> {
  const log = openSync(files.logFile, 'a', 0o600)
  try {
    const child = spawn(process.execPath, [options.cliPath, 'agent', '--root', files.root, '--listen', options.listen, '--token-file', files.tokenFile, '--vmid', String(options.vmid)], {
      detached: true,
      stdio: ['ignore', log, log],
      // Not the controller's environment: it may hold credentials the agent has no business with.
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: files.root, LANG: 'C.UTF-8' },
      cwd: files.root,
    })
    const pid = child.pid
    if (pid === undefined) throw new Error('spawn returned no pid')
    child.unref()
    await writeFileAtomic(files.pidFile, JSON.stringify({ pid, startTime: procStartTime(pid) ?? '' } satisfies PidRecord), 0o600)
    return pid
  } finally {
    closeSync(log)
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopAgentProcess(files: AgentProcessFiles, timeoutMs: number): Promise<void> {
  const pid = await runningAgentPid(files)
  if (pid !== undefined) {
    const signal = (sig: NodeJS.Signals) => { try { process.kill(pid, sig) } catch { /* already gone */ } }
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

/** Pids (not ours) whose working directory is the root or inside it. */
export async function containerPids(root: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined)
    if (cwd !== undefined && (cwd === root || cwd.startsWith(root + sep))) pids.push(pid)
  }
  return pids
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
      for (const pid of pids) { try { process.kill(pid, late ? 'SIGKILL' : 'SIGTERM') } catch { /* gone */ } }
      signalled = true
    }
    if (Date.now() > deadline + 5000) return
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 200)
  }
}
