// Security regression suite of the compatibility added for kube-controller-manager and client-go
// (issue 19, item 5): hostile protobuf bodies are 400s that name the problem and leave the server
// serving; an envelope cannot smuggle another kind into an endpoint; protobuf and metadata-only
// answers and watches are authenticated and authorized like JSON ones (the read-only identity,
// bound to "view", reads no Secret in any representation); a metadata-only answer carries no data.

import t from 'tap'
import { request, startServer } from '../apiserver/harness.ts'
import { envelope, msg, str } from '../apiserver/protobuf/wire.ts'

const PB = 'application/vnd.kubernetes.protobuf'
const SECRETS = '/api/v1/namespaces/default/secrets'
const SECRET_VALUE = 'kcm-secret-value-5d1e9b7c3a'
const partial = (as: string) => `application/json;as=${as};g=meta.k8s.io;v=v1`

t.test(
  'hostile protobuf bodies: truncated, oversized lengths, overlong varints, group wire types, a bad prefix — each a 400, nothing stored',
  async (t) => {
    const h = await startServer(t)
    const s = h.server
    const k8s = Buffer.from('k8s\0', 'latin1')
    const cases: Array<[string, Buffer]> = [
      ['a varint cut short', Buffer.concat([k8s, Buffer.from([0x0a, 0x80])])],
      ['a length past the end', Buffer.concat([k8s, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])])],
      ['an 11-byte varint', Buffer.concat([k8s, Buffer.from([0x08, ...Array(10).fill(0xff), 0x01])])],
      ['a start-group wire type', Buffer.concat([envelope('v1', 'ConfigMap', msg(1, str(1, 'x'))).subarray(0, -4), Buffer.from([0x0b])])],
      ['a metadata field that is a varint where a message belongs', envelope('v1', 'ConfigMap', Buffer.from([0x08, 0x01]))],
      ['no "k8s\\0" prefix', Buffer.from('k9s\0garbage', 'latin1')],
    ]
    for (const [what, body] of cases) {
      const r = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', { body, contentType: PB })
      t.equal(r.status, 400, `${what}: ${r.text}`)
      t.match(r.json(), { kind: 'Status', reason: 'BadRequest', message: /protobuf/ }, what)
    }
    const list = (await request(s, 'GET', '/api/v1/namespaces/default/configmaps')).json()
    t.same(list.items, [], 'nothing was stored, and the server still answers')
  },
)

t.test("an envelope naming another kind does not land in the endpoint's resource (a Secret posted to leases)", async (t) => {
  const h = await startServer(t)
  const s = h.server
  const body = envelope('v1', 'Secret', msg(1, str(1, 'smuggled')), msg(2, str(1, 'k'), str(2, 'v')))
  const r = await request(s, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { body, contentType: PB })
  t.ok(r.status >= 400 && r.status < 500, `refused: ${r.status} ${r.text}`)
  t.equal((await request(s, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/smuggled')).status, 404)
  t.equal((await request(s, 'GET', `${SECRETS}/smuggled`)).status, 404)
})

t.test('protobuf and metadata-only reads are authenticated and authorized like JSON ones; metadata-only carries no data', async (t) => {
  const h = await startServer(t)
  const s = h.server
  t.ok(s.readOnlyToken, 'the test tokens include the read-only identity')
  const create = await request(s, 'POST', SECRETS, {
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, stringData: { v: SECRET_VALUE } }),
    contentType: 'application/json',
  })
  t.equal(create.status, 201)
  const reads: Array<[string, string]> = [
    [`${SECRETS}/s1`, 'application/vnd.kubernetes.protobuf, */*'],
    [SECRETS, 'application/vnd.kubernetes.protobuf, */*'],
    [`${SECRETS}?watch=true&timeoutSeconds=1`, 'application/vnd.kubernetes.protobuf, */*'],
    [`${SECRETS}/s1`, partial('PartialObjectMetadata')],
    [SECRETS, partial('PartialObjectMetadataList')],
    [`${SECRETS}?watch=true&timeoutSeconds=1`, partial('PartialObjectMetadata')],
    [SECRETS, `${PB};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json`],
  ]
  for (const [path, accept] of reads) {
    const anon = await request(s, 'GET', path, { accept, token: null })
    t.equal(anon.status, 401, `no token: ${path} as ${accept}`)
    const reader = await request(s, 'GET', path, { accept, token: s.readOnlyToken })
    t.equal(reader.status, 403, `the view identity: ${path} as ${accept}`)
    t.notOk(reader.text.includes(SECRET_VALUE) || reader.text.includes(Buffer.from(SECRET_VALUE).toString('base64')))
  }
  const meta = await request(s, 'GET', SECRETS, { accept: partial('PartialObjectMetadataList') })
  t.equal(meta.status, 200)
  t.notOk(meta.text.includes(Buffer.from(SECRET_VALUE).toString('base64')), "the admin's metadata-only list has no data")
  t.notOk('data' in meta.json().items[0])
})
