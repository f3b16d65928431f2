import t from 'tap'
import { FakeClock } from '../../../src/runtime/clock.ts'
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  RateLimitingQueue,
  WorkQueue,
  defaultControllerRateLimiter,
} from '../../../src/runtime/workqueue/index.ts'

t.test('duplicates coalesce while queued and keep first-add order', async (t) => {
  const q = new WorkQueue<string>()
  for (let i = 0; i < 1000; i++) {
    q.add('a')
    q.add('b')
  }
  q.add('c')
  t.equal(q.len(), 3)
  t.equal(await q.get(), 'a')
  t.equal(await q.get(), 'b')
  t.equal(await q.get(), 'c')
  t.equal(q.len(), 0)
})

t.test('a key re-added while processing is handed out again only after done', async (t) => {
  const q = new WorkQueue<string>()
  q.add('k')
  const k = await q.get()
  t.equal(k, 'k')
  q.add('k')
  q.add('k')
  t.equal(q.len(), 0, 'not queued while processing')
  let second: string | undefined
  void q.get().then((v) => {
    second = v
  })
  await new Promise((r) => setImmediate(r))
  t.equal(second, undefined, 'no second worker gets it')
  q.done('k')
  await new Promise((r) => setImmediate(r))
  t.equal(second, 'k', 'processed again after done')
  q.done('k')
  t.equal(q.len(), 0)
})

t.test('never two workers on one key under concurrency 8', async (t) => {
  const q = new WorkQueue<string>()
  const active = new Set<string>()
  let overlaps = 0
  let processed = 0
  const keys = ['a', 'b', 'c', 'd']
  const stopAt = 400
  const worker = async (): Promise<void> => {
    for (;;) {
      const k = await q.get()
      if (k === undefined) return
      if (active.has(k)) overlaps++
      active.add(k)
      // re-adds land while the key is processing
      q.add(keys[processed % keys.length] as string)
      await new Promise((r) => setImmediate(r))
      active.delete(k)
      processed++
      q.done(k)
      if (processed >= stopAt) q.shutDown()
    }
  }
  for (const k of keys) q.add(k)
  await Promise.all(Array.from({ length: 8 }, worker))
  t.equal(overlaps, 0)
  t.ok(processed >= stopAt)
})

t.test('shutdown releases waiters, ignores adds, and drain waits for in-flight keys', async (t) => {
  const q = new WorkQueue<string>()
  const parked = q.get()
  q.add('x')
  t.equal(await parked, 'x')
  const waiting = q.get()
  q.add('y')
  t.equal(await waiting, 'y')
  q.add('z')
  q.shutDown()
  t.equal(await q.get(), undefined, 'queued keys are not handed out after shutdown')
  q.add('w')
  t.equal(q.len(), 0)
  let drained = false
  const d = q.drain().then(() => {
    drained = true
  })
  await new Promise((r) => setImmediate(r))
  t.notOk(drained)
  q.done('x')
  await new Promise((r) => setImmediate(r))
  t.notOk(drained, 'y still processing')
  q.done('y')
  await d
  t.ok(drained)
})

t.test('exponential per-item backoff: 5ms x 2^n capped at 1000s', async (t) => {
  const rl = new ItemExponentialFailureRateLimiter<string>()
  t.same([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('b')], [5, 10, 20, 5])
  t.equal(rl.numRequeues('a'), 3)
  rl.forget('a')
  t.equal(rl.when('a'), 5)
  for (let i = 0; i < 40; i++) rl.when('c')
  t.equal(rl.when('c'), 1_000_000)
  t.throws(() => new ItemExponentialFailureRateLimiter<string>(0), { code: 'RT_INVALID_OPTION' })
})

t.test('token bucket: burst then qps', async (t) => {
  const clock = new FakeClock()
  const b = new BucketRateLimiter<string>(10, 100, clock)
  for (let i = 0; i < 100; i++) t.equal(b.when('x'), 0)
  t.equal(b.when('x'), 100, '101st waits one token at 10 qps')
  t.equal(b.when('x'), 200, 'reservations queue up')
  clock.advance(1000)
  t.equal(b.when('x'), 0, 'refilled after a second (10 tokens, 2 already reserved)')
})

t.test('default limiter combines both by max', async (t) => {
  const clock = new FakeClock()
  const rl = defaultControllerRateLimiter<string>({ clock, qps: 1, burst: 1 })
  t.equal(rl.when('a'), 5)
  t.equal(rl.when('b'), 1000, 'bucket exhausted dominates')
})

t.test('addAfter fires on the fake clock, earliest time wins, coalesces', async (t) => {
  const clock = new FakeClock()
  const q = new RateLimitingQueue<string>({ clock })
  q.addAfter('a', 100)
  q.addAfter('a', 50)
  q.addAfter('a', 500)
  q.addAfter('b', 80)
  t.equal(q.len(), 0)
  clock.advance(49)
  t.equal(q.len(), 0)
  clock.advance(1)
  t.equal(q.len(), 1)
  t.equal(await q.get(), 'a')
  clock.advance(29)
  t.equal(q.len(), 0)
  clock.advance(1)
  t.equal(await q.get(), 'b')
  clock.advance(10_000)
  t.equal(q.len(), 0, 'a fired only once')
  t.equal(q.waitingCount(), 0)
  q.addAfter('c', 0)
  t.equal(q.len(), 1, 'non-positive delay adds now')
})

t.test('addRateLimited backs off exponentially on the queue clock', async (t) => {
  const clock = new FakeClock()
  const q = new RateLimitingQueue<string>({ clock })
  const seenAt: number[] = []
  for (let i = 0; i < 4; i++) {
    q.addRateLimited('k')
    const delay = (clock.nextDue() as number) - clock.now()
    seenAt.push(delay)
    clock.advance(delay - 1)
    t.equal(q.len(), 0, `not before ${delay}ms`)
    clock.advance(1)
    t.equal(await q.get(), 'k')
    q.done('k')
  }
  t.same(seenAt, [5, 10, 20, 40])
  t.equal(q.numRequeues('k'), 4)
  q.forget('k')
  t.equal(q.numRequeues('k'), 0)
})

t.test('many delayed keys come out in time order', async (t) => {
  const clock = new FakeClock()
  const q = new RateLimitingQueue<string>({ clock })
  const delays = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) + 1)
  delays.forEach((d, i) => {
    q.addAfter(`k${i}`, d)
  })
  const out: number[] = []
  for (let ms = 1; ms <= 200; ms++) {
    clock.advance(1)
    while (q.len() > 0) {
      const k = (await q.get()) as string
      out.push(delays[Number(k.slice(1))] as number)
      q.done(k)
    }
  }
  t.equal(out.length, 200)
  t.same(
    out,
    [...out].sort((a, b) => a - b),
  )
})

t.test('metrics hooks see adds, depth, retries, queue and work time', async (t) => {
  const clock = new FakeClock()
  const seen = { added: 0, depth: -1, queued: [] as number[], worked: [] as number[], retried: 0 }
  const q = new RateLimitingQueue<string>({
    clock,
    metrics: {
      added: () => {
        seen.added++
      },
      depth: (n) => {
        seen.depth = n
      },
      queued: (ms) => {
        seen.queued.push(ms)
      },
      worked: (ms) => {
        seen.worked.push(ms)
      },
      retried: () => {
        seen.retried++
      },
    },
  })
  q.add('a')
  q.add('a')
  t.equal(seen.depth, 1)
  clock.advance(30)
  const k = (await q.get()) as string
  t.equal(seen.depth, 0)
  clock.advance(70)
  q.done(k)
  q.addRateLimited('a')
  t.same(
    { added: seen.added, queued: seen.queued, worked: seen.worked, retried: seen.retried },
    { added: 1, queued: [30], worked: [70], retried: 1 },
  )
})
