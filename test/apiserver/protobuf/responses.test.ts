// Protobuf answers, as client-go's typed clients and kube-controller-manager ask for them by
// default (Accept "application/vnd.kubernetes.protobuf, */*"): objects and lists in the "k8s\0"
// envelope, watches as length-prefixed metav1.WatchEvent frames
// (staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go, its
// LengthDelimitedFramer; staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go). The bytes are
// read here without the server's schemas (wire.ts's fields()), by k8s.io/api's field numbers.

import { request as httpsRequest } from 'node:https'
import t from 'tap'
import type { ApiServer } from '../../../src/apiserver/index.ts'
import { decodeProtobufObject } from '../../../src/apiserver/protobuf.ts'
import { request, startServer } from '../harness.ts'
import { fields, openEnvelope, sub } from './wire.ts'

const CLIENT_GO_ACCEPT = 'application/vnd.kubernetes.protobuf, */*'
const CMS = '/api/v1/namespaces/default/configmaps'

async function get(s: ApiServer, path: string, accept: string): Promise<{ status: number; contentType: string; body: Buffer }> {
  const r = await request(s, 'GET', path, { accept })
  return { status: r.status, contentType: String(r.headers['content-type']), body: r.body }
}

/** Reads protobuf watch frames until `stop` says so. */
function watchFrames(
  s: ApiServer,
  path: string,
  stop: (events: Array<{ type: string; object: Buffer }>) => boolean,
): Promise<{ contentType: string; events: Array<{ type: string; object: Buffer }> }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ type: string; object: Buffer }> = []
    const req = httpsRequest(
      new URL(path, s.url),
      { headers: { authorization: `Bearer ${s.adminToken}`, accept: CLIENT_GO_ACCEPT }, ca: s.caPem },
      (res) => {
        const done = () => resolve({ contentType: String(res.headers['content-type']), events })
        let buf = Buffer.alloc(0)
        res.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c])
          while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
            const event = fields(buf.subarray(4, 4 + buf.readUInt32BE(0)))
            buf = buf.subarray(4 + buf.readUInt32BE(0))
            events.push({ type: sub(event, 1).toString(), object: sub(fields(sub(event, 2)), 1) })
            if (stop(events)) {
              req.destroy()
              done()
            }
          }
        })
        res.on('end', done)
        res.on('error', done)
      },
    )
    req.on('error', (e) => (events.length ? undefined : reject(e)))
    req.end()
  })
}

t.test('a Lease as leader election reads it: protobuf with every field of the JSON answer', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'kcm', labels: { b: '2', a: '1' } },
    spec: {
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-07T03:00:00.000001Z',
      renewTime: '2026-12-07T03:00:02.123456Z',
      leaseTransitions: 3,
    },
  }
  t.equal(
    (
      await request(s, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', {
        body: JSON.stringify(lease),
        contentType: 'application/json',
      })
    ).status,
    201,
  )
  const path = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kcm'
  const r = await get(s, path, CLIENT_GO_ACCEPT)
  t.equal(r.status, 200)
  t.equal(r.contentType, 'application/vnd.kubernetes.protobuf')
  const env = openEnvelope(r.body)
  t.same([env.apiVersion, env.kind], ['coordination.k8s.io/v1', 'Lease'])
  const spec = fields(sub(env.raw, 2))
  t.equal(sub(spec, 1).toString(), 'me')
  t.equal(spec.get(2)?.[0], 15n)
  t.equal(spec.get(5)?.[0], 3n)
  const renew = fields(sub(spec, 4))
  t.same(
    [renew.get(1)?.[0], renew.get(2)?.[0]],
    [BigInt(Date.parse('2026-12-07T03:00:02Z') / 1000), 123456000n],
    'MicroTime keeps its microseconds as nanos',
  )
  const labels = fields(sub(env.raw, 1))
    .get(11)!
    .map((e) => sub(fields(e as Buffer), 1).toString())
  t.same(labels, ['a', 'b'], 'map entries sorted by key, as Go writes them')
  const json = (await request(s, 'GET', path)).json()
  t.same(decodeProtobufObject(r.body), json, 'decoded, the protobuf answer is the JSON answer (managedFields included)')
})

t.test('a ConfigMapList in protobuf: ListMeta and every item', async (t) => {
  const h = await startServer(t)
  const s = h.server
  for (const name of ['one', 'two'])
    t.equal(
      (
        await request(s, 'POST', CMS, {
          body: JSON.stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name },
            data: { k: name },
            binaryData: { b: Buffer.from([0, 255]).toString('base64') },
          }),
          contentType: 'application/json',
        })
      ).status,
      201,
    )
  const r = await get(s, `${CMS}?limit=500`, CLIENT_GO_ACCEPT)
  t.equal(r.contentType, 'application/vnd.kubernetes.protobuf')
  const env = openEnvelope(r.body)
  t.same([env.apiVersion, env.kind], ['v1', 'ConfigMapList'])
  t.match(sub(fields(sub(env.raw, 1)), 2).toString(), /^\d+$/, 'ListMeta.resourceVersion')
  const items = env.raw.get(2)!.map((b) => fields(b as Buffer))
  t.same(
    items.map((i) => sub(fields(sub(i, 1)), 1).toString()),
    ['one', 'two'],
  )
  const binary = fields(sub(items[0], 3))
  t.same([sub(binary, 1).toString(), [...sub(binary, 2)]], ['b', [0, 255]], 'binaryData as bytes, not base64 text')
})

t.test('a watch in protobuf: length-prefixed WatchEvent frames whose object is its own envelope; bookmarks too', async (t) => {
  const h = await startServer(t)
  const s = h.server
  t.equal(
    (
      await request(s, 'POST', CMS, {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } }),
        contentType: 'application/json',
      })
    ).status,
    201,
  )
  const w = watchFrames(
    s,
    `${CMS}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=30`,
    (ev) => ev.some((e) => e.type === 'DELETED'),
  )
  // The watch answers its initial events before these writes commit: both requests wait for the same durable state.
  await new Promise((resolve) => setImmediate(resolve))
  t.equal((await request(s, 'DELETE', `${CMS}/one`)).status, 200)
  const r = await w
  t.equal(r.contentType, 'application/vnd.kubernetes.protobuf;stream=watch')
  t.same(
    r.events.map((e) => e.type),
    ['ADDED', 'BOOKMARK', 'DELETED'],
  )
  t.match(decodeProtobufObject(r.events[0].object), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } })
  const bookmark = decodeProtobufObject(r.events[1].object) as { kind: string; metadata: { annotations: Record<string, string> } }
  t.match(bookmark, { kind: 'ConfigMap', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } })
  const blueprint = openEnvelope(Buffer.from(bookmark.metadata.annotations['kubernetes.io/initial-events-list-blueprint'], 'base64'))
  t.same(
    [blueprint.apiVersion, blueprint.kind, blueprint.raw.get(2)],
    ['v1', 'ConfigMapList', undefined],
    'the watch-list blueprint: an empty ConfigMapList in protobuf',
  )
})

t.test('kinds without a complete protobuf schema fall back along Accept; protobuf alone for them is a 406', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crds = await get(s, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CLIENT_GO_ACCEPT)
  t.equal(crds.status, 200)
  t.match(crds.contentType, /^application\/json/)
  const only = await get(s, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'application/vnd.kubernetes.protobuf')
  t.equal(only.status, 406)
  const json = await get(s, CMS, 'application/json, application/vnd.kubernetes.protobuf')
  t.match(json.contentType, /^application\/json/, "the client's order decides: JSON first stays JSON")
})
