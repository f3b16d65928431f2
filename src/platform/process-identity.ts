// Process identity from /proc: a pid plus its start time (clock ticks since boot, field 22 of
// /proc/<pid>/stat) names one process for the life of the machine, so a pid the kernel has
// recycled for someone else is never mistaken for ours (never signalled, never trusted as a lock
// holder). The one parser of /proc/<pid>/stat in the product.
//
// Guarantees: the line is parsed from its LAST `)`, so a command name (field 2, chosen by whoever
// started the process, up to 15 bytes) holding spaces, parentheses or digits cannot shift the
// fields that follow; a line that does not have the shape of a stat line yields null, never a
// half-parsed record. Nothing here throws for a missing or unreadable process: it is "not there".
// Assumptions: Linux procfs (`procDir` lets tests point at a fake tree). Start times are compared
// as the kernel's decimal text, so no precision is lost whatever the uptime.
// Caveats: a zombie (state Z) or dead (X) process still has a stat line; `readProcessStat` reports
// it as such and `processStartTime`/`isSameProcess` treat it as gone (it runs nothing any more).

import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The fields of /proc/<pid>/stat this product uses. */
export interface ProcessStat {
  pid: number
  /** Field 2, without its parentheses: the executable's name as the kernel keeps it (untrusted). */
  comm: string
  /** Field 3: R, S, D, Z (zombie), X (dead), T, t, I, … */
  state: string
  /** Field 4. */
  ppid: number
  /** Field 5: the process group. */
  pgid: number
  /** Field 22: start time in clock ticks since boot, as the kernel's decimal text. */
  startTime: string
}

/** Parses one /proc/<pid>/stat line; null when it does not have the shape of one. */
export function parseProcStat(text: string): ProcessStat | null {
  const open = text.indexOf(' (')
  const close = text.lastIndexOf(')')
  if (open <= 0 || close < open + 1) return null
  const pidText = text.slice(0, open)
  if (!/^\d+$/.test(pidText)) return null
  // Fields 3… follow the last ')' after exactly one space.
  if (text[close + 1] !== ' ') return null
  const rest = text
    .slice(close + 2)
    .trimEnd()
    .split(' ')
  const [state, ppid, pgid] = [rest[0], rest[1], rest[2]]
  const startTime = rest[19]
  if (state === undefined || !/^[A-Za-z]$/.test(state)) return null
  if (ppid === undefined || !/^-?\d+$/.test(ppid) || pgid === undefined || !/^-?\d+$/.test(pgid)) return null
  if (startTime === undefined || !/^\d+$/.test(startTime)) return null
  return { pid: Number(pidText), comm: text.slice(open + 2, close), state, ppid: Number(ppid), pgid: Number(pgid), startTime }
}

function statPath(pid: number, procDir: string): string | null {
  return Number.isSafeInteger(pid) && pid > 0 ? join(procDir, String(pid), 'stat') : null
}

/** The stat record of `pid`, zombies included; null when there is no such process. */
export function readProcessStat(pid: number, procDir = '/proc'): ProcessStat | null {
  const file = statPath(pid, procDir)
  if (file === null) return null
  try {
    return parseProcStat(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

/** `readProcessStat` without blocking the event loop (for scans over every process). */
export async function readProcessStatAsync(pid: number, procDir = '/proc'): Promise<ProcessStat | null> {
  const file = statPath(pid, procDir)
  if (file === null) return null
  try {
    return parseProcStat(await readFile(file, 'utf8'))
  } catch {
    return null
  }
}

/** True for a process that has exited and runs nothing any more (zombie or dead). */
export function hasExited(stat: ProcessStat): boolean {
  return stat.state === 'Z' || stat.state === 'X'
}

/** The start time of a live `pid`, or null when there is no such process or it has exited. */
export function processStartTime(pid: number, procDir = '/proc'): string | null {
  const stat = readProcessStat(pid, procDir)
  return stat === null || hasExited(stat) ? null : stat.startTime
}

/** True when `pid` is alive and is the very process that had `startTime`. */
export function isSameProcess(pid: number, startTime: string, procDir = '/proc'): boolean {
  return processStartTime(pid, procDir) === startTime
}
