// Manager + builder + controller against the real embedded API server.
import t from 'tap'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { Manager } from '../../../src/runtime/manager/manager.ts'
import { silentLogger } from '../../../src/runtime/log.ts'
import { RuntimeMetrics } from '../../../src/runtime/metrics.ts'
import { controllerReference } from '../../../src/runtime/owner-refs.ts'
import { generationChanged } from '../../../src/runtime/controller/predicates.ts'
import { requestKey } from '../../../src/runtime/controller/reconcile.ts'
import type { KObject } from '../../../src/runtime/client/objects.ts'
import { eventually } from './fault-proxy.ts'
import { FakeClock } from '../../../src/runtime/clock.ts'
import { GIZMO, WIDGET, gizmoCrd, widgetCrd, type Widget } from './widget-crd.ts'

const CM = { apiVersion: 'v1', kind: 'ConfigMap' }
const SECRET = { apiVersion: 'v1', kind: 'Secret' }
const env = await startTestEnv({ crds: [widgetCrd, gizmoCrd] })
t.teardown(() => env.stop())
const c = env.client
for (const ns of ['own', 'co', 'conc', 'met', 'bo']) await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })

function newManager(extra: Partial<ConstructorParameters<typeof Manager>[0]> = {}): Manager {
  return new Manager({
    kubeConfig: env.kubeConfig,
    logger: silentLogger(),
    metrics: new RuntimeMetrics(),
    gracefulShutdownTimeoutMs: 5000,
    ...extra,
  })
}

t.test('owns and watches: an owned object change reconciles its owner', async (t) => {
  const mgr = newManager()
  const calls = new Map<string, number>()
  mgr
    .controller('owner-test')
    .for<Widget>(WIDGET)
    .owns(CM)
    .watches<KObject>(SECRET, (s) =>
      s.metadata?.labels?.widget ? [{ namespace: s.metadata.namespace, name: s.metadata.labels.widget }] : [],
    )
    .complete(async (req) => {
      calls.set(requestKey(req), (calls.get(requestKey(req)) ?? 0) + 1)
      const w = await mgr.client.get<Widget>(WIDGET, req.name, req.namespace).catch(() => undefined)
      if (w === undefined) return
      // Create the child on first sight; repair its data when it drifts.
      const child = {
        ...CM,
        metadata: { name: `${req.name}-child`, namespace: req.namespace, ownerReferences: [controllerReference(w)] },
        data: { size: String(w.spec.size) },
      }
      const existing = await mgr.client.get(CM, child.metadata.name, req.namespace).catch(() => undefined)
      if (existing === undefined) await mgr.client.create(child)
      else if ((existing.data as Record<string, string>).size !== String(w.spec.size))
        await mgr.client.replace({ ...existing, data: child.data })
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await c.create({ ...WIDGET, metadata: { name: 'w1', namespace: 'own' }, spec: { size: 2 } })
  await eventually(async () => (await c.get(CM, 'w1-child', 'own').catch(() => undefined)) !== undefined, 'child created')
  await eventually(() => (calls.get('own/w1') ?? 0) >= 2, 'child creation event reached the owner')
  const before = calls.get('own/w1') ?? 0
  await c.patch(CM, 'w1-child', 'own', { data: { size: 'tampered' } }, 'application/merge-patch+json')
  await eventually(() => (calls.get('own/w1') ?? 0) > before, 'owned change enqueued the owner')
  await eventually(async () => ((await c.get(CM, 'w1-child', 'own')).data as { size: string }).size === '2', 'owner repaired the child')
  t.equal(calls.get('own/w1-child'), undefined, 'the child itself is never a request')
  const beforeSecret = calls.get('own/w1') ?? 0
  await c.create({ ...SECRET, metadata: { name: 's', namespace: 'own', labels: { widget: 'w1' } } })
  await eventually(() => (calls.get('own/w1') ?? 0) > beforeSecret, 'watches(kind, map) enqueued the mapped request')
  t.pass('owner reconciled for owned and mapped events')
})

t.test('1,000 rapid updates coalesce into few reconciles, and the last one sees the final state', async (t) => {
  const mgr = newManager()
  let reconciles = 0
  let lastSeen = -1
  mgr
    .controller('coalesce')
    .for<Widget>(WIDGET, { predicates: [generationChanged] })
    .complete(async (req) => {
      if (req.namespace !== 'co') return
      reconciles++
      const w = await mgr.client.get<Widget>(WIDGET, req.name, req.namespace)
      lastSeen = w.spec.size
      await new Promise((r) => setTimeout(r, 200)) // a slow reconcile: updates pile up behind it
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await c.create({ ...WIDGET, metadata: { name: 'busy', namespace: 'co' }, spec: { size: 0 } })
  await eventually(() => reconciles >= 1, 'first reconcile')
  const updates = 1000
  let next = 1
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next <= updates) {
        const n = next++
        await c.patch(WIDGET, 'busy', 'co', { spec: { size: n } }, 'application/merge-patch+json')
      }
    }),
  )
  const final = (await c.get<Widget>(WIDGET, 'busy', 'co')).spec.size
  await eventually(() => lastSeen === final, 'a reconcile saw the final state')
  t.ok(reconciles < updates / 5, `${updates} updates → ${reconciles} reconciles`)
})

t.test('no two concurrent reconciles of one key under concurrency 8', async (t) => {
  const mgr = newManager()
  const active = new Set<string>()
  let overlaps = 0
  let maxParallel = 0
  let total = 0
  mgr
    .controller('concurrency')
    .for<Widget>(WIDGET)
    .withOptions({ maxConcurrentReconciles: 8 })
    .complete(async (req) => {
      if (req.namespace !== 'conc') return
      const key = requestKey(req)
      if (active.has(key)) overlaps++
      active.add(key)
      maxParallel = Math.max(maxParallel, active.size)
      total++
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20))
      active.delete(key)
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  const names = Array.from({ length: 16 }, (_, i) => `k${i}`)
  for (const name of names) await c.create({ ...WIDGET, metadata: { name, namespace: 'conc' }, spec: { size: 0 } })
  await Promise.all(
    names.map(async (name) => {
      for (let i = 1; i <= 25; i++) await c.patch(WIDGET, name, 'conc', { spec: { size: i } }, 'application/merge-patch+json')
    }),
  )
  await eventually(() => active.size === 0 && total > 16, 'quiet')
  t.equal(overlaps, 0, 'the same key was never reconciled twice at once')
  t.ok(maxParallel > 1, `workers ran in parallel (max ${maxParallel} of 8)`)
  t.ok(maxParallel <= 8, 'never more than 8 at once')
})

t.test('/metrics exposes controller-runtime names with values that move; probes follow sync', async (t) => {
  const mgr = newManager({
    probes: { port: 0 },
    leaderElection: { leaseName: 'metrics-test', namespace: 'met', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
  })
  let fail = true
  mgr
    .controller('metrics-test')
    .for<Widget>(WIDGET)
    .complete(async (req) => {
      if (req.namespace !== 'met') return
      if (req.name === 'flaky' && fail) {
        fail = false
        throw new Error('transient')
      }
      await new Promise((r) => setTimeout(r, 5))
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await eventually(() => mgr.probeAddress !== undefined, 'probe server up')
  const base = `http://127.0.0.1:${mgr.probeAddress?.port}`
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 'ready after caches synced')
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  const scrape = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(`${base}/metrics`)).text()
    const m = new Map<string, number>()
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line === '') continue
      const i = line.lastIndexOf(' ')
      m.set(line.slice(0, i), Number(line.slice(i + 1)))
    }
    return m
  }
  const get = (m: Map<string, number>, prefix: string): number => {
    let sum = 0
    for (const [k, v] of m) if (k.startsWith(prefix)) sum += v
    return sum
  }
  await eventually(() => mgr.elector?.isLeader === true, 'leading')
  const before = await scrape()
  for (const name of [
    'controller_runtime_reconcile_total',
    'controller_runtime_reconcile_errors_total',
    'controller_runtime_reconcile_time_seconds_bucket',
    'controller_runtime_active_workers',
    'workqueue_depth',
    'workqueue_adds_total',
    'workqueue_queue_duration_seconds_bucket',
    'workqueue_work_duration_seconds_bucket',
    'workqueue_retries_total',
    'leader_election_master_status',
  ]) {
    t.ok(
      [...before.keys()].some((k) => k.startsWith(name)),
      `exposes ${name}`,
    )
  }
  t.equal(get(before, 'leader_election_master_status{name="metrics-test"}'), 1, 'leader gauge is 1')
  for (let i = 0; i < 5; i++) await c.create({ ...WIDGET, metadata: { name: `m${i}`, namespace: 'met' }, spec: { size: i } })
  await c.create({ ...WIDGET, metadata: { name: 'flaky', namespace: 'met' }, spec: { size: 1 } })
  await eventually(
    async () =>
      get(await scrape(), 'controller_runtime_reconcile_total{controller="metrics-test",result="success"}') >=
      get(before, 'controller_runtime_reconcile_total{controller="metrics-test",result="success"}') + 6,
    'successes counted',
  )
  const after = await scrape()
  const moved = (prefix: string): boolean => get(after, prefix) > get(before, prefix)
  t.ok(moved('controller_runtime_reconcile_total{controller="metrics-test",result="success"}'), 'reconcile_total{success} moved')
  t.ok(moved('controller_runtime_reconcile_total{controller="metrics-test",result="error"}'), 'reconcile_total{error} moved')
  t.ok(moved('controller_runtime_reconcile_errors_total{controller="metrics-test"}'), 'errors_total moved')
  t.ok(moved('controller_runtime_reconcile_time_seconds_count{controller="metrics-test"}'), 'reconcile_time moved')
  t.ok(moved('workqueue_adds_total{name="metrics-test"'), 'workqueue_adds_total moved')
  t.ok(moved('workqueue_queue_duration_seconds_count{name="metrics-test"'), 'queue_duration moved')
  t.ok(moved('workqueue_work_duration_seconds_count{name="metrics-test"'), 'work_duration moved')
  t.ok(moved('workqueue_retries_total{name="metrics-test"'), 'retries_total moved')
  mgr.stop()
  await run
  t.equal(
    get(
      await mgr.metrics.registry
        .getMetricsAsJSON()
        .then(
          (j) =>
            new Map(
              j
                .filter((x) => x.name === 'leader_election_master_status')
                .flatMap((x) =>
                  x.values.map((v) => [`leader_election_master_status{name="${v.labels.name}"}`, v.value] as [string, number]),
                ),
            ),
        ),
      'leader_election_master_status',
    ),
    0,
    'leader gauge back to 0 after stop',
  )
  const lease = await c.get<KObject & { spec: { holderIdentity?: string } }>(
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
    'metrics-test',
    'met',
  )
  t.equal(lease.spec.holderIdentity ?? '', '', 'lease released on shutdown')
})

t.test('shutdown abandons a runnable that ignores its signal after the graceful deadline', async (t) => {
  const mgr = newManager({ gracefulShutdownTimeoutMs: 300 })
  let started = false
  mgr.add({
    name: 'stubborn',
    needLeaderElection: false,
    start: () => {
      started = true
      return new Promise<void>(() => {})
    },
  })
  const run = mgr.start()
  await eventually(() => started, 'runnable started')
  const t0 = Date.now()
  mgr.stop()
  await run
  const took = Date.now() - t0
  t.ok(took >= 290 && took < 5000, `stopped after the ${took} ms deadline, not never`)
})

t.test('owns: a cluster-scoped owner is enqueued without a namespace, from the very first events', async (t) => {
  const gizmo = await c.create<KObject>({ ...GIZMO, metadata: { name: 'g1' } })
  await c.create({ ...CM, metadata: { name: 'owned-early', namespace: 'own', ownerReferences: [controllerReference(gizmo)] } })
  const mgr = newManager()
  const requests: string[] = []
  mgr
    .controller('cluster-owner')
    .for(GIZMO)
    .owns(CM)
    .complete((req) => {
      requests.push(JSON.stringify(req))
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await eventually(() => requests.length > 0, 'reconciled')
  await c.create({ ...CM, metadata: { name: 'owned-late', namespace: 'co', ownerReferences: [controllerReference(gizmo)] } })
  await eventually(() => requests.length > 1, 'owned change reconciled')
  t.same([...new Set(requests)], [JSON.stringify({ name: 'g1' })], 'only the cluster-scoped key, never namespace/name')
})

t.test('a throwing reconciler backs off: retries observed on the fake queue clock, real API events', async (t) => {
  const clock = new FakeClock()
  const mgr = newManager({ clock })
  const attemptsAt: number[] = []
  const start = clock.now()
  const ctl = mgr
    .controller('backoff-it')
    .for<Widget>(WIDGET)
    .complete((req) => {
      if (req.namespace !== 'bo') return
      attemptsAt.push(clock.now() - start)
      if (attemptsAt.length < 4) throw new Error(`attempt ${attemptsAt.length} fails`)
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await c.create({ ...WIDGET, metadata: { name: 'thrower', namespace: 'bo' }, spec: { size: 1 } })
  await eventually(() => attemptsAt.length === 1, 'first attempt from the watch event')
  for (const [delay, n] of [
    [5, 2],
    [10, 3],
    [20, 4],
  ] as const) {
    await eventually(() => ctl.queue.waitingCount() === 1, 'retry scheduled')
    clock.advance(delay - 1)
    await new Promise((r) => setTimeout(r, 50))
    t.equal(attemptsAt.length, n - 1, `no retry before ${delay} ms of queue time`)
    clock.advance(1)
    await eventually(() => attemptsAt.length === n, `attempt ${n}`)
  }
  t.same(attemptsAt, [0, 5, 15, 35], 'per-key exponential backoff 5, 10, 20 ms')
  await eventually(() => ctl.queue.processingCount() === 0, 'idle')
  t.equal(ctl.queue.numRequeues('bo/thrower'), 0, 'success reset the backoff')
  const metrics = await mgr.metrics.registry.getSingleMetric('controller_runtime_reconcile_errors_total')?.get()
  t.equal(metrics?.values.find((v) => v.labels.controller === 'backoff-it')?.value, 3, 'three errors counted')
})

t.test('a kind can get its own cache options (metadata-only) before controllers use it', async (t) => {
  const { metadataOnly } = await import('../../../src/runtime/reflector/reflector.ts')
  const mgr = newManager()
  const store = mgr.reflectorFor<Widget>(WIDGET, { transform: metadataOnly }).store
  const seen: string[] = []
  mgr
    .controller('meta-only')
    .for<Widget>(WIDGET)
    .complete((req) => {
      if (req.namespace === 'own') seen.push(req.name)
    })
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await eventually(() => seen.includes('w1'), 'reconciled from the metadata-only cache')
  const cached = store.getByName('w1', 'own')
  t.equal(cached?.metadata?.name, 'w1')
  t.equal(cached?.spec, undefined, 'spec not cached')
  t.equal(mgr.reflectorFor(WIDGET).store, store, 'controllers share that cache')
})
