// The watcher and reflector against the real embedded API server, with network faults injected
// by a TCP relay.
import t from 'tap'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { Client } from '../../../src/runtime/client/client.ts'
import { watcher, type WatcherEvent } from '../../../src/runtime/watcher/watcher.ts'
import { Reflector } from '../../../src/runtime/reflector/reflector.ts'
import type { KObject } from '../../../src/runtime/client/objects.ts'
import { FaultProxy, eventually } from './fault-proxy.ts'

const CM = { apiVersion: 'v1', kind: 'ConfigMap' }
const fastBackoff = { initialMs: 50, maxMs: 200 }

t.test('paginated list then watch from its resourceVersion', async (t) => {
  const env = await startTestEnv()
  t.teardown(() => env.stop())
  const c = env.client
  await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w1' } })
  for (let i = 0; i < 25; i++) await c.create({ ...CM, metadata: { name: `cm${i}`, namespace: 'w1' }, data: { i: String(i) } })
  const firstPage = await c.list(CM, { namespace: 'w1', limit: 10 })
  t.equal(firstPage.items.length, 10, 'the server paginates')
  t.ok(firstPage.metadata?.continue, 'with a continue token')
  const ac = new AbortController()
  const events: WatcherEvent[] = []
  const gen = watcher(c, CM, ac.signal, { namespace: 'w1', pageSize: 10, backoff: fastBackoff })
  const consume = (async () => {
    for await (const ev of gen) events.push(ev)
  })()
  t.teardown(async () => {
    ac.abort()
    await consume
  })
  await eventually(() => events.some((e) => e.type === 'initDone'), 'initial list')
  t.equal(events[0]?.type, 'init')
  t.equal(events.filter((e) => e.type === 'initApply').length, 25, 'all 25 across 3 pages')
  await c.create({ ...CM, metadata: { name: 'late', namespace: 'w1' } })
  await c.patch(CM, 'cm3', 'w1', { data: { i: 'x' } }, 'application/merge-patch+json')
  await c.delete(CM, 'cm4', 'w1')
  await eventually(() => events.filter((e) => e.type === 'apply' || e.type === 'delete').length >= 3, 'watch events')
  const tail = events
    .filter((e) => e.type === 'apply' || e.type === 'delete')
    .map((e) => `${e.type}:${(e as { object: KObject }).object.metadata?.name}`)
  t.same(tail, ['apply:late', 'apply:cm3', 'delete:cm4'], 'in order')
  t.equal((events.find((e) => e.type === 'apply') as { object: KObject }).object.kind, 'ConfigMap')
  ac.abort()
  await consume
})

t.test('a watch cut mid-stream loses no change', async (t) => {
  const env = await startTestEnv()
  t.teardown(() => env.stop())
  const proxy = await FaultProxy.start(env.server.port)
  t.teardown(() => proxy.close())
  const direct = env.client
  const viaProxy = new Client(proxy.kubeConfig(env.server))
  t.teardown(() => viaProxy.close())
  await direct.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cut' } })
  await direct.create({ ...CM, metadata: { name: 'counter', namespace: 'cut' }, data: { n: '0' } })
  const seen: string[] = []
  const errors: string[] = []
  const ac = new AbortController()
  const gen = watcher(viaProxy, CM, ac.signal, {
    namespace: 'cut',
    backoff: fastBackoff,
    onError: (e, action) => errors.push(`${action}:${(e as Error).message}`),
  })
  const consume = (async () => {
    for await (const ev of gen) if (ev.type === 'apply' || ev.type === 'initApply') seen.push((ev.object.data as { n: string }).n)
  })()
  t.teardown(async () => {
    ac.abort()
    await consume
  })
  await eventually(() => seen.includes('0'), 'initial object')
  const write = (n: number) => direct.patch(CM, 'counter', 'cut', { data: { n: String(n) } }, 'application/merge-patch+json')
  for (let n = 1; n <= 10; n++) await write(n)
  await eventually(() => seen.includes('10'), 'first ten updates')
  const connectionsBefore = proxy.connections
  proxy.cut()
  for (let n = 11; n <= 30; n++) await write(n) // happen while the watch is down
  await eventually(() => seen.includes('30'), 'updates made while disconnected')
  t.ok(proxy.connections > connectionsBefore, 'the watcher reconnected')
  t.ok(
    errors.some((e) => e.startsWith('rewatch:')),
    'the cut was noticed as an error, not a clean end',
  )
  t.same(
    seen,
    Array.from({ length: 31 }, (_, i) => String(i)),
    'every value seen exactly once, in order: resumed from its resourceVersion, no relist',
  )
  ac.abort()
  await consume
})

t.test('a silent (stalled) watch is restarted after the inactivity timeout', async (t) => {
  // Bookmarks every 100 ms keep a healthy stream talking, so only the stall can make it silent.
  const env = await startTestEnv({ server: { watchBookmarkIntervalMs: 100 } })
  t.teardown(() => env.stop())
  const proxy = await FaultProxy.start(env.server.port)
  t.teardown(() => proxy.close())
  const viaProxy = new Client(proxy.kubeConfig(env.server))
  t.teardown(() => viaProxy.close())
  await env.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stall' } })
  const names: string[] = []
  const errors: string[] = []
  let synced = false
  const ac = new AbortController()
  const gen = watcher(viaProxy, CM, ac.signal, {
    namespace: 'stall',
    backoff: fastBackoff,
    inactivityTimeoutMs: 1500,
    onError: (e) => errors.push((e as Error).message),
  })
  const consume = (async () => {
    for await (const ev of gen) {
      if (ev.type === 'initDone') synced = true
      if (ev.type === 'apply') names.push(ev.object.metadata?.name ?? '')
    }
  })()
  t.teardown(async () => {
    ac.abort()
    await consume
  })
  await eventually(() => synced, 'listed', 30_000)
  // An event through the watch proves the stream (not the list) is what gets stalled.
  await env.client.create({ ...CM, metadata: { name: 'before-stall', namespace: 'stall' } })
  await eventually(() => names.includes('before-stall'), 'watch established', 30_000)
  await new Promise((r) => setTimeout(r, 300))
  t.same(errors, [], 'a stream kept alive by bookmarks is not restarted')
  proxy.stall()
  await env.client.create({ ...CM, metadata: { name: 'during-stall', namespace: 'stall' } })
  await eventually(() => names.includes('during-stall'), 'change made during the stall arrives after the restart', 30_000)
  t.ok(
    errors.some((e) => /silent/.test(e)),
    `restart was caused by inactivity (${errors.join('; ')})`,
  )
})

t.test('a forced 410 relists and the cache converges, deletions included', async (t) => {
  const env = await startTestEnv({ server: { watchHistorySize: 5 } })
  t.teardown(() => env.stop())
  const proxy = await FaultProxy.start(env.server.port)
  t.teardown(() => proxy.close())
  const viaProxy = new Client(proxy.kubeConfig(env.server))
  t.teardown(() => viaProxy.close())
  const c = env.client
  await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } })
  for (let i = 0; i < 5; i++) await c.create({ ...CM, metadata: { name: `keep${i}`, namespace: 'gone' } })
  for (let i = 0; i < 3; i++) await c.create({ ...CM, metadata: { name: `drop${i}`, namespace: 'gone' } })
  const actions: string[] = []
  const deleted: string[] = []
  const r = new Reflector(viaProxy, CM, {
    namespace: 'gone',
    backoff: fastBackoff,
    onError: (e, action) => actions.push(`${action}:${(e as { statusCode?: number }).statusCode ?? ''}`),
  })
  r.addEventHandler({ onDelete: (o) => deleted.push(o.metadata?.name ?? '') })
  const ac = new AbortController()
  const running = r.run(ac.signal)
  t.teardown(async () => {
    ac.abort()
    await running
  })
  await r.waitForSync()
  t.equal(r.store.size, 8)
  proxy.refuse()
  proxy.cut()
  // More changes than the server keeps history for, while the watcher cannot reach it.
  for (let i = 0; i < 3; i++) await c.delete(CM, `drop${i}`, 'gone')
  for (let i = 0; i < 10; i++) await c.create({ ...CM, metadata: { name: `new${i}`, namespace: 'gone' } })
  for (let i = 0; i < 5; i++) await c.patch(CM, `keep${i}`, 'gone', { data: { v: 'changed' } }, 'application/merge-patch+json')
  proxy.allow()
  const want = (await c.list(CM, { namespace: 'gone' })).items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort()
  await eventually(
    () =>
      JSON.stringify(
        r.store
          .list()
          .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
          .sort(),
      ) === JSON.stringify(want),
    'cache equals the server',
  )
  t.ok(actions.includes('relist:410'), `a 410 triggered a relist (${actions.join(', ')})`)
  t.same(deleted.sort(), ['drop0', 'drop1', 'drop2'], 'deletions missed during the gap are reported by the relist diff')
  t.equal((r.store.getByName('keep3', 'gone')?.data as { v: string } | undefined)?.v, 'changed')
  ac.abort()
  await running
})

t.test('bookmarks keep a quiet watch resumable: no relist after a cut, although its kind moved on', async (t) => {
  const env = await startTestEnv({ server: { watchHistorySize: 5, watchBookmarkIntervalMs: 100 } })
  t.teardown(() => env.stop())
  const proxy = await FaultProxy.start(env.server.port)
  t.teardown(() => proxy.close())
  const viaProxy = new Client(proxy.kubeConfig(env.server))
  t.teardown(() => viaProxy.close())
  const c = env.client
  for (const ns of ['quiet', 'busy']) await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  await c.create({ ...CM, metadata: { name: 'one', namespace: 'quiet' } })
  const actions: string[] = []
  const r = new Reflector(viaProxy, CM, {
    namespace: 'quiet',
    backoff: fastBackoff,
    onError: (e, action) => actions.push(`${action}:${(e as { statusCode?: number }).statusCode ?? ''}`),
  })
  const ac = new AbortController()
  const running = r.run(ac.signal)
  t.teardown(async () => {
    ac.abort()
    await running
  })
  await r.waitForSync()
  // ConfigMaps elsewhere push this kind's history far past the quiet watch's last event.
  for (let i = 0; i < 20; i++) await c.create({ ...CM, metadata: { name: `noise${i}`, namespace: 'busy' } })
  await new Promise((res) => setTimeout(res, 400)) // several bookmark intervals
  const connections = proxy.connections
  proxy.cut()
  await c.create({ ...CM, metadata: { name: 'two', namespace: 'quiet' } })
  await eventually(() => r.store.getByName('two', 'quiet') !== undefined, 'change after the cut arrives')
  t.ok(proxy.connections > connections, 'reconnected')
  t.notOk(
    actions.some((a) => a.startsWith('relist')),
    `resumed from the bookmark without a 410 relist (${actions.join(', ')})`,
  )
  ac.abort()
  await running
})

t.test('periodic resync re-announces cached objects as updates', async (t) => {
  const env = await startTestEnv()
  t.teardown(() => env.stop())
  await env.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rs' } })
  await env.client.create({ ...CM, metadata: { name: 'a', namespace: 'rs' } })
  const r = new Reflector(env.client, CM, { namespace: 'rs', resyncPeriodMs: 100 })
  let sameObjectUpdates = 0
  r.addEventHandler({
    onUpdate: (o, n) => {
      if (o === n) sameObjectUpdates++
    },
  })
  const ac = new AbortController()
  const running = r.run(ac.signal)
  t.teardown(async () => {
    ac.abort()
    await running
  })
  await r.waitForSync()
  t.ok(r.hasSynced())
  await eventually(() => sameObjectUpdates >= 3, 'resyncs')
  ac.abort()
  await running
})
