import t from 'tap'
import { FakeClock } from '../../../src/runtime/clock.ts'
import { EventCorrelator } from '../../../src/runtime/events/correlator.ts'

const ev = (message = 'pod failed', reason = 'Failed') => ({
  involvedKey: 'v1/Pod/ns/p/uid',
  type: 'Warning' as const,
  reason,
  message,
  source: 'ctl',
})

t.test('identical events within the window bump one Event count', async (t) => {
  const clock = new FakeClock()
  const c = new EventCorrelator(clock)
  const first = c.correlate(ev(), 'p')
  t.equal(first.action, 'create')
  for (let i = 2; i <= 5; i++) {
    clock.advance(1000)
    const next = c.correlate(ev(), 'p')
    t.same(next, { action: 'update', name: (first as { name: string }).name, message: 'pod failed', count: i })
  }
  clock.advance(11 * 60_000)
  t.equal(c.correlate(ev(), 'p').action, 'create', 'after the window a new Event starts')
})

t.test('similar events differing in message are combined after 10', async (t) => {
  const clock = new FakeClock()
  const c = new EventCorrelator(clock)
  const actions = Array.from({ length: 14 }, (_, i) => c.correlate(ev(`attempt ${i}`), 'p'))
  t.equal(actions.slice(0, 9).filter((a) => a.action === 'create').length, 9)
  const tenth = actions[9] as { action: string; message: string }
  t.equal(tenth.action, 'create')
  t.match(tenth.message, /^\(combined from similar events\)/)
  t.same(
    actions.slice(10).map((a) => a.action),
    ['update', 'update', 'update', 'update'],
  )
  t.equal((actions[13] as { count: number }).count, 5)
})

t.test('spam filter: burst 25 then one per refill', async (t) => {
  const clock = new FakeClock()
  const c = new EventCorrelator(clock, { maxSimilar: 1000 })
  const results = Array.from({ length: 30 }, (_, i) => c.correlate(ev(`m${i}`), 'p').action)
  t.equal(results.filter((a) => a !== 'drop').length, 25)
  clock.advance(5 * 60_000)
  t.not(c.correlate(ev('later'), 'p').action, 'drop')
  t.equal(c.correlate(ev('later2'), 'p').action, 'drop')
})
