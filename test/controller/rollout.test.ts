// Rollout planning: one at a time (max unavailable), halts on a failure, new servers not held.
import t from 'tap'
import { planRollout, type Follower } from '../../controller/rollout.ts'

const f = (key: string, installed: string | undefined, admitted: string | undefined, ready: boolean, failure?: string): Follower => ({
  key,
  ...(installed ? { installed } : {}),
  ...(admitted ? { admitted } : {}),
  ready,
  ...(failure ? { failure } : {}),
})

t.test('admits one follower at a time, in name order', async (t) => {
  const p = planRollout('stable', 'B', [f('c', 'A', 'A', true), f('a', 'A', 'A', true), f('b', 'A', 'A', true)], 1)
  t.same(p.admit, ['a'])
  t.equal(p.state, 'Progressing')
  t.match(p.message, /0\/3 on B; updating a/)
})

t.test('waits while one is in flight; moves on once it is Ready on the target', async (t) => {
  t.same(planRollout('stable', 'B', [f('a', 'A', 'B', false), f('b', 'A', 'A', true)], 1).admit, [])
  t.same(planRollout('stable', 'B', [f('a', 'B', 'B', false), f('b', 'A', 'A', true)], 1).admit, [], 'installed but not Ready yet')
  t.same(planRollout('stable', 'B', [f('a', 'B', 'B', true), f('b', 'A', 'A', true)], 1).admit, ['b'])
})

t.test('maxUnavailable 2 admits two', async (t) => {
  t.same(planRollout('stable', 'B', [f('a', 'A', 'A', true), f('b', 'A', 'A', true), f('c', 'A', 'A', true)], 2).admit, ['a', 'b'])
})

t.test('a failure on the target halts the rollout and names the server', async (t) => {
  const p = planRollout('stable', 'B', [f('a', 'A', 'B', false, 'VerifyFailed: boom'), f('b', 'A', 'A', true)], 1)
  t.equal(p.state, 'Halted')
  t.same(p.admit, [])
  t.match(p.message, /a failed on B: VerifyFailed: boom/)
})

t.test('complete when all are Ready on the target; new servers are not held', async (t) => {
  const p = planRollout('stable', 'B', [f('a', 'B', 'B', true), f('b', 'B', 'A', true)], 1)
  t.equal(p.state, 'Complete')
  t.same(p.admit, ['b'], 'records the admission of one already there')
  const fresh = planRollout('stable', 'B', [f('new', undefined, undefined, false)], 1)
  t.same(fresh.admit, [], 'a server with nothing installed installs the channel version itself')
  t.equal(fresh.state, 'Progressing')
})

t.test('rollback is the same walk towards the old version', async (t) => {
  const p = planRollout('stable', 'A', [f('a', 'A', 'B', false, 'VerifyFailed: x'), f('b', 'B', 'B', true)], 1)
  t.equal(p.state, 'Progressing', 'a failure on another version does not halt the walk back')
  t.same(p.admit, ['a'])
})
