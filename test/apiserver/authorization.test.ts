// The request-target rule (one normal form or 400), the verbs requests are authorized as, and the
// wording of a denial.
import t from 'tap'
import { parseApiPath, parseRequestTarget } from '../../src/apiserver/paths.ts'
import { forbidden, requestAttributes } from '../../src/apiserver/authorizer.ts'
import { ApiError } from '../../src/apiserver/status.ts'
import type { UserInfo } from '../../src/apiserver/user.ts'
import { request, startServer } from './harness.ts'

t.test('spellings of a target parse to its normal form', async (t) => {
  const normal = parseRequestTarget('/api/v1/namespaces/zlh-system/secrets/k?watch=1')
  t.same(normal, {
    segments: ['api', 'v1', 'namespaces', 'zlh-system', 'secrets', 'k'],
    path: '/api/v1/namespaces/zlh-system/secrets/k',
    query: 'watch=1',
  })
  for (const spelling of [
    '/api/v1/namespaces/zlh-system/%73ecrets/k?watch=1',
    '/%61pi/v1/namespaces/zlh-system/secrets/%6B?watch=1',
    '/api/v1/namespaces/zlh-system/secrets/k/?watch=1',
  ]) {
    t.same(parseRequestTarget(spelling), normal, spelling)
  }
  t.same(parseRequestTarget('/'), { segments: [], path: '/', query: '' })
  t.same(
    parseRequestTarget('/api/v1/configmaps?a=%2F..%2F'),
    { segments: ['api', 'v1', 'configmaps'], path: '/api/v1/configmaps', query: 'a=%2F..%2F' },
    'the query is left alone',
  )
})

t.test('targets with no single normal form are 400s', async (t) => {
  for (const [target, why] of [
    ['https://127.0.0.1:6443/api/v1/secrets', /not a path/],
    ['http://x/api', /not a path/],
    ['*', /not a path/],
    ['api/v1', /not a path/],
    ['', /not a path/],
    ['/api//v1/secrets', /empty segment/],
    ['//api/v1', /empty segment/],
    ['/api/v1/secrets//', /empty segment/],
    ['/api/./v1', /"\."/],
    ['/api/v1/x/../secrets', /"\.\."/],
    ['/api/%2e%2E/secrets', /"\.\."/],
    ['/api/v1/%2e', /"\."/],
    ['/api/v1/namespaces/a%2Fb/secrets', /%2F/],
    ['/api/v1/secrets%2f', /%2F/],
    ['/api/v1/secrets%00', /NUL/],
    ['/api/v1/%zz', /percent-encoding/],
    ['/api/v1/%E0%A4%A', /percent-encoding/],
    ['/api/v1/secrets#x', /fragment/],
  ] as const) {
    let err: unknown
    try {
      parseRequestTarget(target)
    } catch (e) {
      err = e
    }
    t.ok(
      err instanceof ApiError && err.code === 400 && why.test(err.message),
      `${JSON.stringify(target)} → 400 ${why}: ${(err as Error | undefined)?.message}`,
    )
  }
})

t.test('API paths from decoded segments; nothing is decoded twice', async (t) => {
  const api = (p: string) => parseApiPath(parseRequestTarget(p).segments)
  t.same(api('/api/v1/namespaces/x/%2573ecrets'), {
    type: 'resource',
    group: '',
    version: 'v1',
    resource: '%73ecrets',
    namespace: 'x',
    name: undefined,
    subresource: undefined,
    legacyWatch: false,
  })
  t.match(api('/api/v1/watch/namespaces/x/secrets/k'), {
    type: 'resource',
    resource: 'secrets',
    namespace: 'x',
    name: 'k',
    legacyWatch: true,
  })
  t.match(api('/apis/zerolaghub.dev/v1alpha1/namespaces/x/gameservers/g/status'), {
    group: 'zerolaghub.dev',
    resource: 'gameservers',
    name: 'g',
    subresource: 'status',
  })
  t.match(api('/api/v1/namespaces/x/finalize'), { resource: 'namespaces', name: 'x', subresource: 'finalize' })
  t.same(api('/api/v1'), { type: 'groupVersion', group: '', version: 'v1' })
  t.equal(api('/api/v1/watch'), undefined)
  t.equal(api('/openapi/v3'), undefined)
})

t.test("verbs as kube-apiserver's RequestInfo; the reader (bound to view) may read all but Secrets and write nothing", async (t) => {
  const h = await startServer(t)
  const attrs = (method: string, target: string) => {
    const p = parseRequestTarget(target)
    return requestAttributes(method, p.path, parseApiPath(p.segments), p.query)
  }
  for (const ns of ['x'])
    await request(h.server, 'POST', '/api/v1/namespaces', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
      contentType: 'application/json',
    })
  const cases: Array<[string, string, string, boolean]> = [
    ['GET', '/api/v1/secrets', 'list', false],
    ['GET', '/api/v1/secrets?watch=true', 'watch', false],
    ['HEAD', '/api/v1/namespaces/x/secrets/k', 'get', false],
    ['GET', '/api/v1/watch/namespaces/x/secrets/k', 'watch', false],
    ['GET', '/api/v1/namespaces/x/secrets/k?watch=1', 'watch', false],
    ['GET', '/api/v1/namespaces/x/secrets/k/status', 'get', false],
    ['GET', '/api/v1/namespaces/x/configmaps', 'list', true],
    ['GET', '/api', 'get', true],
    ['GET', '/version', 'get', true],
    ['POST', '/api/v1/namespaces/x/configmaps', 'create', false],
    ['PUT', '/api/v1/namespaces/x/configmaps/c', 'update', false],
    ['PATCH', '/api/v1/namespaces/x/configmaps/c', 'patch', false],
    ['DELETE', '/api/v1/namespaces/x/configmaps/c', 'delete', false],
    ['DELETE', '/api/v1/namespaces/x/configmaps', 'deletecollection', false],
    ['OPTIONS', '/api/v1/namespaces', 'options', false],
  ]
  for (const [method, target, verb, allowed] of cases) {
    t.equal(attrs(method, target).verb, verb, `${method} ${target} is ${verb}`)
    const r = await request(h.server, method, target, {
      token: h.server.readOnlyToken,
      ...(method === 'POST' || method === 'PUT' || method === 'PATCH'
        ? { body: '{}', contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }
        : {}),
    })
    t.equal(r.status === 403, !allowed, `the reader ${allowed ? 'may' : 'may not'} ${method} ${target} (${r.status})`)
  }
})

t.test("denials read like kube-apiserver's", async (t) => {
  const reader: UserInfo = { name: 'reader', groups: ['zlh:viewers', 'system:authenticated'] }
  const deny = (method: string, target: string) => {
    const p = parseRequestTarget(target)
    const a = requestAttributes(method, p.path, parseApiPath(p.segments), p.query)
    // RBAC denies without a reason; the message is kube-apiserver's exactly.
    return forbidden(reader, a, undefined).toStatus()
  }
  t.match(deny('GET', '/api/v1/namespaces/x/secrets'), {
    code: 403,
    reason: 'Forbidden',
    message: /^secrets is forbidden: User "reader" cannot list resource "secrets" in API group "" in the namespace "x"$/,
    details: { group: '', kind: 'secrets' },
  })
  t.match(deny('GET', '/api/v1/secrets'), {
    message: /^secrets is forbidden: User "reader" cannot list resource "secrets" in API group "" at the cluster scope$/,
  })
  t.match(deny('GET', '/api/v1/namespaces/x/secrets/k/status'), {
    message: /^secrets "k" is forbidden: User "reader" cannot get resource "secrets\/status" in API group "" in the namespace "x"/,
    details: { name: 'k' },
  })
  t.match(deny('PATCH', '/apis/zerolaghub.dev/v1alpha1/namespaces/x/gameservers/g'), {
    message:
      /^gameservers\.zerolaghub\.dev "g" is forbidden: User "reader" cannot patch resource "gameservers" in API group "zerolaghub\.dev" in the namespace "x"$/,
  })
  t.match(deny('POST', '/version'), { message: /^forbidden: User "reader" cannot post path "\/version"/ })
})
