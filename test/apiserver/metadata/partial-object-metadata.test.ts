// Metadata-only get, list and watch (PartialObjectMetadata / PartialObjectMetadataList, meta.k8s.io
// v1 and v1beta1) for built-in and custom resources, with the Accept headers client-go's metadata
// client and informers send (staging/src/k8s.io/client-go/metadata/metadata.go sets
// "application/vnd.kubernetes.protobuf;as=...;g=meta.k8s.io;v=v1,application/json;as=...;g=meta.k8s.io;v=v1,application/json"),
// and Accept negotiation that falls back along the client's list
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/negotiate.go).

import { request as httpsRequest } from 'node:https'
import t from 'tap'
import type { ApiServer } from '../../../src/apiserver/index.ts'
import { request, startServer } from '../harness.ts'
import { fields, openEnvelope, sub } from '../protobuf/wire.ts'

const json = 'application/json'
// The metadata client's Accept, and the same without its first (protobuf) entry, to read JSON answers.
const clientAccept = (as: string, v = 'v1') =>
  `application/vnd.kubernetes.protobuf;as=${as};g=meta.k8s.io;v=${v},application/json;as=${as};g=meta.k8s.io;v=${v},application/json`
const metadataAccept = (as: string, v = 'v1') => clientAccept(as, v).slice(clientAccept(as, v).indexOf(',') + 1)
const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets'

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        },
      },
    ],
  },
}

async function setup(t: Parameters<typeof startServer>[0]): Promise<ApiServer> {
  const h = await startServer(t)
  const s = h.server
  t.equal(
    (await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(crd), contentType: json }))
      .status,
    201,
  )
  const w = await request(s, 'POST', WIDGETS, {
    body: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', labels: { a: 'b' } }, spec: { size: 3 } }),
    contentType: json,
  })
  t.equal(w.status, 201, w.text)
  return s
}

/** Reads a watch's JSON lines until `stop` says so (or the stream ends). */
function watch(
  s: ApiServer,
  path: string,
  accept: string,
  stop: (events: any[]) => boolean,
): Promise<{ status: number; contentType: string; events: any[] }> {
  return new Promise((resolve, reject) => {
    const events: any[] = []
    const req = httpsRequest(new URL(path, s.url), { headers: { authorization: `Bearer ${s.adminToken}`, accept }, ca: s.caPem }, (res) => {
      const done = () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events })
      let buf = ''
      res.on('data', (d: Buffer) => {
        buf += d.toString()
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)))
          buf = buf.slice(i + 1)
          if (stop(events)) {
            req.destroy()
            done()
          }
        }
      })
      res.on('end', done)
      res.on('error', done)
    })
    req.on('error', (e) => (events.length ? undefined : reject(e)))
    req.end()
  })
}

t.test('metadata-only list of a custom resource as JSON: PartialObjectMetadataList, no spec', async (t) => {
  const s = await setup(t)
  const r = await request(s, 'GET', `${WIDGETS}?limit=500`, { accept: metadataAccept('PartialObjectMetadataList') })
  t.equal(r.status, 200, r.text)
  t.equal(r.headers['content-type'], 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')
  const list = r.json()
  t.match(list, {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: /^\d+$/ },
    items: [
      { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'w1', namespace: 'default', labels: { a: 'b' } } },
    ],
  })
  t.notOk('spec' in list.items[0])
})

t.test('metadata-only get in meta.k8s.io/v1beta1, for a custom and a built-in resource', async (t) => {
  const s = await setup(t)
  const r = await request(s, 'GET', `${WIDGETS}/w1`, { accept: metadataAccept('PartialObjectMetadata', 'v1beta1') })
  t.equal(r.status, 200, r.text)
  t.equal(r.headers['content-type'], 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1')
  t.match(r.json(), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1beta1', metadata: { name: 'w1' } })
  const ns = await request(s, 'GET', '/api/v1/namespaces/default', { accept: metadataAccept('PartialObjectMetadata') })
  t.match(ns.json(), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'default' } })
  t.notOk('spec' in ns.json())
})

t.test('metadata-only watch in JSON: initial, modified and deleted events and bookmarks are PartialObjectMetadata', async (t) => {
  const s = await setup(t)
  const list = (await request(s, 'GET', WIDGETS, { accept: metadataAccept('PartialObjectMetadataList') })).json()
  const rv = list.metadata.resourceVersion
  const w = watch(
    s,
    `${WIDGETS}?allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=30&watch=true`,
    metadataAccept('PartialObjectMetadata'),
    (ev) => ev.some((e) => e.type === 'DELETED'),
  )
  const patched = await request(s, 'PATCH', `${WIDGETS}/w1`, {
    body: JSON.stringify({ metadata: { labels: { c: 'd' } }, spec: { size: 4 } }),
    contentType: 'application/merge-patch+json',
  })
  t.equal(patched.status, 200, patched.text)
  t.equal((await request(s, 'DELETE', `${WIDGETS}/w1`)).status, 200)
  const r = await w
  t.equal(r.status, 200)
  t.match(r.contentType, /^application\/json/)
  t.match(r.events, [
    {
      type: 'MODIFIED',
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'w1', labels: { a: 'b', c: 'd' } } },
    },
    { type: 'DELETED', object: { kind: 'PartialObjectMetadata', metadata: { name: 'w1' } } },
  ])
  for (const e of r.events) t.notOk('spec' in e.object, `${e.type} carries no spec`)

  // The streaming list the informer tries first (sendInitialEvents): ADDED, then the bookmark ending them.
  const cms = '/api/v1/namespaces/default/configmaps'
  t.equal(
    (
      await request(s, 'POST', cms, {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { k: 'v' } }),
        contentType: json,
      })
    ).status,
    201,
  )
  const initial = await watch(
    s,
    `${cms}?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=true`,
    metadataAccept('PartialObjectMetadata'),
    (ev) => ev.some((e) => e.type === 'BOOKMARK'),
  )
  t.match(initial.events, [
    { type: 'ADDED', object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'c1' } } },
    {
      type: 'BOOKMARK',
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } },
      },
    },
  ])
  t.notOk('data' in initial.events[0].object)
  // kube-apiserver v1.32's watch-list blueprint (an empty list in the stream's encoding, base64); client-go 1.32 refuses the stream without it.
  const blueprint = initial.events[1].object.metadata.annotations['kubernetes.io/initial-events-list-blueprint']
  t.match(JSON.parse(Buffer.from(blueprint, 'base64').toString()), {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    items: [],
  })
})

t.test("Accept falls back along the client's list; nothing producible is a 406", async (t) => {
  const s = await setup(t)
  // client-go's typed default: protobuf first, then anything.
  const typed = await request(s, 'GET', `${WIDGETS}/w1`, { accept: 'application/vnd.kubernetes.protobuf, */*' })
  t.equal(typed.status, 200)
  t.match(typed.headers['content-type'], /^application\/json/)
  t.equal(typed.json().kind, 'Widget')
  const unknownAs = await request(s, 'GET', `${WIDGETS}/w1`, {
    accept: 'application/json;as=Table;g=meta.k8s.io;v=v9, application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1',
  })
  t.equal(unknownAs.json().apiVersion, 'meta.k8s.io/v1beta1', 'an unknown Table version is skipped for the next entry')
  const onlyProtobuf = await request(s, 'GET', `${WIDGETS}/w1`, { accept: 'application/vnd.kubernetes.protobuf' })
  t.equal(onlyProtobuf.status, 406, 'a custom resource has no protobuf form')
  const betaProtobuf = await request(s, 'GET', `${WIDGETS}/w1`, {
    accept: 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1',
  })
  t.equal(
    betaProtobuf.status,
    200,
    'metadata-only protobuf is served in v1beta1 too, as kube-apiserver (handlers/rest.go AllowsMediaTypeTransform)',
  )
  const yamlWatch = await request(s, 'GET', `${WIDGETS}?watch=true`, { accept: 'application/yaml' })
  t.equal(yamlWatch.status, 406, 'a watch is not served as YAML')
})

function rawGet(s: ApiServer, path: string, accept: string, frames = 0): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, s.url), { headers: { authorization: `Bearer ${s.adminToken}`, accept }, ca: s.caPem }, (res) => {
      const chunks: Buffer[] = []
      const done = () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks) })
      res.on('data', (c: Buffer) => {
        chunks.push(c)
        // A watch: stop once `frames` length-prefixed frames are complete.
        let buf = Buffer.concat(chunks)
        let n = 0
        while (frames > 0 && buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          buf = buf.subarray(4 + buf.readUInt32BE(0))
          n++
        }
        if (frames > 0 && n >= frames) {
          req.destroy()
          done()
        }
      })
      res.on('end', done)
      res.on('error', done)
    })
    req.on('error', reject)
    req.end()
  })
}

t.test(
  "with the metadata client's exact Accept the answer is protobuf PartialObjectMetadata[List] (its first choice), watches too",
  async (t) => {
    const s = await setup(t)
    const list = await rawGet(s, `${WIDGETS}?limit=500`, clientAccept('PartialObjectMetadataList'))
    t.equal(list.status, 200)
    t.equal(list.contentType, 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')
    const env = openEnvelope(list.body)
    t.same([env.apiVersion, env.kind], ['meta.k8s.io/v1', 'PartialObjectMetadataList'])
    const item = fields(env.raw.get(2)![0] as Buffer)
    t.equal(sub(fields(sub(item, 1)), 1).toString(), 'w1', 'items[0].metadata.name')
    t.same([...item.keys()], [1], 'an item carries metadata only')

    const one = await rawGet(s, `${WIDGETS}/w1`, clientAccept('PartialObjectMetadata'))
    t.same(
      [openEnvelope(one.body).kind, one.contentType],
      ['PartialObjectMetadata', 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'],
    )

    const watch = await rawGet(
      s,
      `${WIDGETS}?watch=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=30`,
      clientAccept('PartialObjectMetadata'),
      2,
    )
    t.equal(watch.contentType, 'application/vnd.kubernetes.protobuf;stream=watch')
    const frame = fields(watch.body.subarray(4, 4 + watch.body.readUInt32BE(0)))
    t.equal(sub(frame, 1).toString(), 'ADDED')
    const object = openEnvelope(sub(fields(sub(frame, 2)), 1))
    t.same(
      [object.apiVersion, object.kind, sub(fields(sub(object.raw, 1)), 1).toString()],
      ['meta.k8s.io/v1', 'PartialObjectMetadata', 'w1'],
    )
  },
)
