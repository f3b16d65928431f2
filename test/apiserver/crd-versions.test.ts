// CRDs with several served versions (conversion None) and CRD updates taking effect at once.
import t from 'tap'
import { request, startServer } from './harness.ts'

const schema = (extra: Record<string, unknown> = {}) => ({
  openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, ...extra } } } },
})

const crd = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets' },
    versions: [
      { name: 'v1', served: true, storage: true, schema: schema(extra) },
      { name: 'v1beta1', served: true, storage: false, schema: schema(extra) },
    ],
  },
})

t.test('served versions share storage; CRD updates apply to the next write', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const post = (path: string, body: unknown) => request(s, 'POST', path, { body: JSON.stringify(body), contentType: 'application/json' })
  let r = await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd())
  t.equal(r.status, 201, 'created')
  t.same(r.json().spec.names.singular, 'widget', 'names defaulted')
  t.same(r.json().status.storedVersions, ['v1'])
  r = await post('/apis/example.com/v1beta1/namespaces/default/widgets', {
    apiVersion: 'example.com/v1beta1',
    kind: 'Widget',
    metadata: { name: 'w' },
    spec: { size: 3, color: 'red' },
  })
  t.equal(r.status, 201, 'created')
  t.equal(r.json().apiVersion, 'example.com/v1beta1')
  t.notOk('color' in r.json().spec, 'unknown field pruned')
  r = await request(s, 'GET', '/apis/example.com/v1/namespaces/default/widgets/w')
  t.equal(r.json().apiVersion, 'example.com/v1', 'read back through the other version')
  t.equal(r.json().spec.size, 3)
  const list = (await request(s, 'GET', '/apis/example.com/v1beta1/widgets')).json()
  t.same(
    list.items.map((o: any) => o.apiVersion),
    ['example.com/v1beta1'],
  )
  const groups = (await request(s, 'GET', '/apis/example.com')).json()
  t.equal(groups.preferredVersion.version, 'v1')

  const cur = (await request(s, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).json()
  const updated = { ...crd({ color: { type: 'string' } }), metadata: cur.metadata }
  r = await request(s, 'PUT', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', {
    body: JSON.stringify(updated),
    contentType: 'application/json',
  })
  t.equal(r.status, 200, 'updated')
  t.equal(r.json().metadata.generation, 2, 'spec change bumps the CRD generation')
  r = await request(s, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w', {
    body: JSON.stringify({ spec: { color: 'blue' } }),
    contentType: 'application/merge-patch+json',
  })
  t.equal(r.json().spec.color, 'blue', 'the new schema field is kept')
})
