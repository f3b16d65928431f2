import t from 'tap'
import { findCondition, isConditionTrue, isConditionTrueFor, removeCondition, setCondition } from '../../src/runtime/conditions.ts'
import { controllerReference, getControllerOf, isOwnedBy, setControllerReference } from '../../src/runtime/owner-refs.ts'
import {
  and,
  annotationsChanged,
  generationChanged,
  labelsChanged,
  matching,
  or,
  resourceVersionChanged,
} from '../../src/runtime/controller/predicates.ts'
import type { KObject } from '../../src/runtime/client/objects.ts'

t.test('conditions: lastTransitionTime moves only when status changes', async (t) => {
  const t1 = new Date('2026-01-01T00:00:00.123Z')
  const t2 = new Date('2026-01-01T00:05:00Z')
  let cs = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', observedGeneration: 1 }, t1)
  t.equal(cs[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'second precision')
  const same = setCondition(cs, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', observedGeneration: 1 }, t2)
  t.equal(same, cs, 'no change returns the same array')
  cs = setCondition(cs, { type: 'Ready', status: 'False', reason: 'Still', message: 'still waiting', observedGeneration: 2 }, t2)
  t.equal(cs[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'reason/message/generation change keeps the time')
  t.equal(cs[0]?.observedGeneration, 2)
  cs = setCondition(cs, { type: 'Ready', status: 'True', reason: 'Up', message: 'ok', observedGeneration: 2 }, t2)
  t.equal(cs[0]?.lastTransitionTime, '2026-01-01T00:05:00Z', 'status change moves it')
  cs = setCondition(cs, { type: 'Synced', status: 'Unknown', reason: 'X', message: '' }, t2)
  t.equal(cs.length, 2, 'one entry per type')
  t.ok(isConditionTrue(cs, 'Ready'))
  t.ok(isConditionTrueFor(cs, 'Ready', 2))
  t.notOk(isConditionTrueFor(cs, 'Ready', 3), 'stale generation is not true-for')
  t.notOk(isConditionTrue(cs, 'Synced'))
  t.equal(findCondition(removeCondition(cs, 'Synced'), 'Synced'), undefined)
})

t.test('owner references', async (t) => {
  const owner: KObject = { apiVersion: 'example.dev/v1', kind: 'Replication', metadata: { name: 'r', namespace: 'a', uid: 'u1' } }
  const other: KObject = { apiVersion: 'example.dev/v1', kind: 'Replication', metadata: { name: 'q', namespace: 'a', uid: 'u2' } }
  const child: KObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'x', uid: 'u9' }] },
  }
  setControllerReference(owner, child)
  t.same(getControllerOf(child), {
    apiVersion: 'example.dev/v1',
    kind: 'Replication',
    name: 'r',
    uid: 'u1',
    controller: true,
    blockOwnerDeletion: true,
  })
  t.equal(child.metadata?.ownerReferences?.length, 2, 'other owners kept')
  setControllerReference(owner, child)
  t.equal(child.metadata?.ownerReferences?.length, 2, 'idempotent')
  t.ok(isOwnedBy(child, owner))
  t.notOk(isOwnedBy(child, other))
  t.throws(() => setControllerReference(other, child), { code: 'RT_OWNER_CONFLICT' })
  t.throws(
    () => setControllerReference(owner, { metadata: { name: 'z', namespace: 'b' } }),
    { code: 'RT_OWNER_CONFLICT' },
    'cross-namespace',
  )
  t.throws(() => controllerReference({ kind: 'X', metadata: { name: 'n' } }), { code: 'RT_INVALID_OPTION' })
})

t.test('predicates', async (t) => {
  const o = (gen: number, rv: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KObject => ({
    metadata: { generation: gen, resourceVersion: rv, labels, annotations },
  })
  t.notOk(generationChanged.update?.(o(1, '1'), o(1, '2')))
  t.ok(generationChanged.update?.(o(1, '1'), o(2, '2')))
  t.notOk(labelsChanged.update?.(o(1, '1', { a: '1' }), o(2, '2', { a: '1' })))
  t.ok(labelsChanged.update?.(o(1, '1', { a: '1' }), o(1, '2', { a: '2' })))
  t.ok(annotationsChanged.update?.(o(1, '1', {}, {}), o(1, '2', {}, { x: 'y' })))
  t.notOk(resourceVersionChanged.update?.(o(1, '1'), o(1, '1')), 'resync filtered')
  t.ok(or(generationChanged, labelsChanged).update?.(o(1, '1'), o(1, '2', { a: 'b' })))
  t.notOk(and(generationChanged, labelsChanged).update?.(o(1, '1'), o(2, '2')))
  const m = matching<KObject>((x) => x.metadata?.labels?.team === 'a')
  t.ok(m.create?.(o(1, '1', { team: 'a' })))
  t.notOk(m.delete?.(o(1, '1', { team: 'b' })))
})

t.test('leader election defaults are 15 s lease, 10 s renew deadline, 2 s retry; bad timings rejected', async (t) => {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const { Client } = await import('../../src/runtime/client/client.ts')
  const { LeaseElector } = await import('../../src/runtime/manager/leader-election.ts')
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  })
  const client = new Client(kc)
  const e = new LeaseElector(client, { leaseName: 'l', namespace: 'n' })
  t.same([e.leaseDurationMs, e.renewDeadlineMs, e.retryPeriodMs], [15_000, 10_000, 2_000])
  t.match(e.identity, /_[0-9a-f-]{36}$/)
  t.throws(() => new LeaseElector(client, { leaseName: 'l', namespace: 'n', leaseDurationMs: 5000, renewDeadlineMs: 6000 }), {
    code: 'RT_INVALID_OPTION',
  })
})
