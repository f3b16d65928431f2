import t from 'tap'
import { decideRestart } from '../../../agent/game/crash-policy.ts'
import { effectiveSpec } from '../../../agent/game/spec.ts'
import type { ExitInfo } from '../../../agent/game/wrapper-protocol.ts'

const exit = (exitCode: number | null, signal: string | null = null): ExitInfo => ({
  runId: 'r',
  exitCode,
  signal,
  exitedAt: 0,
  oomKillsAtExit: null,
  spawnError: null,
})
const spec = (supervision = {}) => effectiveSpec({ server: { command: ['x'] }, supervision })

t.test('restart decisions', async (t) => {
  t.same(decideRestart(spec(), 0, 1000, exit(1), 'nonzero_exit'), { kind: 'restart', failures: 1, delayMs: 30_000 })
  t.same(decideRestart(spec(), 1, 1000, exit(1), 'nonzero_exit'), { kind: 'restart', failures: 2, delayMs: 60_000 })
  t.same(
    decideRestart(spec(), 3, 1000, exit(null, 'SIGSEGV'), 'unexpected_exit'),
    { kind: 'restart', failures: 4, delayMs: 120_000 },
    'the last step repeats',
  )
  t.equal(decideRestart(spec(), 4, 1000, exit(1), 'oom').kind, 'error', 'the fifth consecutive failure is Error')
  t.same(decideRestart(spec(), 4, 30_000, exit(1), 'oom'), { kind: 'restart', failures: 1, delayMs: 30_000 }, 'a 30 s run resets first')
  t.same(decideRestart(spec({ restartPolicy: 'OnFailure' }), 0, 10, exit(0), 'unexpected_exit'), {
    kind: 'stay',
    failures: 1,
    state: 'Stopped',
  })
  t.same(decideRestart(spec({ restartPolicy: 'Never' }), 0, 10, exit(2), 'nonzero_exit'), { kind: 'stay', failures: 1, state: 'Crashed' })
  t.same(
    decideRestart(spec({ backoffSeconds: [5], maxConsecutiveFailures: 10 }), 7, 10, exit(0), 'unexpected_exit'),
    { kind: 'restart', failures: 8, delayMs: 5000 },
    'Always restarts a clean exit too',
  )
  t.equal(decideRestart(null, 0, 10, exit(1), 'nonzero_exit').kind, 'stay', 'no spec, no restart')
})
