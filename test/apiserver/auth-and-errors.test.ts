// Authentication, roles, and the metav1.Status errors of the common failure modes.
import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer } from './harness.ts'

const CM = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, ...extra })

t.test('anonymous and unknown tokens get 401, the reader (view) 403 on writes', async (t) => {
  const h = await startServer(t)
  const s = h.server
  t.equal(statSync(join(h.dir, 'data', 'tokens.json')).mode & 0o777, 0o600, 'tokens file is 0600')
  const file = JSON.parse(readFileSync(join(h.dir, 'data', 'tokens.json'), 'utf8'))
  t.match(
    file.tokens,
    [
      { token: s.adminToken, user: 'admin', groups: ['system:masters'] },
      { token: s.readOnlyToken, user: 'reader', groups: ['zlh:viewers'] },
    ],
    'a new file: an admin (system:masters) and a reader (zlh:viewers)',
  )
  let r = await request(s, 'GET', '/api/v1/namespaces', { token: null })
  t.equal(r.status, 401)
  t.match(r.json(), { kind: 'Status', reason: 'Unauthorized', code: 401 })
  r = await request(s, 'GET', '/api/v1/namespaces', { token: 'not-a-real-token-at-all' })
  t.equal(r.status, 401)
  r = await request(s, 'GET', '/healthz', { token: null })
  t.equal(r.status, 200, 'health probes need no token')
  t.equal(r.text, 'ok')
  r = await request(s, 'GET', '/api/v1/namespaces', { token: s.readOnlyToken })
  t.equal(r.status, 200, 'read-only may read')
  r = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', {
    token: s.readOnlyToken,
    body: CM('x'),
    contentType: 'application/json',
  })
  t.equal(r.status, 403)
  t.match(r.json(), { reason: 'Forbidden', code: 403 })
  r = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', { body: CM('x'), contentType: 'application/json' })
  t.equal(r.status, 201, 'admin may write')
})

t.test('status errors: 400, 404, 409, 413, 415, 422', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const post = (path: string, body: string | Buffer, contentType = 'application/json') => request(s, 'POST', path, { body, contentType })
  let r = await post('/api/v1/namespaces/default/configmaps', '{"apiVersion": "v1", kind')
  t.equal(r.status, 400)
  t.match(r.json(), { kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400, message: /not valid JSON/ })
  r = await request(s, 'GET', '/api/v1/namespaces/default/configmaps/missing')
  t.match(r.json(), { reason: 'NotFound', code: 404, message: 'configmaps "missing" not found' })
  r = await request(s, 'GET', '/apis/nope.example.com/v1/things')
  t.equal(r.status, 404)
  t.equal((await post('/api/v1/namespaces/default/configmaps', CM('dup'))).status, 201)
  r = await post('/api/v1/namespaces/default/configmaps', CM('dup'))
  t.match(r.json(), { reason: 'AlreadyExists', code: 409 })
  r = await post('/api/v1/namespaces/default/configmaps', CM('big', { data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }))
  t.equal(r.status, 413)
  t.match(r.json(), { reason: 'RequestEntityTooLarge', code: 413 })
  r = await post('/api/v1/namespaces/default/configmaps', CM('p'), 'application/x-www-form-urlencoded')
  t.equal(r.status, 415)
  t.match(r.json(), { reason: 'UnsupportedMediaType' })
  r = await post('/api/v1/namespaces/default/configmaps', CM('Bad_Name'))
  t.equal(r.status, 422)
  t.match(r.json(), { reason: 'Invalid', details: { causes: [{ field: 'metadata.name' }] } })
  r = await post('/api/v1/namespaces/nowhere/configmaps', CM('x'))
  t.match(r.json(), { reason: 'NotFound', message: 'namespaces "nowhere" not found' })
  r = await request(s, 'GET', '/readyz')
  t.equal(r.status, 200, 'still serving')
})

t.test('a CRD with a non-structural schema is refused with 422 and field paths', async (t) => {
  const h = await startServer(t)
  const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
  delete crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.type
  const r = await request(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify(crd),
    contentType: 'application/json',
  })
  t.equal(r.status, 422)
  t.match(r.json(), {
    reason: 'Invalid',
    details: { causes: [{ field: /^spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.type/ }] },
  })
})

t.test('a CRD makes its kind served at once; validation, defaulting and pruning apply', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
  let r = await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify(crd),
    contentType: 'application/json',
  })
  t.equal(r.status, 201)
  t.match(r.json().status.conditions, [
    { type: 'NamesAccepted', status: 'True' },
    { type: 'Established', status: 'True' },
  ])
  const gs = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'g1', namespace: 'default' },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 0 }, bogus: 1 },
  }
  r = await request(s, 'POST', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers', {
    body: JSON.stringify(gs),
    contentType: 'application/json',
  })
  t.equal(r.status, 422)
  t.match(r.json(), { reason: 'Invalid', details: { causes: [{ field: 'spec.server.port' }] } })
  gs.spec.server.port = 25565
  r = await request(s, 'POST', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers?fieldValidation=Strict', {
    body: JSON.stringify(gs),
    contentType: 'application/json',
  })
  t.equal(r.status, 400, 'Strict refuses unknown fields')
  t.match(r.json().message, /unknown field "spec.bogus"/)
  r = await request(s, 'POST', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers?fieldValidation=Warn', {
    body: JSON.stringify(gs),
    contentType: 'application/json',
  })
  t.equal(r.status, 201)
  t.match(String(r.headers.warning), /299 - "unknown field \\"spec.bogus\\""/)
  const created = r.json()
  t.notOk('bogus' in created.spec, 'unknown field pruned')
  t.equal(created.spec.supervision?.restartPolicy, 'Always', 'defaults applied')
  r = await request(s, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gameservers.zerolaghub.dev')
  t.equal(r.status, 200)
  r = await request(s, 'GET', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers')
  t.equal(r.status, 404, 'kind no longer served')
})
