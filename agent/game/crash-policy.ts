// What happens after an unrequested exit, as pure functions: the crash record (with its
// classification) and the restart decision (policy, backoff step, reset, Error after the limit).
import type { CrashRecord, EffectiveGameSpec } from '../../src/api/agent-game-types.ts'
import { classifyExit } from './classify.ts'
import { plainLine, plainText } from './terminal-text.ts'
import type { ExitInfo, RunInfo } from './wrapper-protocol.ts'

export interface CrashContext {
  run: RunInfo
  exit: ExitInfo
  uptimeMs: number
  logTail: string[]
  /** The exit was found when a new agent started, not seen live. */
  afterAgentRestart: boolean
  /** The run vanished without an exit status (wrapper gone or pid reused). */
  lost: boolean
}

/** The crash record of an exit. Its log tail and evidence are plain text (terminal escapes and control characters removed). */
export function crashRecord(c: CrashContext): CrashRecord {
  const { exit, run } = c
  const oomKillDelta = exit.oomKillsAtExit !== null && run.oomKillsAtStart !== null ? exit.oomKillsAtExit - run.oomKillsAtStart : null
  const logTail = c.logTail.map(plainLine)
  const spawnError = exit.spawnError ? plainText(exit.spawnError) : null
  const cls = classifyExit({ exitCode: exit.exitCode, signal: exit.signal, oomKillDelta, logTail, spawnError })
  return {
    time: new Date(exit.exitedAt).toISOString(),
    exitCode: exit.exitCode,
    signal: exit.signal,
    uptimeSeconds: Math.round(c.uptimeMs / 100) / 10,
    classification: cls.classification,
    ...(c.lost
      ? { evidence: 'the server vanished without an exit status (wrapper gone or pid reused)' }
      : cls.evidence
        ? { evidence: cls.evidence }
        : {}),
    logTail,
    ...(c.afterAgentRestart ? { observedAfterAgentRestart: true } : {}),
  }
}

/** A crash record as plain text (one an older agent persisted may still carry terminal escapes). */
export function plainCrashRecord(c: CrashRecord): CrashRecord {
  return { ...c, logTail: c.logTail.map(plainLine), ...(c.evidence !== undefined ? { evidence: plainText(c.evidence) } : {}) }
}

export type RestartDecision =
  | { kind: 'restart'; failures: number; delayMs: number }
  | { kind: 'error'; failures: number; message: string }
  /** The policy does not restart this exit: Crashed for a failure, Stopped for a clean exit. */
  | { kind: 'stay'; failures: number; state: 'Crashed' | 'Stopped' }

/**
 * The restart decision for one unrequested exit. `failuresBefore` is the consecutive failure
 * count so far; a run of at least resetAfterSeconds resets it (and so the backoff) first.
 */
export function decideRestart(
  spec: EffectiveGameSpec | null,
  failuresBefore: number,
  uptimeMs: number,
  exit: ExitInfo,
  classification: string,
): RestartDecision {
  const sup = spec?.supervision
  const failures = (sup && uptimeMs >= sup.resetAfterSeconds * 1000 ? 0 : failuresBefore) + 1
  // A hung server is a failure however its process ended (it may obey the stop command once SIGCONT wakes it).
  const failed = classification === 'unresponsive' || exit.exitCode !== 0 || exit.signal !== null || exit.spawnError !== null
  const restart = sup !== undefined && (sup.restartPolicy === 'Always' || (sup.restartPolicy === 'OnFailure' && failed))
  if (!sup || !restart) return { kind: 'stay', failures, state: failed ? 'Crashed' : 'Stopped' }
  if (failures >= sup.maxConsecutiveFailures) {
    return {
      kind: 'error',
      failures,
      message: `the server failed ${failures} times in a row (last: ${classification}); no more restarts until the spec changes or POST /game/start`,
    }
  }
  const steps = sup.backoffSeconds
  return { kind: 'restart', failures, delayMs: (steps[Math.min(failures - 1, steps.length - 1)] ?? 30) * 1000 }
}
