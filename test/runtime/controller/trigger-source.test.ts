// External trigger sources (kube-rs `Controller::reconcile_on`, controller-runtime
// `builder.WatchesRawSource` / `source.Channel`): requests from outside the watches reach the
// controller's queue, deduplicated, stop with it, and a failing source is never fatal.
import t from 'tap'
import { pino } from 'pino'
import { Controller } from '../../../src/runtime/controller/controller.ts'
import { requestKey, type Request } from '../../../src/runtime/controller/reconcile.ts'
import { TriggerChannel, type TriggerItem } from '../../../src/runtime/controller/trigger-source.ts'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { silentLogger } from '../../../src/runtime/log.ts'
import { Manager } from '../../../src/runtime/manager/manager.ts'
import { RuntimeMetrics } from '../../../src/runtime/metrics.ts'
import { WIDGET, widgetCrd } from '../integration/widget-crd.ts'

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function gate(): { wait: () => Promise<void>; open: () => void } {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { wait: () => opened, open }
}

t.test('TriggerChannel coalesces a key sent again before it was taken', async (t) => {
  const ch = new TriggerChannel()
  ch.send({ namespace: 'ns', name: 'a' })
  ch.send('ns/a')
  ch.send({ name: 'cluster-scoped' })
  ch.send({ namespace: 'ns', name: 'a' })
  t.equal(ch.pending, 2, 'two distinct keys buffered')
  ch.close()
  ch.send('ns/after-close')
  const got: Request[] = []
  for await (const req of ch) got.push(req)
  t.same(got, [{ namespace: 'ns', name: 'a' }, { name: 'cluster-scoped' }], 'each key once, in first-send order; sends after close dropped')
  t.throws(() => ch[Symbol.asyncIterator](), /one consumer/, 'a second consumer is refused')
})

t.test('triggers are enqueued through the work queue: duplicates while waiting reconcile once', async (t) => {
  const ch = new TriggerChannel()
  const synced = gate()
  const calls: string[] = []
  const c = new Controller({
    name: 'dedup',
    reconciler: (req) => {
      calls.push(requestKey(req))
    },
    waitFor: [() => synced.wait()],
    triggers: [ch],
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  // Before the caches sync (workers not started) the keys pile up in the queue, deduplicated.
  for (let i = 0; i < 50; i++) ch.send({ namespace: 'ns', name: 'dup' })
  ch.send({ namespace: 'ns', name: 'other' })
  await until(() => c.queue.len() === 2 && ch.pending === 0, 'both keys queued')
  synced.open()
  await until(() => calls.length === 2, 'two reconciles')
  t.same(calls.sort(), ['ns/dup', 'ns/other'], 'fifty sends of one key are one reconcile')
  ch.send('ns/dup')
  await until(() => calls.length === 3, 'a later send reconciles again')
  ac.abort()
  await running
})

t.test('a source stops with the controller, even one blocked in next()', async (t) => {
  let returned = false
  let nextCalls = 0
  const stuck: AsyncIterable<TriggerItem> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        nextCalls++
        return nextCalls === 1 ? Promise.resolve({ done: false, value: 'ns/once' }) : new Promise<never>(() => {})
      },
      return: async () => {
        returned = true
        return { done: true, value: undefined }
      },
    }),
  }
  const seenSignal: AbortSignal[] = []
  const generated = (signal: AbortSignal): AsyncIterable<TriggerItem> => {
    seenSignal.push(signal)
    return (async function* () {
      while (!signal.aborted) {
        yield 'ns/gen'
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
  }
  const calls: string[] = []
  const c = new Controller({
    name: 'stops',
    reconciler: (req) => {
      calls.push(requestKey(req))
    },
    triggers: [stuck, generated],
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  await until(() => calls.includes('ns/once') && calls.includes('ns/gen'), 'both sources delivered')
  ac.abort()
  await running
  t.ok(seenSignal[0]?.aborted, 'a function source got a signal that aborts at stop')
  await until(() => returned, 'the blocked iterator was returned')
  const count = calls.length
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(calls.length, count, 'nothing is reconciled after stop')
})

t.test('a throwing source does not crash the controller; the others go on', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino(
    { level: 'info' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>)
      },
    },
  )
  const ch = new TriggerChannel()
  const throwsAtOnce = (): AsyncIterable<TriggerItem> => {
    throw new Error('cannot open the source')
  }
  const rejectsLater = (async function* () {
    yield 'ns/before-failure'
    throw new Error('stream broke')
  })()
  const malformed = (async function* () {
    yield { namespace: 'ns' } as unknown as TriggerItem
  })()
  const calls: string[] = []
  const c = new Controller({
    name: 'robust',
    reconciler: (req) => {
      calls.push(requestKey(req))
    },
    logger,
    triggers: [throwsAtOnce, rejectsLater, malformed, ch],
  })
  const ac = new AbortController()
  const running = c.start(ac.signal)
  await until(
    () =>
      lines.filter((l) => l.msg === 'trigger source failed; it is no longer consumed (the watches and other sources go on)').length === 3,
    'three failures logged',
  )
  ch.send('ns/still-working')
  await until(() => calls.includes('ns/still-working'), 'the healthy source still reconciles')
  t.ok(calls.includes('ns/before-failure'), 'items before a failure were enqueued')
  t.same(
    lines
      .filter((l) => l.source !== undefined)
      .map((l) => l.source)
      .sort(),
    [0, 1, 2],
    'each failure names its source',
  )
  t.match(JSON.stringify(lines), /want a request \{ namespace\?, name \}/, 'a malformed item is named')
  ac.abort()
  await running
})

t.test('builder.reconcileOn: a channel created before the controller feeds it (embedded API server)', async (t) => {
  const env = await startTestEnv({ crds: [widgetCrd] })
  t.teardown(() => env.stop())
  const mgr = new Manager({
    kubeConfig: env.kubeConfig,
    logger: silentLogger(),
    metrics: new RuntimeMetrics(),
    gracefulShutdownTimeoutMs: 5000,
  })
  const agentEvents = new TriggerChannel()
  const calls: string[] = []
  mgr
    .controller('external')
    .for(WIDGET)
    .reconcileOn(agentEvents)
    .complete((req) => {
      calls.push(requestKey(req))
    })
  t.throws(
    () => mgr.controller('bad').reconcileOn({} as never),
    /reconcileOn\(\) takes an async iterable/,
    'a non-iterable is refused when building',
  )
  agentEvents.send({ namespace: 'default', name: 'from-outside' })
  const run = mgr.start()
  await until(() => calls.includes('default/from-outside'), 'the external request reconciled')
  t.equal(calls.filter((k) => k === 'default/from-outside').length, 1, 'once')
  mgr.stop()
  await run
  agentEvents.send('default/after-stop')
  t.equal(agentEvents.pending, 0, 'a stopped controller ends its channel: later sends are dropped')
})
