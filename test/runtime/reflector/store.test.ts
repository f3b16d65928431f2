import t from 'tap'
import { Store } from '../../../src/runtime/reflector/store.ts'
import type { KObject } from '../../../src/runtime/client/objects.ts'

const obj = (ns: string, name: string, owner?: string, team?: string): KObject => ({
  metadata: {
    namespace: ns,
    name,
    labels: team ? { team } : {},
    ownerReferences: owner ? [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: owner }] : [],
  },
})

t.test('store indexes by namespace, owner and a user function, kept in step', async (t) => {
  const s = new Store<KObject>({ team: (o) => (o.metadata?.labels?.team ? [o.metadata.labels.team] : []) })
  s.apply(obj('a', '1', 'u1', 'red'))
  s.apply(obj('a', '2', 'u1', 'blue'))
  s.apply(obj('b', '3', 'u2', 'red'))
  t.equal(s.size, 3)
  t.same(
    s
      .byIndex('namespace', 'a')
      .map((o) => o.metadata?.name)
      .sort(),
    ['1', '2'],
  )
  t.same(
    s
      .byIndex('owner', 'u1')
      .map((o) => o.metadata?.name)
      .sort(),
    ['1', '2'],
  )
  t.same(
    s
      .byIndex('team', 'red')
      .map((o) => o.metadata?.name)
      .sort(),
    ['1', '3'],
  )
  const old = s.apply(obj('a', '1', 'u2', 'blue'))
  t.equal(old?.metadata?.labels?.team, 'red', 'apply returns the previous copy')
  t.same(
    s.byIndex('team', 'red').map((o) => o.metadata?.name),
    ['3'],
    'old index entry removed',
  )
  t.same(
    s
      .byIndex('owner', 'u2')
      .map((o) => o.metadata?.name)
      .sort(),
    ['1', '3'],
  )
  s.delete('b/3')
  t.same(s.byIndex('team', 'red'), [])
  t.equal(s.getByName('2', 'a')?.metadata?.name, '2')
  s.addIndexer('name', (o) => [o.metadata?.name ?? ''])
  t.equal(s.byIndex('name', '2').length, 1, 'late indexer files existing objects')
  t.throws(() => s.byIndex('nope', 'x'), { code: 'RT_INVALID_OPTION' })
  t.throws(() => s.addIndexer('name', () => []), { code: 'RT_INVALID_OPTION' })
})

t.test('transforms: stripManagedFields and metadataOnly keep what controllers route by', async (t) => {
  const { stripManagedFields, metadataOnly } = await import('../../../src/runtime/reflector/reflector.ts')
  const full = (): KObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'n',
      namespace: 'ns',
      uid: 'u',
      resourceVersion: '7',
      generation: 2,
      labels: { a: 'b' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'ou' }],
      finalizers: ['f'],
      deletionTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'm' }],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    data: { big: 'x'.repeat(100) },
  })
  const s = stripManagedFields(full())
  t.equal(s.metadata?.managedFields, undefined)
  t.equal(s.metadata?.creationTimestamp, '2026-01-01T00:00:00Z')
  t.ok(s.data, 'body kept')
  const m = metadataOnly(full())
  t.same(Object.keys(m), ['apiVersion', 'kind', 'metadata'], 'body dropped')
  t.same(m.metadata, {
    name: 'n',
    namespace: 'ns',
    uid: 'u',
    resourceVersion: '7',
    generation: 2,
    labels: { a: 'b' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'ou' }],
    finalizers: ['f'],
    deletionTimestamp: '2026-01-01T00:00:00Z',
  })
})
