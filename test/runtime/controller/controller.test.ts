import t from 'tap'
import { FakeClock } from '../../../src/runtime/clock.ts'
import { Controller } from '../../../src/runtime/controller/controller.ts'
import type { Reconciler } from '../../../src/runtime/controller/reconcile.ts'
import { TerminalError } from '../../../src/runtime/errors.ts'
import { RuntimeMetrics } from '../../../src/runtime/metrics.ts'

async function until(cond: () => boolean, clock: FakeClock, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return
    await clock.settle(1)
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function metricValue(m: RuntimeMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const json = await m.registry.getMetricsAsJSON()
  const metric = json.find((x) => x.name === name)
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val))
  return v?.value ?? NaN
}

t.test('a throwing reconciler backs off exponentially on the queue clock and never crashes', async (t) => {
  const clock = new FakeClock()
  const metrics = new RuntimeMetrics()
  const attempts: number[] = []
  const start = clock.now()
  let mode = 0
  const reconciler: Reconciler = () => {
    attempts.push(clock.now() - start)
    mode++
    if (mode === 1) throw new Error('sync throw')
    if (mode === 2) return Promise.reject(new Error('rejected'))
    if (mode === 3) throw 'a string' // eslint-disable-line no-throw-literal
    if (mode === 4) throw new Error('again')
    return undefined
  }
  const c = new Controller({ name: 'backoff', reconciler, clock, metrics })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  c.enqueue({ namespace: 'ns', name: 'a' })
  await until(() => attempts.length === 1, clock, 'first attempt')
  for (const [delay, n] of [
    [5, 2],
    [10, 3],
    [20, 4],
    [40, 5],
  ] as const) {
    await until(() => clock.pendingTimers === 1, clock, 'retry timer')
    clock.advance(delay - 1)
    await clock.settle()
    t.equal(attempts.length, n - 1, `no retry before ${delay} ms`)
    clock.advance(1)
    await until(() => attempts.length === n, clock, `attempt ${n}`)
  }
  t.same(attempts, [0, 5, 15, 35, 75], 'retries at 5, 10, 20, 40 ms intervals')
  await clock.settle()
  t.equal(c.queue.numRequeues('ns/a'), 0, 'success forgets the backoff')
  t.equal(await metricValue(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'backoff' }), 4)
  t.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'backoff', result: 'error' }), 4)
  t.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'backoff', result: 'success' }), 1)
  t.equal(await metricValue(metrics, 'workqueue_retries_total', { name: 'backoff' }), 4)
  ac.abort()
  await running
})

t.test('a TerminalError is counted and not retried', async (t) => {
  const clock = new FakeClock()
  const metrics = new RuntimeMetrics()
  let calls = 0
  const c = new Controller({
    name: 'terminal',
    clock,
    metrics,
    reconciler: () => {
      calls++
      throw new TerminalError('spec.x is invalid')
    },
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  c.enqueue('k')
  await until(() => calls === 1, clock, 'first call')
  await clock.settle()
  clock.advance(10_000_000)
  await clock.settle()
  t.equal(calls, 1)
  t.equal(clock.pendingTimers, 0, 'nothing scheduled')
  t.equal(await metricValue(metrics, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'terminal' }), 1)
  c.enqueue('k')
  await until(() => calls === 2, clock, 'a new event reconciles again')
  ac.abort()
  await running
})

t.test('requeueAfter reconciles again after the delay', async (t) => {
  const clock = new FakeClock()
  const metrics = new RuntimeMetrics()
  const at: number[] = []
  const t0 = clock.now()
  const c = new Controller({
    name: 'requeue',
    clock,
    metrics,
    reconciler: () => {
      at.push(clock.now() - t0)
      return at.length < 3 ? { requeueAfter: 1000 } : undefined
    },
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  c.enqueue('k')
  await until(() => at.length === 1, clock, 'first')
  await clock.settle()
  clock.advance(999)
  await clock.settle()
  t.equal(at.length, 1)
  clock.advance(1)
  await until(() => at.length === 2, clock, 'second')
  await clock.settle()
  clock.advance(1000)
  await until(() => at.length === 3, clock, 'third')
  t.same(at, [0, 1000, 2000])
  t.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'requeue', result: 'requeue_after' }), 2)
  ac.abort()
  await running
})

t.test('no two concurrent reconciles of one key under concurrency 8', async (t) => {
  const metrics = new RuntimeMetrics()
  const active = new Set<string>()
  let overlaps = 0
  let maxParallel = 0
  let calls = 0
  const c = new Controller({
    name: 'conc',
    maxConcurrentReconciles: 8,
    metrics,
    reconciler: async (req) => {
      const key = `${req.namespace}/${req.name}`
      if (active.has(key)) overlaps++
      active.add(key)
      maxParallel = Math.max(maxParallel, active.size)
      calls++
      await new Promise((r) => setTimeout(r, 1))
      active.delete(key)
    },
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  const keys = Array.from({ length: 12 }, (_, i) => `ns/o${i}`)
  for (let round = 0; round < 200; round++) {
    for (const k of keys) c.enqueue(k)
    await new Promise((r) => setImmediate(r))
  }
  while (c.queue.len() > 0 || c.queue.processingCount() > 0) await new Promise((r) => setTimeout(r, 5))
  t.equal(overlaps, 0, 'never the same key twice at once')
  t.equal(maxParallel, 8, 'all 8 workers were used')
  t.ok(calls < 200 * 12, `adds coalesced (${calls} reconciles for ${200 * 12} adds)`)
  ac.abort()
  await running
})

t.test('per-reconcile timeout aborts the signal and retries', async (t) => {
  const clock = new FakeClock()
  let calls = 0
  let sawAbort: unknown
  const c = new Controller({
    name: 'timeout',
    clock,
    reconcileTimeoutMs: 100,
    reconciler: (_req, ctx) =>
      new Promise<void>((resolve) => {
        calls++
        if (calls > 1) {
          resolve()
          return
        }
        ctx.signal.addEventListener('abort', () => {
          sawAbort = ctx.signal.reason
          resolve()
        })
      }),
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  c.enqueue('k')
  await until(() => calls === 1, clock, 'first')
  clock.advance(100)
  await until(() => c.queue.waitingCount() === 1, clock, 'retry scheduled')
  t.match(sawAbort, { code: 'RT_RECONCILE_TIMEOUT' })
  clock.advance(5)
  await until(() => calls === 2, clock, 'retried')
  ac.abort()
  await running
})

t.test('shutdown waits for the in-flight reconcile and aborts its signal', async (t) => {
  let finish!: () => void
  let aborted = false
  let started = false
  const c = new Controller({
    name: 'graceful',
    reconciler: (_r, ctx) =>
      new Promise<void>((resolve) => {
        started = true
        ctx.signal.addEventListener('abort', () => {
          aborted = true
        })
        finish = resolve
      }),
  })
  const ac = new AbortController()
  let stopped = false
  const running = c.start(ac.signal).then(() => {
    stopped = true
  })
  c.enqueue('k')
  while (!started) await new Promise((r) => setImmediate(r))
  ac.abort()
  await new Promise((r) => setTimeout(r, 20))
  t.ok(aborted, 'reconcile told to hurry')
  t.notOk(stopped, 'start() waits for it')
  finish()
  await running
  t.ok(stopped)
})

t.test('options are validated', async (t) => {
  t.throws(() => new Controller({ name: 'x', reconciler: () => undefined, maxConcurrentReconciles: 0 }), { code: 'RT_INVALID_OPTION' })
})

t.test('logs are pino JSON with controller, namespace, name, reconcileID', async (t) => {
  const { pino } = await import('pino')
  const lines: Array<Record<string, unknown>> = []
  const logger = pino(
    { level: 'info' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>)
      },
    },
  )
  const clock = new FakeClock()
  let calls = 0
  const c = new Controller({
    name: 'logging',
    clock,
    logger,
    reconciler: (_req, ctx) => {
      calls++
      ctx.log.info('inside')
      throw new Error('boom')
    },
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  c.enqueue({ namespace: 'ns1', name: 'obj1' })
  await until(() => calls === 1 && lines.some((l) => l.msg === 'reconcile failed; retrying with backoff'), clock, 'error logged')
  const inside = lines.find((l) => l.msg === 'inside')
  const failed = lines.find((l) => l.msg === 'reconcile failed; retrying with backoff')
  t.match(inside, { controller: 'logging', namespace: 'ns1', name: 'obj1', reconcileID: String })
  t.match(failed, { controller: 'logging', namespace: 'ns1', name: 'obj1', level: 50, err: { message: 'boom' }, attempt: 1 })
  t.equal(inside?.reconcileID, failed?.reconcileID, 'one reconcileID per attempt')
  ac.abort()
  await running
})
