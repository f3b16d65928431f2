// Strategic merge patch semantics, case by case against kube's own: the cases named "patch_test.go: …"
// are k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go's (its ThreeWay patch applied to its
// Current object gives its Result), put on a ServiceAccount's `secrets` (merge key name) and on
// metadata.finalizers (a merge list of scalars).
import t from 'tap'
import { strategicMerge } from '../../src/apiserver/strategic-merge.ts'
import { ApiError } from '../../src/apiserver/status.ts'
import type { KObject } from '../../src/apiserver/types.ts'

const sa = (extra: Record<string, unknown>, metadata: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'default', ...metadata }, ...extra }) as KObject
const merged = (doc: KObject, patch: unknown) => strategicMerge(doc, patch) as Record<string, any>
/** The ApiError strategicMerge throws (undefined when it throws none). */
function refusal(doc: KObject, patch: unknown): ApiError | undefined {
  try {
    strategicMerge(doc, patch)
  } catch (err) {
    if (err instanceof ApiError) return err
    throw err
  }
  return undefined
}

t.test("ownerReferences: $patch delete of an entry that is not there changes nothing (the garbage collector's patch)", async (t) => {
  // kube-controller-manager's garbagecollector/patch.go deleteOwnerRefStrategicMergePatch sends exactly this.
  const gc = (owner: string) => ({ metadata: { ownerReferences: [{ $patch: 'delete', uid: owner }], uid: 'dep-uid' } })
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'owner-1' }
  t.same(merged(sa({}, { uid: 'dep-uid', ownerReferences: [ref] }), gc('owner-2')).metadata.ownerReferences, [ref], 'another owner: kept')
  const none = merged(sa({}, { uid: 'dep-uid' }), gc('owner-1'))
  t.notOk(
    'ownerReferences' in none.metadata,
    'no ownerReferences at all: none inserted (was: a bogus {"$patch":"delete"} entry, then a 422)',
  )
  const last = merged(sa({}, { uid: 'dep-uid', ownerReferences: [ref] }), gc('owner-1'))
  t.notOk('ownerReferences' in last.metadata, 'the last one removed: the field goes, as kube serves an empty list')
  const two = merged(sa({}, { ownerReferences: [ref, { ...ref, uid: 'owner-2' }] }), gc('owner-1'))
  t.same(
    two.metadata.ownerReferences.map((r: any) => r.uid),
    ['owner-2'],
  )
  // unblockOwnerReferencesStrategicMergePatch: a field of the entry with that uid changes, the rest stays.
  const unblocked = merged(sa({}, { ownerReferences: [{ ...ref, blockOwnerDeletion: true }] }), {
    metadata: { ownerReferences: [{ uid: 'owner-1', blockOwnerDeletion: false }], uid: 'dep-uid' },
  })
  t.same(unblocked.metadata.ownerReferences, [{ ...ref, blockOwnerDeletion: false }])
})

t.test('patch_test.go: delete missing map from merging list', async (t) => {
  const r = merged(sa({ secrets: [{ name: '2', namespace: 'b' }] }), {
    '$setElementOrder/secrets': [{ name: '2' }],
    secrets: [{ name: '1', $patch: 'delete' }],
  })
  t.same(r.secrets, [{ name: '2', namespace: 'b' }])
})

t.test('patch_test.go: add an item in a list and preserve order', async (t) => {
  const current = sa({
    secrets: [
      { name: '1', namespace: 'a' },
      { name: '2', kind: '2', namespace: 'b' },
    ],
  })
  const r = merged(current, {
    '$setElementOrder/secrets': [{ name: '3' }, { name: '1' }, { name: '2' }],
    secrets: [{ name: '3', kind: '3' }],
  })
  t.same(r.secrets, [
    { name: '3', kind: '3' },
    { name: '1', namespace: 'a' },
    { name: '2', kind: '2', namespace: 'b' },
  ])
})

t.test('patch_test.go: set elements order in a list with server-only items', async (t) => {
  const current = sa({
    secrets: [{ name: '1', namespace: 'a' }, { name: '3', kind: '3' }, { name: '4', kind: '4' }, { name: '2', kind: '2' }, { name: '9' }],
  })
  const r = merged(current, { '$setElementOrder/secrets': [{ name: '4' }, { name: '2' }, { name: '3' }, { name: '1' }] })
  t.same(
    r.secrets.map((s: any) => s.name),
    ['4', '2', '3', '1', '9'],
  )
})

t.test('a new merge-list item without $setElementOrder goes first (kubectl patch docs: the patched container first)', async (t) => {
  const r = merged(sa({ secrets: [{ name: 'a' }, { name: 'b' }] }), { secrets: [{ name: 'c' }, { name: 'b', kind: 'Secret' }] })
  // mergeSortedSlice: "c" is new, so it leads; "a" precedes "b" on the server, so it comes before it.
  t.same(r.secrets, [{ name: 'c' }, { name: 'a' }, { name: 'b', kind: 'Secret' }])
  const f = merged(sa({}, { finalizers: ['x/a', 'x/b'] }), { metadata: { finalizers: ['x/c', 'x/a'] } })
  t.same(f.metadata.finalizers, ['x/c', 'x/a', 'x/b'], 'scalars: a set union, patch items first unless the server had one earlier')
})

t.test('patch_test.go: add an item in a list of primitives and preserve order; add and delete items in lists of scalars', async (t) => {
  const a = merged(sa({}, { finalizers: ['1', '4', '2'] }), {
    metadata: { '$setElementOrder/finalizers': ['3', '1', '2'], finalizers: ['3'] },
  })
  t.same(a.metadata.finalizers, ['3', '1', '4', '2'])
  const b = merged(sa({}, { finalizers: ['1', '2', '3', '4'] }), {
    metadata: { '$setElementOrder/finalizers': ['1', '2', '4'], '$deleteFromPrimitiveList/finalizers': ['3'] },
  })
  t.same(b.metadata.finalizers, ['1', '2', '4'])
})

t.test('patch_test.go: $deleteFromPrimitiveList of a missing item or list adds nothing', async (t) => {
  t.same(merged(sa({}, { finalizers: ['1', '2'] }), { metadata: { '$deleteFromPrimitiveList/finalizers': ['3'] } }).metadata.finalizers, [
    '1',
    '2',
  ])
  t.notOk('finalizers' in merged(sa({}), { metadata: { '$deleteFromPrimitiveList/finalizers': ['3'] } }).metadata)
})

t.test('patch_test.go: retainKeys map should clear defaulted field', async (t) => {
  const r = merged(sa({ automountServiceAccountToken: true, secrets: [{ name: 'a' }] }), {
    $retainKeys: ['apiVersion', 'kind', 'metadata', 'secrets'],
    secrets: [{ name: 'b' }],
  })
  t.notOk('automountServiceAccountToken' in r, 'a key $retainKeys leaves out is cleared')
  t.same(r.secrets, [{ name: 'b' }, { name: 'a' }])
  t.match(
    refusal(sa({}), { $retainKeys: ['secrets'], imagePullSecrets: [] }),
    { code: 400, message: /imagePullSecrets/ },
    'a patched key left out of $retainKeys is a 400 naming it',
  )
})

t.test('$patch: replace and delete', async (t) => {
  const current = sa({ secrets: [{ name: 'a' }, { name: 'b' }] }, { labels: { x: '1', y: '2' } })
  t.same(merged(current, { secrets: [{ name: 'c' }, { $patch: 'replace' }] }).secrets, [{ name: 'c' }], 'a merge list replaced whole')
  t.same(merged(current, { metadata: { labels: { z: '3', $patch: 'replace' } } }).metadata.labels, { z: '3' }, 'a map replaced whole')
  t.notOk('labels' in merged(current, { metadata: { labels: { $patch: 'delete' } } }).metadata, 'a map deleted')
  t.same(merged(current, { metadata: { labels: { x: null } } }).metadata.labels, { y: '2' }, 'null removes a key')
  t.match(
    refusal(current, { secrets: [{ $patch: 'delete' }] }),
    { code: 400, message: /secrets.*merge key "name"/ },
    'a delete item without its merge key',
  )
  t.match(
    refusal(current, { metadata: { labels: { $patch: 'sideways' } } }),
    { code: 400, message: /metadata\.labels/ },
    'an unknown $patch',
  )
  t.match(refusal(current, { secrets: [{ name: 'x' }, ['nested']] }), { code: 422 }, 'lists of lists (kube: ErrNoListOfLists, 422)')
})

t.test('lists without a merge strategy are replaced; the live object is not touched', async (t) => {
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r' },
    rules: [{ verbs: ['get'], resources: ['pods'], apiGroups: [''] }],
  } as KObject
  const before = structuredClone(role)
  const r = merged(role, { rules: [{ verbs: ['list'], resources: ['configmaps'], apiGroups: [''] }] })
  t.same(r.rules, [{ verbs: ['list'], resources: ['configmaps'], apiGroups: [''] }])
  t.same(role, before, 'the input is unchanged')
  t.same(
    merged(sa({ secrets: [{ name: 'a' }] }), { secrets: [] }).secrets,
    [{ name: 'a' }],
    'an empty patch list merges nothing into a merge list',
  )
  t.same(
    merged(sa({ imagePullSecrets: [{ name: 'a' }] }), { imagePullSecrets: [{ name: 'b' }] }).imagePullSecrets,
    [{ name: 'b' }],
    "a ServiceAccount's imagePullSecrets is atomic (+listType=atomic, no patchStrategy)",
  )
})
