// Crash classification: turns an exit (code, signal, cgroup OOM evidence, log tail) into one of
// the classes the GameServer status reports. Pure: no I/O, so it is tested on log excerpts alone.
import type { CrashClassification } from '../../src/api/agent-game-types.ts'
import { crashRules, type CrashRule } from './crash-rules.ts'

export interface ExitFacts {
  exitCode: number | null
  signal: string | null
  /** How much the cgroup's oom_kill counter rose during the run; null when it could not be read. */
  oomKillDelta: number | null
  logTail: readonly string[]
  /** Set when the process could not be started at all (e.g. ENOENT for the command). */
  spawnError?: string | null
}

export interface Classification {
  classification: CrashClassification
  /** The line (or fact) that decided it. */
  evidence?: string
}

/** Classifies one unexpected exit. Kernel OOM evidence wins; then the first rule matching a log line; then the exit status. */
export function classifyExit(facts: ExitFacts, rules: readonly CrashRule[] = crashRules): Classification {
  if (facts.signal === 'SIGKILL' && facts.oomKillDelta !== null && facts.oomKillDelta > 0) {
    return { classification: 'oom', evidence: `SIGKILL with cgroup oom_kill +${facts.oomKillDelta}` }
  }
  const lines = facts.spawnError ? [...facts.logTail, facts.spawnError] : facts.logTail
  for (const rule of rules) {
    for (const line of lines) {
      if (rule.patterns.some((p) => p.test(line))) return { classification: rule.classification, evidence: line.slice(0, 500) }
    }
  }
  if (facts.spawnError) return { classification: 'unexpected_exit', evidence: `the server could not be started: ${facts.spawnError}` }
  if (facts.exitCode !== null && facts.exitCode !== 0) return { classification: 'nonzero_exit', evidence: `exit code ${facts.exitCode}` }
  if (facts.signal) return { classification: 'unexpected_exit', evidence: `signal ${facts.signal}` }
  return {
    classification: 'unexpected_exit',
    evidence: facts.exitCode === 0 ? 'exit code 0' : 'no exit status (the server process was lost)',
  }
}
