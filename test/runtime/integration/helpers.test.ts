// Reconciler helpers against the real embedded API server: finalizer, status with conflict
// retry, server-side apply, event correlation, owner references.
import t from 'tap'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { finalizer } from '../../../src/runtime/finalizer.ts'
import { patchStatus, updateStatus } from '../../../src/runtime/status.ts'
import { serverSideApply } from '../../../src/runtime/apply.ts'
import { EventRecorder } from '../../../src/runtime/events/recorder.ts'
import { controllerReference } from '../../../src/runtime/owner-refs.ts'
import { isApiError } from '../../../src/runtime/client/api-error.ts'
import type { KObject } from '../../../src/runtime/client/objects.ts'
import { WIDGET, widgetCrd, type Widget } from './widget-crd.ts'

const env = await startTestEnv({ crds: [widgetCrd] })
t.teardown(() => env.stop())
const c = env.client
await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'h' } })

t.test('finalizer: added before apply, cleanup runs before deletion completes, others kept', async (t) => {
  await c.create({ ...WIDGET, metadata: { name: 'f1', namespace: 'h', finalizers: ['someone.else/keep'] }, spec: { size: 1 } })
  const calls: string[] = []
  const handle = (ev: { type: string }) => {
    calls.push(ev.type)
  }
  let w = await c.get<Widget>(WIDGET, 'f1', 'h')
  await finalizer(c, 'test.example.dev/cleanup', w, handle)
  w = await c.get<Widget>(WIDGET, 'f1', 'h')
  t.same(w.metadata?.finalizers, ['someone.else/keep', 'test.example.dev/cleanup'], 'appended, not replaced')
  t.same(calls, ['apply'])
  await finalizer(c, 'test.example.dev/cleanup', w, handle)
  t.same((await c.get<Widget>(WIDGET, 'f1', 'h')).metadata?.finalizers?.length, 2, 'not added twice')
  await c.delete(WIDGET, 'f1', 'h')
  w = await c.get<Widget>(WIDGET, 'f1', 'h')
  t.ok(w.metadata?.deletionTimestamp, 'marked for deletion, held by finalizers')
  await finalizer(c, 'test.example.dev/cleanup', w, handle)
  t.same(calls, ['apply', 'apply', 'cleanup'])
  w = await c.get<Widget>(WIDGET, 'f1', 'h')
  t.same(w.metadata?.finalizers, ['someone.else/keep'], 'only ours removed')
  // A stale copy (the list changed since it was read) makes the guarded patch fail, not remove the wrong entry.
  const stale = { ...w, metadata: { ...w.metadata, finalizers: ['test.example.dev/cleanup', 'someone.else/keep'] } }
  await t.rejects(finalizer(c, 'test.example.dev/cleanup', stale, handle), 'test op failed on a stale index')
  t.same((await c.get<Widget>(WIDGET, 'f1', 'h')).metadata?.finalizers, ['someone.else/keep'], 'untouched')
  await c.patch(WIDGET, 'f1', 'h', { metadata: { finalizers: null } }, 'application/merge-patch+json')
  t.ok(isApiError(await c.get(WIDGET, 'f1', 'h').catch((e: unknown) => e), 404), 'gone once the last finalizer is removed')
})

t.test('finalizer on an object without any finalizers list', async (t) => {
  await c.create({ ...WIDGET, metadata: { name: 'f2', namespace: 'h' }, spec: { size: 1 } })
  await finalizer(c, 'test.example.dev/cleanup', await c.get<Widget>(WIDGET, 'f2', 'h'), () => undefined)
  t.same((await c.get<Widget>(WIDGET, 'f2', 'h')).metadata?.finalizers, ['test.example.dev/cleanup'])
  await c.delete(WIDGET, 'f2', 'h')
  let cleaned = false
  await finalizer(c, 'test.example.dev/cleanup', await c.get<Widget>(WIDGET, 'f2', 'h'), (ev) => {
    cleaned = ev.type === 'cleanup'
  })
  t.ok(cleaned)
  t.ok(isApiError(await c.get(WIDGET, 'f2', 'h').catch((e: unknown) => e), 404), 'deleted after cleanup')
})

t.test('updateStatus writes status from a fresh read; patchStatus touches only status', async (t) => {
  await c.create({ ...WIDGET, metadata: { name: 's1', namespace: 'h' }, spec: { size: 3 } })
  const out = await updateStatus<Widget>(c, WIDGET, 's1', 'h', (w) => {
    w.status = { ...(w.status ?? {}), seen: w.spec.size }
  })
  t.equal(out.status?.seen, 3)
  const s = await patchStatus<Widget>(c, WIDGET, 's1', 'h', { seen: 4 })
  t.equal(s.status?.seen, 4)
  t.equal(s.spec.size, 3)
  const skipped = await updateStatus<Widget>(c, WIDGET, 's1', 'h', () => false)
  t.equal(skipped.metadata?.resourceVersion, s.metadata?.resourceVersion, 'returning false skips the write')
})

t.test('updateStatus really retries a conflicting write', async (t) => {
  await c.create({ ...WIDGET, metadata: { name: 's2', namespace: 'h' }, spec: { size: 1 } })
  // Force a conflict deterministically: the first attempt writes with a resourceVersion that
  // another writer has already superseded.
  const stale = await c.get<Widget>(WIDGET, 's2', 'h')
  await c.patch(WIDGET, 's2', 'h', { status: { seen: 100 } }, 'application/merge-patch+json', { subresource: 'status' })
  t.ok(
    isApiError(await c.replaceStatus({ ...stale, status: { seen: 1 } }).catch((e: unknown) => e), 409),
    'the server enforces resourceVersion on /status',
  )
  let n = 0
  const res = await updateStatus<Widget>(c, WIDGET, 's2', 'h', (w) => {
    n++
    if (n === 1) w.metadata = { ...w.metadata, resourceVersion: stale.metadata?.resourceVersion }
    w.status = { seen: 7 }
  })
  t.equal(n, 2, 'first attempt conflicted, second succeeded from a fresh read')
  t.equal(res.status?.seen, 7)
})

t.test('server-side apply with a field manager; conflicts unless forced', async (t) => {
  const owner = await c.get<Widget>(WIDGET, 's1', 'h')
  const cm: KObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'applied', namespace: 'h', ownerReferences: [controllerReference(owner)] },
    data: { a: '1' },
  }
  const first = await serverSideApply(c, cm, { fieldManager: 'ctl-a' })
  t.equal((first.data as { a: string }).a, '1')
  t.equal(first.metadata?.ownerReferences?.[0]?.uid, owner.metadata?.uid)
  const again = await serverSideApply(c, cm, { fieldManager: 'ctl-a' })
  t.equal(again.metadata?.resourceVersion, first.metadata?.resourceVersion, 'unchanged apply is a no-op')
  const err = await serverSideApply(c, { ...cm, data: { a: '2' } }, { fieldManager: 'ctl-b', force: false }).catch((e: unknown) => e)
  t.ok(isApiError(err, 409), 'another manager conflicts without force')
  const forced = await serverSideApply(c, { ...cm, data: { a: '2' } }, { fieldManager: 'ctl-b', force: true })
  t.equal((forced.data as { a: string }).a, '2')
  t.throws(() => serverSideApply(c, cm, { fieldManager: '' }), { code: 'RT_INVALID_OPTION' })
})

t.test('event recorder aggregates repeats into one Event with a count', async (t) => {
  const w = await c.get<Widget>(WIDGET, 's1', 'h')
  const rec = new EventRecorder(c, { component: 'widget-controller' })
  for (let i = 0; i < 5; i++) rec.event(w, 'Warning', 'SyncFailed', 'backend unreachable')
  rec.event(w, 'Normal', 'Synced', 'all good')
  await rec.flush()
  const events = (await c.list<KObject>({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'h' })).items.filter(
    (e) => (e.involvedObject as { uid?: string }).uid === w.metadata?.uid,
  )
  t.equal(events.length, 2, 'two distinct Events, not six')
  const failed = events.find((e) => e.reason === 'SyncFailed')
  t.equal(failed?.count, 5)
  t.equal(failed?.type, 'Warning')
  t.equal((failed?.source as { component: string } | undefined)?.component, 'widget-controller')
  t.equal(events.find((e) => e.reason === 'Synced')?.count, 1)
})

t.test('errors carry stable codes: unknown kind, API status', async (t) => {
  const unknown = await c.get({ apiVersion: 'nope.example.dev/v1', kind: 'Nothing' }, 'x', 'h').catch((e: unknown) => e)
  t.match(unknown, { code: 'RT_KIND_NOT_SERVED', message: /apply its CustomResourceDefinition/ })
  const missing = await c.get(WIDGET, 'does-not-exist', 'h').catch((e: unknown) => e)
  t.match(missing, { code: 'RT_API_STATUS', statusCode: 404, reason: 'NotFound' })
})
