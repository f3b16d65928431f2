// A corpus of bad requests: each gets a metav1.Status with the right code and reason, and the
// server keeps serving.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer } from './harness.ts'

const GS = '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers'
const CM = '/api/v1/namespaces/default/configmaps'
const gs = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'GameServer',
  metadata: { name },
  spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 }, ...spec },
})
const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra })

interface Case {
  what: string
  method: string
  path: string
  body?: unknown
  raw?: string
  type?: string
  code: number
  reason: string
  message?: RegExp
  field?: string
}

const cases: Case[] = [
  {
    what: 'malformed JSON',
    method: 'POST',
    path: CM,
    raw: '{"apiVersion":"v1",',
    code: 400,
    reason: 'BadRequest',
    message: /not valid JSON/,
  },
  {
    what: 'malformed YAML',
    method: 'POST',
    path: CM,
    raw: 'a: [1, 2\nb: }',
    type: 'application/yaml',
    code: 400,
    reason: 'BadRequest',
    message: /not valid YAML/,
  },
  { what: 'empty body', method: 'POST', path: CM, raw: '', code: 400, reason: 'BadRequest', message: /empty/ },
  { what: 'a JSON array', method: 'POST', path: CM, raw: '[]', code: 400, reason: 'BadRequest' },
  {
    what: 'wrong kind',
    method: 'POST',
    path: CM,
    body: { ...cm('a'), kind: 'Secret' },
    code: 400,
    reason: 'BadRequest',
    message: /kind in the data \(Secret\)/,
  },
  {
    what: 'wrong apiVersion',
    method: 'POST',
    path: GS,
    body: { ...gs('a'), apiVersion: 'zerolaghub.dev/v9' },
    code: 400,
    reason: 'BadRequest',
    message: /API version in the data/,
  },
  // A custom resource must name its kind (kube-apiserver's unstructured decoder); a built-in's is
  // taken from the endpoint (see 'built-in bodies without kind' below).
  {
    what: 'missing kind',
    method: 'POST',
    path: GS,
    body: { apiVersion: 'zerolaghub.dev/v1alpha1', metadata: { name: 'a' }, spec: gs('a').spec },
    code: 400,
    reason: 'BadRequest',
    message: /Kind' is missing/,
  },
  { what: 'name too long', method: 'POST', path: CM, body: cm('a'.repeat(254)), code: 422, reason: 'Invalid', field: 'metadata.name' },
  { what: 'name with bad characters', method: 'POST', path: GS, body: gs('Not_OK'), code: 422, reason: 'Invalid', field: 'metadata.name' },
  {
    what: 'no name at all',
    method: 'POST',
    path: CM,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} },
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  },
  {
    what: 'namespace name too long',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n'.repeat(64) } },
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  },
  {
    what: 'bad label value',
    method: 'POST',
    path: CM,
    body: cm('a', { metadata: { name: 'a', labels: { ok: 'not ok!' } } }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.labels',
  },
  {
    what: 'missing namespace',
    method: 'POST',
    path: '/apis/zerolaghub.dev/v1alpha1/gameservers',
    body: gs('a'),
    code: 405,
    reason: 'MethodNotAllowed',
  },
  {
    what: 'namespace mismatch',
    method: 'POST',
    path: CM,
    body: cm('a', { metadata: { name: 'a', namespace: 'other' } }),
    code: 400,
    reason: 'BadRequest',
    message: /does not match the namespace/,
  },
  { what: 'unknown namespace', method: 'POST', path: '/api/v1/namespaces/ghost/configmaps', body: cm('a'), code: 404, reason: 'NotFound' },
  {
    what: 'schema: wrong type',
    method: 'POST',
    path: GS,
    body: gs('a', { server: { command: 'x', port: 25565 } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.server.command',
  },
  {
    what: 'schema: missing required',
    method: 'POST',
    path: GS,
    body: { ...gs('a'), spec: { game: 'minecraft' } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.runtime',
  },
  {
    what: 'schema: pattern',
    method: 'POST',
    path: GS,
    body: gs('a', { game: 'Bad Game' }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.game',
  },
  {
    what: 'schema: oneOf',
    method: 'POST',
    path: GS,
    body: gs('a', { runtime: { name: 'node' } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.runtime',
  },
  {
    what: 'oversize body',
    method: 'POST',
    path: CM,
    body: cm('a', { data: { x: 'y'.repeat(3 * 1024 * 1024) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  },
  { what: 'unsupported media type', method: 'POST', path: CM, raw: '{}', type: 'text/plain', code: 415, reason: 'UnsupportedMediaType' },
  {
    what: 'bad label selector',
    method: 'GET',
    path: `${GS}?labelSelector=${encodeURIComponent('a in (b')}`,
    code: 400,
    reason: 'BadRequest',
  },
  {
    what: 'bad field selector',
    method: 'GET',
    path: `${GS}?fieldSelector=${encodeURIComponent('spec.game=x')}`,
    code: 400,
    reason: 'BadRequest',
  },
  { what: 'bad limit', method: 'GET', path: `${GS}?limit=-1`, code: 400, reason: 'BadRequest' },
  { what: 'forged continue token', method: 'GET', path: `${GS}?limit=1&continue=garbage`, code: 400, reason: 'BadRequest' },
  { what: 'watch from a non-numeric RV', method: 'GET', path: `${GS}?watch=true&resourceVersion=abc`, code: 400, reason: 'BadRequest' },
  { what: 'bad dryRun', method: 'POST', path: `${CM}?dryRun=Some`, body: cm('a'), code: 400, reason: 'BadRequest' },
  { what: 'bad fieldValidation', method: 'POST', path: `${CM}?fieldValidation=Loose`, body: cm('a'), code: 400, reason: 'BadRequest' },
  {
    what: 'JSON patch that is not a list',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: { op: 'add' },
    type: 'application/json-patch+json',
    code: 400,
    reason: 'BadRequest',
  },
  {
    what: 'JSON patch with an unknown op',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: [{ op: 'frob', path: '/spec' }],
    type: 'application/json-patch+json',
    code: 400,
    reason: 'BadRequest',
  },
  {
    what: 'JSON patch on a missing path',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: [{ op: 'replace', path: '/spec/nothing/here', value: 1 }],
    type: 'application/json-patch+json',
    code: 422,
    reason: 'Invalid',
  },
  {
    what: 'merge patch that is not an object',
    method: 'PATCH',
    path: `${GS}/exists`,
    raw: '[1]',
    type: 'application/merge-patch+json',
    code: 400,
    reason: 'BadRequest',
  },
  {
    what: 'merge patch breaking the schema',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: { spec: { server: { port: 'x' } } },
    type: 'application/merge-patch+json',
    code: 422,
    reason: 'Invalid',
    field: 'spec.server.port',
  },
  {
    what: 'strategic merge patch on a custom resource',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: { spec: {} },
    type: 'application/strategic-merge-patch+json',
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    what: 'apply without fieldManager',
    method: 'PATCH',
    path: `${GS}/exists`,
    body: gs('exists'),
    type: 'application/apply-patch+yaml',
    code: 400,
    reason: 'BadRequest',
    message: /fieldManager/,
  },
  {
    what: 'patch of a missing object',
    method: 'PATCH',
    path: `${GS}/ghost`,
    body: {},
    type: 'application/merge-patch+json',
    code: 404,
    reason: 'NotFound',
  },
  {
    what: 'PUT with another name',
    method: 'PUT',
    path: `${GS}/exists`,
    body: gs('other'),
    code: 400,
    reason: 'BadRequest',
    message: /does not match the name/,
  },
  { what: 'bad propagationPolicy', method: 'DELETE', path: `${GS}/exists?propagationPolicy=Sideways`, code: 422, reason: 'Invalid' },
  {
    what: 'unknown resource',
    method: 'GET',
    path: '/apis/zerolaghub.dev/v1alpha1/namespaces/default/widgets',
    code: 404,
    reason: 'NotFound',
  },
  { what: 'unknown group', method: 'GET', path: '/apis/nothing.example.com/v1', code: 404, reason: 'NotFound' },
  { what: 'unknown subresource', method: 'GET', path: `${GS}/exists/scale`, code: 404, reason: 'NotFound' },
  { what: 'POST to a named object', method: 'POST', path: `${GS}/exists`, body: gs('exists'), code: 405, reason: 'MethodNotAllowed' },
]

t.test('bad requests get the right Status and the server keeps serving', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
  await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify(crd),
    contentType: 'application/json',
  })
  t.equal((await request(s, 'POST', GS, { body: JSON.stringify(gs('exists')), contentType: 'application/json' })).status, 201)
  for (const c of cases) {
    const body = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body))
    const r = await request(s, c.method, c.path, { body, contentType: body === undefined ? undefined : (c.type ?? 'application/json') })
    t.equal(r.status, c.code, `${c.what}: HTTP ${c.code} (${r.text.slice(0, 200)})`)
    const st = r.json()
    t.match(st, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: c.code, reason: c.reason }, `${c.what}: Status ${c.reason}`)
    if (c.message) t.match(st.message, c.message, `${c.what}: message`)
    if (c.field)
      t.ok(
        st.details?.causes?.some((x: { field: string }) => x.field === c.field),
        `${c.what}: cause names ${c.field}`,
      )
  }
  t.equal((await request(s, 'GET', '/readyz')).status, 200)
  t.equal(
    (await request(s, 'POST', CM, { body: JSON.stringify(cm('fine')), contentType: 'application/json' })).status,
    201,
    'still serving writes',
  )
  const list = (await request(s, 'GET', GS)).json()
  t.same(
    list.items.map((o: any) => o.metadata.name),
    ['exists'],
    'no bad request left anything behind',
  )
})

// Verified on kube-apiserver v1.32: a POST or PUT of a built-in without kind or apiVersion is read
// as the endpoint's kind (typed clients such as the Python client leave both out); a wrong one is
// still refused, and an apply patch must carry both.
t.test("built-in bodies without kind or apiVersion take the endpoint's, as kube-apiserver", async (t) => {
  const h = await startServer(t)
  for (const [name, body] of [
    ['no-kind', { apiVersion: 'v1', metadata: { name: 'no-kind' } }],
    ['no-version', { kind: 'ConfigMap', metadata: { name: 'no-version' } }],
    ['neither', { metadata: { name: 'neither' }, data: { a: 'b' } }],
  ] as const) {
    const r = await request(h.server, 'POST', CM, { body: JSON.stringify(body), contentType: 'application/json' })
    t.equal(r.status, 201, `${name}: created (${r.text.slice(0, 120)})`)
    t.same([r.json().kind, r.json().apiVersion], ['ConfigMap', 'v1'], `${name}: answered as a v1 ConfigMap`)
  }
  const cur = (await request(h.server, 'GET', `${CM}/neither`)).json()
  const put = await request(h.server, 'PUT', `${CM}/neither`, {
    body: JSON.stringify({ metadata: { name: 'neither', resourceVersion: cur.metadata.resourceVersion }, data: { a: 'c' } }),
    contentType: 'application/json',
  })
  t.equal(put.status, 200, `an update without kind too: ${put.text.slice(0, 120)}`)
  const sa = await request(h.server, 'POST', '/api/v1/namespaces/default/serviceaccounts', {
    body: JSON.stringify({ metadata: { name: 'robot' } }),
    contentType: 'application/json',
  })
  t.equal(sa.status, 201, 'a ServiceAccount as the Python client sends it')
  const apply = await request(h.server, 'PATCH', `${CM}/applied?fieldManager=t`, {
    body: JSON.stringify({ metadata: { name: 'applied' } }),
    contentType: 'application/apply-patch+yaml',
  })
  t.equal(apply.status, 400, 'an apply patch without kind is refused')
})
