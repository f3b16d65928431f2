// The wake-request rule the controller and the gateway share (src/api/wake-request.ts).
import t from 'tap'
import { ANNOTATION_CLOCK_SKEW_MS, annotationTimeMs, wakeRequestedFor, wakeRequestTime } from '../../src/api/index.ts'

const now = Date.parse('2026-12-07T08:00:00Z')
const since = '2026-12-07T07:00:00Z'

t.test('a request later than the sleep asks to wake it; one from before the sleep does not', async (t) => {
  t.ok(wakeRequestedFor('2026-12-07T07:30:00Z', since, now))
  t.notOk(wakeRequestedFor('2026-12-07T06:59:59Z', since, now), 'asked for an earlier sleep')
  t.notOk(wakeRequestedFor(since, since, now), 'the same instant as the sleep is not later')
  t.ok(wakeRequestedFor('2026-12-07T07:30:00Z', undefined, now), 'any usable request when the sleep time is unknown')
})

t.test('absent, malformed and far-future values never ask', async (t) => {
  t.notOk(wakeRequestedFor(undefined, since, now))
  t.notOk(wakeRequestedFor('yesterday', since, now))
  t.notOk(wakeRequestedFor('9999-12-31T00:00:00Z', since, now), 'would wake every later sleep too')
  t.ok(wakeRequestedFor(new Date(now + ANNOTATION_CLOCK_SKEW_MS).toISOString(), since, now), 'within the clock skew counts')
  t.notOk(wakeRequestedFor(new Date(now + ANNOTATION_CLOCK_SKEW_MS + 1000).toISOString(), since, now), 'past the skew does not')
  t.equal(annotationTimeMs('9999-12-31T00:00:00Z', now), undefined)
  t.equal(annotationTimeMs(since, now), Date.parse(since))
})

t.test('a writer asks with now, later than the sleep even on a clock behind the controller', async (t) => {
  t.equal(wakeRequestTime(since, now), new Date(now).toISOString())
  const ahead = new Date(now + 30_000).toISOString()
  const asked = wakeRequestTime(ahead, now)
  t.ok(Date.parse(asked) > Date.parse(ahead))
  t.ok(wakeRequestedFor(asked, ahead, now), 'what a writer asks with counts as asked for that sleep')
  t.equal(wakeRequestTime(undefined, now), new Date(now).toISOString())
})
