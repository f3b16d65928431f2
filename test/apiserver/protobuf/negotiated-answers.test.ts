// Answers negotiated as kube-apiserver negotiates them, for the requests real clients send:
//  - a DELETE's Status and a deletecollection's list in protobuf when Accept puts protobuf first
//    (client-go's typed clients with protobuf on, as kube-controller-manager runs by default);
//    staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go writes both through
//    transformResponseObject, the negotiated serializer; a Status passes every transform unchanged;
//  - metadata-only in protobuf at meta.k8s.io/v1beta1 too (handlers/rest.go AllowsMediaTypeTransform
//    accepts PartialObjectMetadata[List] of both meta versions; the v1beta1 list has its own field
//    numbers: items 1, metadata 2, k8s.io/apimachinery/pkg/apis/meta/v1beta1/types.go);
//  - as=PartialObjectMetadata for a list (or …List for one object) is 406 NotAcceptable, even with a
//    fallback later in Accept: the media type is chosen first, the transform then refuses
//    (handlers/response.go asPartialObjectMetadata / asPartialObjectMetadataList).
// The bytes are read without the server's schemas (wire.ts), by field number.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import type { ApiServer } from '../../../src/apiserver/index.ts'
import { CRDS, request, startServer } from '../harness.ts'
import { fields, openEnvelope, sub } from './wire.ts'

// client-go's typed client with ContentType protobuf (kube-controller-manager's default).
const CLIENT_GO_ACCEPT = 'application/vnd.kubernetes.protobuf, */*'
// client-go's metadata client (k8s.io/client-go/metadata): Get and Watch ask for the object kind,
// List for the list kind, each with JSON and plain JSON as fallbacks.
const metadataAccept = (as: string, v = 'v1'): string =>
  `application/vnd.kubernetes.protobuf;as=${as};g=meta.k8s.io;v=${v},application/json;as=${as};g=meta.k8s.io;v=${v},application/json`
const CMS = '/api/v1/namespaces/default/configmaps'
const GS = '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers'

async function raw(
  s: ApiServer,
  method: string,
  path: string,
  accept: string,
): Promise<{ status: number; contentType: string; body: Buffer }> {
  const r = await request(s, method, path, { accept })
  return { status: r.status, contentType: String(r.headers['content-type']), body: r.body }
}

async function seed(t: Test) {
  const h = await startServer(t)
  const s = h.server
  for (const name of ['c1', 'c2', 'c3']) {
    const r = await request(s, 'POST', CMS, {
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: { set: name === 'c1' ? 'one' : 'rest' } },
        data: { k: `value-of-${name}` },
      }),
      contentType: 'application/json',
    })
    if (r.status !== 201) throw new Error(r.text)
  }
  return s
}

t.test("DELETE with client-go's protobuf Accept: the success Status in protobuf", async (t) => {
  const s = await seed(t)
  const c1 = (await request(s, 'GET', `${CMS}/c1`)).json()
  const r = await raw(s, 'DELETE', `${CMS}/c1`, CLIENT_GO_ACCEPT)
  t.equal(r.status, 200)
  t.equal(r.contentType, 'application/vnd.kubernetes.protobuf')
  const env = openEnvelope(r.body)
  t.same([env.apiVersion, env.kind], ['v1', 'Status'])
  t.equal(sub(env.raw, 2).toString(), 'Success', 'status (field 2)')
  const details = fields(sub(env.raw, 5))
  t.same(
    [sub(details, 1).toString(), sub(details, 3).toString(), sub(details, 6).toString()],
    ['c1', 'configmaps', c1.metadata.uid],
    'details: name, kind, uid',
  )
  t.equal((await request(s, 'GET', `${CMS}/c1`)).status, 404, 'deleted')

  const json = await request(s, 'DELETE', `${CMS}/c2`, { accept: 'application/json' })
  t.match(json.json(), { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: 'c2' } }, 'JSON when JSON is asked for')
  t.match(json.headers['content-type'], /^application\/json/)
  const yaml = await request(s, 'DELETE', `${CMS}/c3`, { accept: 'application/yaml' })
  t.match(parse(yaml.text), { kind: 'Status', status: 'Success', details: { name: 'c3' } }, 'YAML when YAML is asked for')
})

t.test('DELETE of a custom resource with the same Accept: JSON (custom resources have no protobuf form)', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
  t.equal(
    (
      await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
        body: JSON.stringify(crd),
        contentType: 'application/json',
      })
    ).status,
    201,
  )
  const gs = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'g1' },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
  }
  t.equal((await request(s, 'POST', GS, { body: JSON.stringify(gs), contentType: 'application/json' })).status, 201)
  const r = await raw(s, 'DELETE', `${GS}/g1`, CLIENT_GO_ACCEPT)
  t.equal(r.status, 200)
  t.match(r.contentType, /^application\/json/)
  t.match(JSON.parse(r.body.toString()), { kind: 'Status', status: 'Success', details: { name: 'g1', kind: 'gameservers' } })
  t.equal(
    (await request(s, 'POST', GS, { body: JSON.stringify({ ...gs, metadata: { name: 'g2' } }), contentType: 'application/json' })).status,
    201,
  )
  const only = await raw(s, 'DELETE', `${GS}/g2`, 'application/vnd.kubernetes.protobuf')
  t.equal(only.status, 406, 'protobuf only, for a kind without a protobuf form: 406 (handlers/delete.go negotiates first)')
  t.equal((await request(s, 'GET', `${GS}/g2`)).status, 200, 'and nothing was deleted')
})

t.test("deletecollection with client-go's protobuf Accept: the deleted items as a protobuf list", async (t) => {
  const s = await seed(t)
  const r = await raw(s, 'DELETE', `${CMS}?labelSelector=set%3Drest`, CLIENT_GO_ACCEPT)
  t.equal(r.status, 200)
  t.equal(r.contentType, 'application/vnd.kubernetes.protobuf')
  const env = openEnvelope(r.body)
  t.same([env.apiVersion, env.kind], ['v1', 'ConfigMapList'])
  const names = (env.raw.get(2) ?? []).map((item) => sub(fields(sub(fields(item as Buffer), 1)), 1).toString()).sort()
  t.same(names, ['c2', 'c3'], 'items (field 2), each with its ObjectMeta name')
  t.match(sub(fields(sub(env.raw, 1)), 2).toString(), /^\d+$/, 'list metadata resourceVersion')
  const left = (await request(s, 'GET', CMS)).json()
  t.same(
    left.items.map((i: any) => i.metadata.name),
    ['c1'],
  )
})

t.test('metadata-only protobuf at meta.k8s.io/v1beta1: object and list (items 1, metadata 2)', async (t) => {
  const s = await seed(t)
  const one = await raw(s, 'GET', `${CMS}/c1`, metadataAccept('PartialObjectMetadata', 'v1beta1'))
  t.equal(one.status, 200)
  t.equal(one.contentType, 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1')
  const env = openEnvelope(one.body)
  t.same([env.apiVersion, env.kind], ['meta.k8s.io/v1beta1', 'PartialObjectMetadata'])
  const meta = fields(sub(env.raw, 1))
  t.equal(sub(meta, 1).toString(), 'c1', 'metadata (field 1) name')
  t.notOk(one.body.includes(Buffer.from('value-of-c1')), 'no data in a metadata-only answer')

  const list = await raw(s, 'GET', `${CMS}?limit=500`, metadataAccept('PartialObjectMetadataList', 'v1beta1'))
  t.equal(list.status, 200)
  t.equal(list.contentType, 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1')
  const lenv = openEnvelope(list.body)
  t.same([lenv.apiVersion, lenv.kind], ['meta.k8s.io/v1beta1', 'PartialObjectMetadataList'])
  const items = (lenv.raw.get(1) ?? []).map((item) => sub(fields(sub(fields(item as Buffer), 1)), 1).toString())
  t.same(items.sort(), ['c1', 'c2', 'c3'], 'items are field 1 in v1beta1')
  t.match(sub(fields(sub(lenv.raw, 2)), 2).toString(), /^\d+$/, 'list metadata is field 2, its resourceVersion field 2')

  const v1list = openEnvelope((await raw(s, 'GET', CMS, metadataAccept('PartialObjectMetadataList'))).body)
  t.equal((v1list.raw.get(2) ?? []).length, 3, 'v1 keeps items at field 2')
})

t.test('as=PartialObjectMetadata on a list, or …List on one object: 406 as kube-apiserver, the fallbacks notwithstanding', async (t) => {
  const s = await seed(t)
  const list = await request(s, 'GET', `${CMS}?limit=500`, { accept: metadataAccept('PartialObjectMetadata') })
  t.equal(list.status, 406)
  t.match(list.json(), {
    kind: 'Status',
    reason: 'NotAcceptable',
    code: 406,
    message: /you requested PartialObjectMetadata, but the requested object is a list \(ConfigMapList\)/,
  })
  const jsonOnly = await request(s, 'GET', CMS, { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' })
  t.equal(jsonOnly.status, 406, 'in JSON too')
  const one = await request(s, 'GET', `${CMS}/c1`, { accept: metadataAccept('PartialObjectMetadataList', 'v1beta1') })
  t.equal(one.status, 406)
  t.match(one.json().message, /you requested PartialObjectMetadataList, but the requested object is not a list \(ConfigMap\)/)
  const del = await request(s, 'DELETE', CMS, { accept: metadataAccept('PartialObjectMetadata') })
  t.equal(del.status, 406, 'a deletecollection whose answer cannot be given')
  t.equal((await request(s, 'GET', CMS)).json().items.length, 3, 'is refused before anything is deleted')
  const watch = await raw(s, 'GET', `${CMS}?watch=true&timeoutSeconds=1`, metadataAccept('PartialObjectMetadata'))
  t.equal(watch.status, 200, "a watch transforms each event's object: as=PartialObjectMetadata is right there")
  const deleted = await request(s, 'DELETE', `${CMS}/c1`, { accept: metadataAccept('PartialObjectMetadataList') })
  t.equal(deleted.status, 200, "a DELETE's Status passes any transform")
  t.match(deleted.headers['content-type'], /^application\/vnd\.kubernetes\.protobuf/)
})
