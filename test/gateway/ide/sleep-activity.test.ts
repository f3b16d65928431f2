// IDE activity coalescing (src/gateway/ide/activity.ts) on a fake clock: at most one write per
// DevServer per min(60 s, stopAfterSeconds / 3), a trailing write of the latest use, nothing for
// DevServers without spec.idle, no timer while nothing happens, failures logged once and backed off.
import t from 'tap'
import { FakeClock } from '../../../src/platform/clock.ts'
import { activityIntervalMs, IdeActivity, type DevServerRef } from '../../../src/gateway/ide/activity.ts'
import { WakeRequests } from '../../../src/gateway/ide/wake-request.ts'

const box: DevServerRef = { namespace: 'default', name: 'box', uid: 'uid-box' }
const other: DevServerRef = { namespace: 'default', name: 'other', uid: 'uid-other' }

function setup(opts: { idle?: Record<string, number | undefined>; fail?: () => unknown } = {}) {
  const clock = new FakeClock()
  const writes: Array<{ ref: DevServerRef; at: number }> = []
  const errors: Array<{ ref: DevServerRef; err: unknown }> = []
  const idle = opts.idle ?? { 'uid-box': 30, 'uid-other': 600 }
  const activity = new IdeActivity({
    clock,
    idleSecondsOf: (ref) => idle[ref.uid],
    write: async (ref, at) => {
      writes.push({ ref, at: at.getTime() })
      const err = opts.fail?.()
      if (err) throw err
    },
    onWriteError: (ref, err) => errors.push({ ref, err }),
  })
  return { clock, writes, errors, activity, idle }
}

t.test('interval is min(60 s, stopAfterSeconds / 3)', async (t) => {
  t.equal(activityIntervalMs(30), 10_000)
  t.equal(activityIntervalMs(600), 60_000)
  t.equal(activityIntervalMs(5), 1666)
})

t.test('a burst of uses is one write now and one trailing write of the latest use', async (t) => {
  const { clock, writes, activity } = setup()
  const start = clock.now()
  activity.touch(box)
  t.equal(writes.length, 1, 'the first use writes at once')
  t.equal(writes[0]!.at, start)
  await clock.settle()
  for (let i = 0; i < 1000; i++) {
    clock.advance(5)
    activity.touch(box) // e.g. WebSocket chunks
  }
  t.equal(writes.length, 1, 'no write per chunk within the interval (10 s for stopAfterSeconds 30)')
  t.equal(activity.armedTimers, 1, 'one trailing timer')
  const lastUse = clock.now()
  clock.advance(10_000)
  await clock.settle()
  t.equal(writes.length, 2, 'the trailing write at the end of the interval')
  t.equal(writes[1]!.at, lastUse, 'it carries the latest use, not the time it fires')
  t.equal(activity.armedTimers, 0)
  clock.advance(10 * 60_000)
  await clock.settle()
  t.equal(writes.length, 2, 'nothing happens while nobody uses it')
  t.equal(clock.pendingTimers, 0, 'and no timer is left')
})

t.test('steady use writes once per interval, per DevServer', async (t) => {
  const { clock, writes, activity } = setup()
  for (let s = 0; s < 120; s++) {
    activity.touch(box)
    activity.touch(other)
    clock.advance(1000)
    await clock.settle(1)
  }
  const boxWrites = writes.filter((w) => w.ref === box).length
  const otherWrites = writes.filter((w) => w.ref === other).length
  t.ok(boxWrites >= 12 && boxWrites <= 13, `box (every 10 s): ${boxWrites} writes in 120 s`)
  t.ok(otherWrites >= 2 && otherWrites <= 3, `other (every 60 s): ${otherWrites} writes in 120 s`)
  const boxTimes = writes.filter((w) => w.ref === box).map((w) => w.at)
  for (let i = 1; i < boxTimes.length; i++) t.ok(boxTimes[i]! - boxTimes[i - 1]! >= 10_000 - 1000, 'writes are an interval apart')
})

t.test('a DevServer without spec.idle is never written to, and arms no timer', async (t) => {
  const { clock, writes, activity, idle } = setup({ idle: { 'uid-box': undefined } })
  for (let i = 0; i < 200; i++) {
    activity.touch(box)
    clock.advance(1000)
  }
  await clock.settle()
  t.equal(writes.length, 0)
  t.equal(clock.pendingTimers, 0)
  idle['uid-box'] = 60
  clock.advance(60_000)
  activity.touch(box)
  t.equal(writes.length, 1, 'once spec.idle appears (seen within 60 s), uses are written')
})

t.test('a failing write (403/404) is reported once and not retried hot', async (t) => {
  const forbidden = Object.assign(new Error('devservers.zerolaghub.dev "box" is forbidden'), { statusCode: 403 })
  let failing = true
  const { clock, writes, errors, activity } = setup({ fail: () => (failing ? forbidden : undefined) })
  for (let s = 0; s < 600; s++) {
    activity.touch(box)
    clock.advance(1000)
    await clock.settle(1)
  }
  t.equal(errors.length, 1, 'reported once')
  t.ok(writes.length <= 8, `backed off: ${writes.length} attempts in 10 min (interval 10 s doubling to 5 min)`)
  t.equal(activity.armedTimers, 0, 'no timer keeps retrying')
  failing = false
  clock.advance(5 * 60_000)
  activity.touch(box)
  await clock.settle()
  const n = writes.length
  failing = true
  clock.advance(5 * 60_000)
  activity.touch(box)
  await clock.settle()
  t.equal(writes.length, n + 1)
  t.equal(errors.length, 2, 'a new failure after a success is reported again')
})

t.test('close drops timers', async (t) => {
  const { clock, activity } = setup()
  activity.touch(box)
  await clock.settle()
  activity.touch(box)
  t.equal(clock.pendingTimers, 1)
  activity.close()
  t.equal(clock.pendingTimers, 0)
  activity.touch(box)
  t.equal(activity.tracked, 0)
})

t.test('wake requests: one write per sleep, however many callers', async (t) => {
  const clock = new FakeClock()
  const writes: Date[] = []
  let release: () => void = () => {}
  const wake = new WakeRequests({
    clock,
    write: () =>
      new Promise<void>((resolve) => {
        writes.push(new Date(clock.now()))
        release = resolve
      }),
  })
  const since = new Date(clock.now() - 60_000).toISOString()
  const dev = { ...box, sleepSince: since, wakeRequested: undefined }
  for (let i = 0; i < 50; i++) wake.request(dev)
  t.equal(writes.length, 1, 'concurrent requests share one write')
  release()
  await clock.settle()
  wake.request(dev)
  t.equal(writes.length, 1, 'and later ones for the same sleep write nothing')
  wake.request({ ...dev, wakeRequested: new Date(clock.now()).toISOString() })
  t.equal(writes.length, 1)
  const nextSleep = { ...dev, sleepSince: new Date(clock.now() + 1000).toISOString(), wakeRequested: since }
  wake.request(nextSleep)
  t.equal(writes.length, 2, 'a new sleep (and an annotation older than it) is a new request')
})

t.test('wake requests: a controller clock ahead still gets a later time; failures are retried after a pause', async (t) => {
  const clock = new FakeClock()
  const at: Date[] = []
  let fail = true
  const errors: unknown[] = []
  const wake = new WakeRequests({
    clock,
    write: async (_ref, when) => {
      at.push(when)
      if (fail) throw new Error('forbidden')
    },
    onWriteError: (_r, e) => errors.push(e),
  })
  const ahead = new Date(clock.now() + 30_000).toISOString()
  const dev = { ...box, sleepSince: ahead, wakeRequested: undefined }
  wake.request(dev)
  t.ok(at[0]!.getTime() > Date.parse(ahead), 'written time is later than status.sleep.since')
  await clock.settle()
  t.equal(wake.failure(dev), 'forbidden')
  wake.request(dev)
  t.equal(at.length, 1, 'not retried at once')
  clock.advance(10_000)
  fail = false
  wake.request(dev)
  t.equal(at.length, 2, 'retried after the pause')
  await clock.settle()
  t.equal(wake.failure(dev), undefined)
  t.equal(errors.length, 1)
})
