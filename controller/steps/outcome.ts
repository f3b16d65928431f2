// The typed outcome of a reconcile step. A step that can stop the sequence returns either
// `continue` with the value the next step needs, or a Halt saying which condition to set False,
// with what reason and message, which phase to report and when to look again:
//  - `wait`: the world is not there yet (address unknown, agent starting); it will be — requeue soon;
//  - `fail`: something must change first (spec, catalog, provider); reported, looked at again later.
// Steps that never stop the sequence (install, run, observe: a failed install keeps the previous
// version running) return their value directly. API errors are thrown, not outcomes: the framework
// retries a reconcile that throws, with backoff.
import type { Container } from '../../src/providers/index.ts'
import type { GameServerStatus } from '../../src/api/index.ts'

/** The phases both server kinds report (crds/: the same enum on GameServer and DevServer). */
export type ServerPhase = NonNullable<GameServerStatus['phase']>

export interface Halt {
  /** The condition the step owns; set False with `reason` and `message` (Ready too). */
  condition: string
  reason: string
  message: string
  /** Ready's reason when it is not `reason` (e.g. RuntimeUnresolved). */
  readyReason?: string
  /** Further conditions set False with the same reason and message. */
  alsoFalse?: string[]
  /** The phase to report; `PendingUntilCreated`: Pending unless a container was made before. */
  phase: ServerPhase | 'PendingUntilCreated'
  requeueAfterMs: number
  /** A container the step found before stopping: its vmid and address still belong in status. */
  container?: Container
  /** A Warning Event the halt deserves. */
  warning?: { reason: string; message: string }
}

export type StepOutcome<T> = { next: 'continue'; value: T } | { next: 'wait'; halt: Halt } | { next: 'fail'; halt: Halt }

export const proceed = <T>(value: T): StepOutcome<T> => ({ next: 'continue', value })
export const waitFor = <T>(halt: Halt): StepOutcome<T> => ({ next: 'wait', halt })
export const failWith = <T>(halt: Halt): StepOutcome<T> => ({ next: 'fail', halt })
