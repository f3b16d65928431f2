// Process identity from /proc: a pid plus its start time (clock ticks since boot, field 22 of
// /proc/<pid>/stat) names one process for the life of the machine, so a pid the kernel has
// handed to someone else is never mistaken for ours.
import { readFileSync } from 'node:fs'

/** The start time of `pid` as recorded by the kernel, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null
  let stat: string
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  // comm (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field 22 is rest[19].
  if (rest[0] === 'Z' || rest[0] === 'X') return null
  return rest[19] ?? null
}

/** True when `pid` is alive and is the very process that had `startTime`. */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime
}
