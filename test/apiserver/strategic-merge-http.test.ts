// Strategic merge patches over HTTP with the exact requests kube-controller-manager's garbage collector
// sends through its metadata client (pkg/controller/controller_ref_manager.go
// GenerateDeleteOwnerRefStrategicMergeBytes; client-go/metadata/metadata.go's Accept header): removing
// an owner reference that is already gone is a no-op on kube-apiserver, so it must be here too. And
// kubectl's client-side apply and patch, which compute their patches from the served OpenAPI.
import t from 'tap'
import { request, startServer, writeTemp } from './harness.ts'

const CM = '/api/v1/namespaces/default/configmaps'
const SMP = 'application/strategic-merge-patch+json'
const METADATA_ACCEPT =
  'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json'

t.test("the garbage collector's owner-reference removal, as kube-controller-manager sends it", async (t) => {
  const h = await startServer(t)
  const s = h.server
  const post = async (body: unknown) =>
    (await request(s, 'POST', CM, { body: JSON.stringify(body), contentType: 'application/json' })).json()
  const owner = await post({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } })
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }
  const plain = await post({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'plain', finalizers: ['example.com/keep'] },
    data: { a: '1' },
  })
  const owned = await post({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'owned', ownerReferences: [ref], finalizers: ['orphan', 'example.com/keep'] },
  })
  // json.Marshal of objectForDeleteOwnerRefStrategicMergePatch: uid first, then ownerReferences (map keys sorted).
  const gcPatch = (dependentUid: string, ownerUid: string, finalizers?: string[]) =>
    `{"metadata":{"uid":"${dependentUid}","ownerReferences":[{"$patch":"delete","uid":"${ownerUid}"}]${finalizers ? `,"$deleteFromPrimitiveList/finalizers":${JSON.stringify(finalizers)}` : ''}}}`

  let r = await request(s, 'PATCH', `${CM}/plain`, {
    body: gcPatch(plain.metadata.uid, owner.metadata.uid),
    contentType: SMP,
    accept: METADATA_ACCEPT,
    headers: {
      'user-agent':
        'kube-controller-manager/v1.32.13 (linux/amd64) kubernetes/abcdef/system:serviceaccount:kube-system:generic-garbage-collector',
    },
  })
  t.equal(r.status, 200, `no owner references at all: nothing to remove, no 422 (${JSON.stringify(r.text.slice(0, 200))})`)
  let now = (await request(s, 'GET', `${CM}/plain`)).json()
  t.equal(now.metadata.resourceVersion, plain.metadata.resourceVersion, 'nothing was written')
  t.notOk('ownerReferences' in now.metadata, 'no bogus {"$patch":"delete"} entry inserted')

  r = await request(s, 'PATCH', `${CM}/owned`, {
    body: gcPatch(owned.metadata.uid, owner.metadata.uid, ['orphan']),
    contentType: SMP,
    accept: METADATA_ACCEPT,
  })
  t.equal(r.status, 200, JSON.stringify(r.text.slice(0, 200)))
  now = (await request(s, 'GET', `${CM}/owned`)).json()
  t.notOk('ownerReferences' in now.metadata, 'the owner reference removed')
  t.same(now.metadata.finalizers, ['example.com/keep'], 'the orphan finalizer removed, the other kept')

  r = await request(s, 'PATCH', `${CM}/owned`, { body: gcPatch('not-the-uid', owner.metadata.uid), contentType: SMP })
  t.equal(r.status, 409, 'the uid in the patch is a precondition: another object of the same name is left alone')
})

t.test(
  'kubectl apply (client-side) and kubectl patch on a ServiceAccount: merge lists and atomic lists as on kube-apiserver',
  async (t) => {
    const h = await startServer(t)
    const sa = (labels: string, finalizers: string, pull: string, secrets: string) =>
      `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  labels: ${labels}\n  finalizers: ${finalizers}\nimagePullSecrets: ${pull}\nsecrets: ${secrets}\n`
    await h.k(
      'apply',
      '-f',
      writeTemp(h, 'sa1.yaml', sa('{a: "1", b: "2"}', '[e.io/a, e.io/b]', '[{name: a}, {name: b}]', '[{name: a}, {name: b}]')),
    )
    // kubectl sends $setElementOrder/secrets with a {"$patch":"delete","name":"a"} item, $deleteFromPrimitiveList/finalizers, imagePullSecrets whole
    await h.k(
      'apply',
      '-f',
      writeTemp(h, 'sa2.yaml', sa('{b: "3"}', '[e.io/b, e.io/c]', '[{name: c}, {name: b}]', '[{name: c}, {name: b}]')),
    )
    const get = async () => JSON.parse(await h.k('get', 'sa', 'x', '-o', 'json'))
    let o = await get()
    t.same(o.metadata.labels, { b: '3' })
    t.same(o.metadata.finalizers, ['e.io/b', 'e.io/c'], 'finalizers: e.io/a removed, order as applied')
    t.same(o.secrets, [{ name: 'c' }, { name: 'b' }], 'secrets (merge list on name): a removed, c added, order as applied')
    t.same(o.imagePullSecrets, [{ name: 'c' }, { name: 'b' }], 'imagePullSecrets (atomic): as applied')
    await h.k('patch', 'sa', 'x', '-p', '{"imagePullSecrets":[{"name":"d"}],"secrets":[{"name":"d"}],"metadata":{"finalizers":["e.io/z"]}}')
    o = await get()
    t.same(o.imagePullSecrets, [{ name: 'd' }], 'an atomic list is replaced')
    t.same(o.secrets, [{ name: 'd' }, { name: 'c' }, { name: 'b' }], 'a merge list gains the new item first')
    t.same(o.metadata.finalizers, ['e.io/z', 'e.io/b', 'e.io/c'])
    await h.k('patch', 'sa', 'x', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]')
  },
)
