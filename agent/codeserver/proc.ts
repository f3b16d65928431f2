// Finding processes through /proc: an instance of code-server that outlived the agent is found by
// its command line (our user-data dir), and identified by pid + start time so a recycled pid is
// never mistaken for it. The stat line is read by the platform's one parser
// (src/platform/process-identity.ts); this module adds argv matching and the group stop.
import fs from 'node:fs/promises'
import path from 'node:path'
import { hasExited, readProcessStatAsync } from '../../src/platform/process-identity.ts'

export interface ProcInfo {
  pid: number
  ppid: number
  /** start time in clock ticks since boot (/proc/<pid>/stat field 22) */
  startTime: number
  argv: string[]
}

export async function readProc(pid: number, procDir = '/proc'): Promise<ProcInfo | null> {
  const [stat, cmdline] = await Promise.all([
    readProcessStatAsync(pid, procDir),
    fs.readFile(path.join(procDir, String(pid), 'cmdline')).catch(() => null),
  ])
  if (stat === null || cmdline === null || hasExited(stat)) return null
  const argv = cmdline.toString('utf8').split('\0')
  if (argv.at(-1) === '') argv.pop()
  return { pid, ppid: stat.ppid, startTime: Number(stat.startTime), argv }
}

/** Every live process whose argv satisfies `match`, excluding this process. */
export async function findProcesses(match: (argv: string[]) => boolean, procDir = '/proc'): Promise<ProcInfo[]> {
  const entries = await fs.readdir(procDir).catch(() => [] as string[])
  const out: ProcInfo[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    const info = await readProc(pid, procDir)
    if (info && match(info.argv)) out.push(info)
  }
  return out
}

/** Of a set of matching processes (a launcher and its children share argv), the top-most ones. */
export function topMost(procs: ProcInfo[]): ProcInfo[] {
  const pids = new Set(procs.map((p) => p.pid))
  return procs.filter((p) => !pids.has(p.ppid))
}

/** True while `pid` still is the process that started at `startTime`. */
export async function isSameProcess(pid: number, startTime: number, procDir = '/proc'): Promise<boolean> {
  const info = await readProc(pid, procDir)
  return info !== null && info.startTime === startTime
}

export function argValue(argv: string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1]
    if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1)
  }
  return undefined
}

/**
 * Stop a process group led by `pid`: SIGTERM, wait up to `timeoutMs`, then SIGKILL and wait.
 * Identity is pid + start time, so a recycled pid is never signalled after the process is gone.
 * Returns which signal ended it.
 */
export async function stopProcessGroup(
  pid: number,
  startTime: number,
  timeoutMs: number,
  procDir = '/proc',
): Promise<'SIGTERM' | 'SIGKILL' | 'gone'> {
  const alive = (): Promise<boolean> => isSameProcess(pid, startTime, procDir)
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig)
    } catch {
      try {
        process.kill(pid, sig)
      } catch {
        /* already gone */
      }
    }
  }
  if (!(await alive())) return 'gone'
  signalGroup('SIGTERM')
  const deadline = Date.now() + timeoutMs
  while ((await alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  if (!(await alive())) return 'SIGTERM'
  if (await alive()) signalGroup('SIGKILL')
  while (await alive()) await new Promise((r) => setTimeout(r, 50))
  return 'SIGKILL'
}
