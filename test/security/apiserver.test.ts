// Security regression suite of the embedded API server (issue 16, findings 3 and 6 and the API
// server's share of finding 1; issue 18: the reader is bound to the "view" ClusterRole by RBAC):
// the read-only identity reads no Secret by any route or spelling,
// no route answers without a token, request targets with no single normal form are refused, deep
// and huge bodies get 400/413 naming the limit, and NUL bytes in a GameServer's process fields are
// refused at admission with the field path.
import t, { type Test } from 'tap'
import { connect } from 'node:tls'
import { startServer, request, writeTemp, CRDS, REPO, type Harness } from '../apiserver/harness.ts'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

const b64 = (s: string) => Buffer.from(s).toString('base64')

// Secret values shaped like the running system's, each a marker to look for in every response.
const SIGNING_KEY = 'signing-key-6f1d0c9a7e2b4d83a5c1f0e9d8b7a6c5'
const PORTAL_TOKENS = '{"tokens":[{"id":"t1","hash":"portal-hash-0b7e5d3c1a9f8e6d4c2b0a9f8e7d6c5b"}]}'
const AGENT_TOKEN = 'agent-token-3c5e7a9b1d2f4e6a8c0b2d4f6e8a0c2e'
const MARKERS = [SIGNING_KEY, PORTAL_TOKENS, AGENT_TOKEN]
  .flatMap((m) => [m, b64(m)])
  .concat(['signing-key-6f1d0c9a', 'portal-hash-0b7e5d3c', 'agent-token-3c5e7a9b'])

const leaked = (body: string) => MARKERS.filter((m) => body.includes(m))

interface RawResponse {
  status: number
  headers: string
  body: string
}

/** One request over a raw TLS socket, the target sent exactly as given; the body de-chunked. */
function rawRequest(
  h: Harness,
  target: string,
  opts: { method?: string; token?: string | null; accept?: string; body?: string; contentType?: string } = {},
): Promise<RawResponse> {
  const s = h.server
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: s.port, ca: s.caPem })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`no complete response to ${target} within 20 s`))
    }, 20_000)
    sock.on('data', (d: Buffer) => chunks.push(d))
    sock.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    sock.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const sep = text.indexOf('\r\n\r\n')
      const headers = sep < 0 ? text : text.slice(0, sep)
      let body = sep < 0 ? '' : text.slice(sep + 4)
      if (/^transfer-encoding:\s*chunked/im.test(headers)) body = dechunk(body)
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
        headers,
        body: Buffer.from(body, 'latin1').toString('utf8'),
      })
    })
    const token = opts.token === undefined ? s.readOnlyToken : opts.token
    const lines = [`${opts.method ?? 'GET'} ${target} HTTP/1.1`, `Host: 127.0.0.1:${s.port}`, 'Connection: close']
    if (token) lines.push(`Authorization: Bearer ${token}`)
    if (opts.accept) lines.push(`Accept: ${opts.accept}`)
    if (opts.body !== undefined)
      lines.push(`Content-Type: ${opts.contentType ?? 'application/json'}`, `Content-Length: ${Buffer.byteLength(opts.body)}`)
    sock.end(`${lines.join('\r\n')}\r\n\r\n${opts.body ?? ''}`)
  })
}

function dechunk(s: string): string {
  let out = ''
  let i = 0
  for (let n = 0; n < 100_000 && i < s.length; n++) {
    const eol = s.indexOf('\r\n', i)
    if (eol < 0) break
    const size = parseInt(s.slice(i, eol), 16)
    if (!(size > 0)) break
    out += s.slice(eol + 2, eol + 2 + size)
    i = eol + 2 + size + 2
  }
  return out
}

const GS_CRD = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
const gameServer = (name: string, server: Record<string, unknown> = {}) => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'GameServer',
  metadata: { name, namespace: 'tenant-a' },
  spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['node', 'server.js'], port: 25565, ...server } },
})

/** A server holding the system's Secrets, a tenant namespace with a GameServer, and a read-only kubeconfig. */
async function seeded(t: Test): Promise<{ h: Harness; readerKubeconfig: string }> {
  const h = await startServer(t)
  const s = h.server
  const post = async (path: string, obj: unknown) => {
    const r = await request(s, 'POST', path, { body: JSON.stringify(obj), contentType: 'application/json' })
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text}`)
  }
  await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', GS_CRD)
  for (const ns of ['zlh-system', 'tenant-a'])
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  const secret = (namespace: string, name: string, data: Record<string, string>, managedBy: string) =>
    post(`/api/v1/namespaces/${namespace}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': managedBy } },
      data,
    })
  await secret('zlh-system', 'zlh-gateway-signing-key', { key: b64(SIGNING_KEY) }, 'zlh-gateway')
  await secret('zlh-system', 'zlh-gateway-api-tokens', { tokens: b64(PORTAL_TOKENS) }, 'zlh-gateway')
  await secret('tenant-a', 'squid-agent-token', { token: b64(AGENT_TOKEN) }, 'zlh-controller')
  // The CRD is served at once, but its storage path may need a moment on a loaded machine: bounded retry.
  for (let i = 0; ; i++) {
    const r = await request(s, 'POST', '/apis/zerolaghub.dev/v1alpha1/namespaces/tenant-a/gameservers', {
      body: JSON.stringify(gameServer('squid')),
      contentType: 'application/json',
    })
    if (r.status === 201) break
    if (i >= 50) throw new Error(`GameServer create: ${r.status} ${r.text}`)
    await new Promise((res) => setTimeout(res, 100))
  }
  // As `zlh up` does: our kinds aggregate into view/edit/admin (the reader is bound to view by RBAC's bootstrap policy).
  await h.k('apply', '--server-side', '-f', join(REPO, 'manifests', 'base', 'rbac-aggregate.yaml'))
  const readerKubeconfig = writeTemp(h, 'reader.kubeconfig', s.kubeconfigYaml(s.readOnlyToken))
  return { h, readerKubeconfig }
}

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io'
const PARTIAL = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'
const PARTIAL_ONE = 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io'

t.test('the read-only token reads no Secret by any route, representation or spelling', async (t) => {
  const { h } = await seeded(t)
  const key = '/api/v1/namespaces/zlh-system/secrets/zlh-gateway-signing-key'
  const routes = [
    '/api/v1/secrets',
    '/api/v1/secrets?limit=1',
    '/api/v1/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dzlh-gateway',
    '/api/v1/namespaces/zlh-system/secrets',
    '/api/v1/namespaces/tenant-a/secrets',
    key,
    '/api/v1/namespaces/tenant-a/secrets/squid-agent-token',
    '/api/v1/namespaces/zlh-system/secrets?fieldSelector=metadata.name%3Dzlh-gateway-signing-key',
    `${key}/status`,
    // Watches, both styles, namespaced and cluster-wide; bounded by timeoutSeconds.
    '/api/v1/secrets?watch=1&timeoutSeconds=1',
    '/api/v1/secrets?watch=true&timeoutSeconds=1',
    '/api/v1/watch/secrets?timeoutSeconds=1',
    '/api/v1/watch/namespaces/zlh-system/secrets?timeoutSeconds=1',
    '/api/v1/watch/namespaces/zlh-system/secrets/zlh-gateway-signing-key?timeoutSeconds=1',
    `${key}?watch=1&timeoutSeconds=1`,
    // Other spellings of the same targets.
    '/api/v1/namespaces/zlh-system/%73ecrets/zlh-gateway-signing-key',
    '/api/v1/namespaces/zlh-system/secrets/%7alh-gateway-signing-key',
    '/%61pi/v1/secrets',
    '/api/v1/%73ecrets',
    '/api/%761/secrets',
    '/api/v1/secrets/',
    `${key}/`,
    '/api/v1/secrets?',
    `${key}?x=1#y`,
    '/api//v1/secrets',
    '/api/v1//secrets',
    '/api/v1/./secrets',
    '/api/v1/x/../secrets',
    '/api/v1/%2e%2e/v1/secrets',
    '/api/v1/%2E/secrets',
    '/api/v1/namespaces/zlh-system/secrets%2Fzlh-gateway-signing-key',
    '/api/v1/namespaces%2Fzlh-system%2Fsecrets',
    '/api%2Fv1%2Fsecrets',
    '/healthz/../api/v1/secrets',
    '/healthz/%2e%2e/api/v1/secrets',
    '/livez/..%2Fapi/v1/secrets',
    '/api/v1/secrets%00',
    '/api/v1/%zz/secrets',
    `https://127.0.0.1:${h.server.port}/api/v1/secrets`,
    `https://127.0.0.1:${h.server.port}${key}`,
    `http://127.0.0.1:${h.server.port}/api/v1/secrets`,
    `https://localhost/api/v1/namespaces/zlh-system/secrets`,
    '*',
    // A group-less lookup must not reach another resource's storage key.
    '/api/v1/namespaces/zlh-system/secrets.',
    '/apis//v1/secrets',
  ]
  const accepts = [undefined, 'application/json', 'application/yaml', TABLE, PARTIAL, PARTIAL_ONE, '*/*']
  let tried = 0
  for (const target of routes) {
    // A watch that is served runs for its timeoutSeconds: the representations a watch can have suffice.
    for (const accept of /watch/.test(target) ? [undefined, TABLE] : accepts) {
      for (const extra of ['', target.includes('?') ? '&includeObject=Object' : '?includeObject=Object']) {
        if (extra && accept !== TABLE) continue
        for (const method of ['GET', 'HEAD']) {
          const r = await rawRequest(h, target + extra, { method, accept })
          tried++
          const bad = leaked(r.body + r.headers)
          if (bad.length > 0 || (r.status >= 200 && r.status < 300))
            t.fail(`${method} ${target + extra} (Accept: ${accept ?? '-'}) → ${r.status}, leaked ${bad.length} marker(s)`)
        }
      }
    }
  }
  t.ok(tried > 400, `${tried} requests tried, none answered 2xx or leaked a secret`)

  // The normal forms are denied with Kubernetes' wording.
  let r = await rawRequest(h, '/api/v1/namespaces/zlh-system/secrets')
  t.equal(r.status, 403)
  t.match(JSON.parse(r.body), {
    kind: 'Status',
    reason: 'Forbidden',
    code: 403,
    message: /^secrets is forbidden: User "reader" cannot list resource "secrets" in API group "" in the namespace "zlh-system"/,
    details: { group: '', kind: 'secrets' },
  })
  r = await rawRequest(h, '/api/v1/secrets?watch=1')
  t.match(JSON.parse(r.body), {
    code: 403,
    message: /^secrets is forbidden: User "reader" cannot watch resource "secrets" in API group "" at the cluster scope/,
  })
  r = await rawRequest(h, key)
  t.match(JSON.parse(r.body), {
    code: 403,
    message:
      /^secrets "zlh-gateway-signing-key" is forbidden: User "reader" cannot get resource "secrets" in API group "" in the namespace "zlh-system"/,
    details: { name: 'zlh-gateway-signing-key' },
  })
  r = await rawRequest(h, '/api/v1/namespaces/zlh-system/%73ecrets/zlh-gateway-signing-key')
  t.equal(r.status, 403, 'a percent-encoded spelling is authorized like its normal form')
  r = await rawRequest(h, `https://127.0.0.1:${h.server.port}/api/v1/secrets`)
  t.equal(r.status, 400, 'absolute-form is refused')
  t.match(JSON.parse(r.body), { reason: 'BadRequest', message: /not a path/ })
  r = await rawRequest(h, '/api/v1/x/../secrets')
  t.match(JSON.parse(r.body), { code: 400, message: /"\.\."/ })

  // Positive controls: the admin reads the Secret; the read-only token reads everything else.
  r = await rawRequest(h, key, { token: h.server.adminToken })
  t.equal(r.status, 200, 'admin reads the Secret')
  t.ok(r.body.includes(b64(SIGNING_KEY)), 'and sees its data (the markers are findable)')
  r = await rawRequest(h, '/apis/zerolaghub.dev/v1alpha1/namespaces/tenant-a/gameservers/squid')
  t.equal(r.status, 200, 'read-only reads a GameServer')
  t.equal(JSON.parse(r.body).metadata.name, 'squid')
  r = await rawRequest(h, '/apis/zerolaghub.dev/v1alpha1/gameservers', { accept: TABLE })
  t.equal(r.status, 200, 'read-only lists GameServers as a Table')
  for (const p of [
    '/api/v1/namespaces',
    '/api/v1/configmaps',
    '/api',
    '/apis',
    '/version',
    '/openapi/v3',
    '/api/v1/namespaces/tenant-a/configmaps?watch=1&timeoutSeconds=1',
  ]) {
    r = await rawRequest(h, p)
    t.equal(r.status, 200, `read-only reads ${p}`)
  }
  r = await rawRequest(h, '/api/v1/namespaces/tenant-a/configmaps', {
    method: 'POST',
    body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }),
  })
  t.equal(r.status, 403, 'read-only still may not write')
  t.match(JSON.parse(r.body), {
    message: /^configmaps is forbidden: User "reader" cannot create resource "configmaps" in API group "" in the namespace "tenant-a"/,
  })
})

t.test('kubectl with the read-only kubeconfig: Secrets forbidden, everything else readable', async (t) => {
  const { h, readerKubeconfig } = await seeded(t)
  const kc = (args: string[], timeoutMs = 30_000) => h.kubectl(args, { kubeconfig: readerKubeconfig, timeoutMs })
  for (const args of [
    ['get', 'secret', '-n', 'zlh-system', 'zlh-gateway-signing-key', '-o', 'yaml'],
    ['get', 'secrets', '-A', '-o', 'yaml'],
    ['get', 'secrets', '-A'],
    ['get', 'secrets', '-n', 'tenant-a', '-o', 'json'],
    ['get', 'secret', '-n', 'tenant-a', 'squid-agent-token', '-o', 'jsonpath={.data.token}'],
    ['get', '--raw', '/api/v1/secrets'],
  ]) {
    const r = await kc(args)
    t.not(r.code, 0, `kubectl ${args.join(' ')} fails`)
    t.match(r.stderr, /Forbidden|forbidden/, 'with Forbidden')
    t.same(leaked(r.stdout + r.stderr), [], 'and shows no secret data')
  }
  const list = await kc(['get', 'secrets', '-A'])
  t.match(
    list.stderr,
    /Error from server \(Forbidden\): secrets is forbidden: User "reader" cannot list resource "secrets" in API group "" at the cluster scope/,
    "in Kubernetes' words",
  )
  const w = await kc(['get', 'secrets', '-A', '-w', '--request-timeout=10s'], 20_000)
  t.not(w.code, 0, 'kubectl get secrets -w fails')
  t.same(leaked(w.stdout + w.stderr), [], 'a watch shows no secret data')
  const all = await kc(['get', 'all', '-A'])
  t.equal(all.code, 0, `kubectl get all -A works: ${all.stderr}`)
  const gs = await kc(['get', 'gameservers', '-A'])
  t.equal(gs.code, 0, 'kubectl get gameservers -A works')
  t.match(gs.stdout, /squid/)
  const admin = await h.kubectl(['get', 'secret', '-n', 'zlh-system', 'zlh-gateway-signing-key', '-o', 'jsonpath={.data.key}'])
  t.equal(admin.stdout, b64(SIGNING_KEY), 'the admin kubeconfig reads the Secret')
})

t.test('every route refuses requests without a valid token (health probes excepted)', async (t) => {
  const h = await startServer(t)
  const s = h.server
  t.ok(s.routes.length >= 10, `${s.routes.length} routes enumerated`)
  const concrete = (url: string) => url.replace(/\*$/, 'v1/namespaces/default/secrets').replace(/:[A-Za-z]+/g, 'x')
  let checked = 0
  for (const route of s.routes) {
    const path = concrete(route.url)
    const spellings = [
      path,
      `${path}/`,
      path.replace(/^\/(.)/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`),
      `https://127.0.0.1:${s.port}${path}`,
    ]
    for (const target of spellings) {
      for (const token of [null, 'not-a-token-of-this-server-0123456789']) {
        const r = await rawRequest(h, target, {
          method: route.method,
          token,
          ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: '{}' } : {}),
        })
        checked++
        const expected = target.startsWith('https:') ? [400] : route.anonymous ? [200] : [401]
        if (!expected.includes(r.status))
          t.fail(`${route.method} ${target} (${token ? 'bad token' : 'no token'}) → ${r.status}, expected ${expected}`)
      }
    }
    if (route.anonymous) t.match(route.url, /^\/(healthz|livez|readyz)(\/\*)?$/, `only health probes are anonymous: ${route.url}`)
  }
  t.ok(checked > 100, `${checked} unauthenticated requests checked`)
})

t.test('deep and huge bodies: 400/413 naming the limit, nothing stored, the server stays up', async (t) => {
  const { h } = await seeded(t)
  const s = h.server
  const deepArr = (n: number) => '['.repeat(n) + ']'.repeat(n)
  const deepObj = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
  const gsPath = '/apis/zerolaghub.dev/v1alpha1/namespaces/tenant-a/gameservers'
  const cases: Array<[string, string, string, string]> = [
    [
      'POST',
      gsPath,
      JSON.stringify(gameServer('deep1')).replace('"port":25565', `"port":25565,"x":${deepObj(10_000)}`),
      'application/json',
    ],
    [
      'POST',
      gsPath,
      JSON.stringify({ ...gameServer('deep2'), metadata: { name: 'deep2', labels: 'LABELS' } }).replace('"LABELS"', deepObj(10_000)),
      'application/json',
    ],
    [
      'POST',
      '/api/v1/namespaces/tenant-a/configmaps',
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep3"},"data":${deepArr(10_000)}}`,
      'application/json',
    ],
    [
      'POST',
      '/api/v1/namespaces/tenant-a/configmaps',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep4}\ndata: ${deepArr(10_000)}\n`,
      'application/yaml',
    ],
    ['PATCH', `${gsPath}/squid`, `{"spec":{"x":${deepObj(10_000)}}}`, 'application/merge-patch+json'],
    ['PATCH', `${gsPath}/squid`, `[{"op":"add","path":"/spec/x","value":${deepObj(10_000)}}]`, 'application/json-patch+json'],
    [
      'PATCH',
      `${gsPath}/squid?fieldManager=t`,
      JSON.stringify(gameServer('squid')).replace('"port":25565', `"port":25565,"x":${deepObj(10_000)}`),
      'application/apply-patch+yaml',
    ],
    [
      'PATCH',
      '/api/v1/namespaces/tenant-a/secrets/squid-agent-token',
      `{"data":${deepObj(10_000)}}`,
      'application/strategic-merge-patch+json',
    ],
    [
      'PUT',
      `${gsPath}/squid`,
      JSON.stringify(gameServer('squid')).replace('"port":25565', `"port":25565,"x":${deepObj(10_000)}`),
      'application/json',
    ],
    [
      'POST',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"xs.a.b"},"spec":${deepObj(10_000)}}`,
      'application/json',
    ],
    ['DELETE', '/api/v1/namespaces/tenant-a/configmaps/none', `{"x":${deepObj(10_000)}}`, 'application/json'],
  ]
  for (const [method, path, body, contentType] of cases) {
    const r = await request(s, method, path, { body, contentType })
    t.equal(r.status, 400, `${method} ${path} (${contentType}) → 400`)
    t.match(r.json(), { kind: 'Status', reason: 'BadRequest', message: /100 levels/ }, 'naming the limit')
  }
  // JSON patches that deepen the object step by step, or copy it into itself until it is huge.
  let value: unknown = 1
  for (let i = 0; i < 60; i++) value = { a: value }
  let r = await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.grow.example.com' },
      spec: {
        group: 'grow.example.com',
        scope: 'Namespaced',
        names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    }),
    contentType: 'application/json',
  })
  t.equal(r.status, 201, 'a CRD keeping unknown fields')
  for (let i = 0; ; i++) {
    r = await request(s, 'POST', '/apis/grow.example.com/v1/namespaces/tenant-a/things', {
      body: JSON.stringify({ apiVersion: 'grow.example.com/v1', kind: 'Thing', metadata: { name: 'g' }, spec: value }),
      contentType: 'application/json',
    })
    if (r.status === 201 || i >= 50) break
    await new Promise((res) => setTimeout(res, 100))
  }
  t.equal(r.status, 201, 'a 61-level object is accepted')
  const deeper = `/spec${'/a'.repeat(59)}`
  r = await request(s, 'PATCH', '/apis/grow.example.com/v1/namespaces/tenant-a/things/g', {
    body: JSON.stringify([{ op: 'add', path: `${deeper}/b`, value }]),
    contentType: 'application/json-patch+json',
  })
  t.equal(r.status, 400, 'a JSON patch that would nest the object 120 levels deep → 400')
  t.match(r.json(), { message: /Thing nests objects and arrays more than 100 levels/ })
  // Each copy doubles the object: unbounded, 30 of them would need a terabyte.
  const copies = Array.from({ length: 5 }, (_, i) => ({ op: 'copy', from: '/spec', path: `/spec/c${i}` }))
  r = await request(s, 'PATCH', '/apis/grow.example.com/v1/namespaces/tenant-a/things/g', {
    body: JSON.stringify([{ op: 'add', path: '/spec/big', value: 'x'.repeat(1_000_000) }, ...copies]),
    contentType: 'application/json-patch+json',
  })
  t.equal(r.status, 413, 'JSON patch copies that duplicate more than the body limit → 413')
  t.match(r.json(), { reason: 'RequestEntityTooLarge', message: /copy operations duplicate more than 3145728 bytes/ })
  // Over the body limit, with and without a length, in every accepted format.
  for (const contentType of ['application/json', 'application/yaml', 'application/merge-patch+json']) {
    r = await request(
      s,
      contentType === 'application/merge-patch+json' ? 'PATCH' : 'POST',
      contentType === 'application/merge-patch+json' ? `${gsPath}/squid` : '/api/v1/namespaces/tenant-a/configmaps',
      { body: `{"data":{"a":"${'x'.repeat(3 * 1024 * 1024)}"}}`, contentType },
    )
    t.equal(r.status, 413, `a 3 MiB+ ${contentType} body → 413`)
    t.match(r.json(), { reason: 'RequestEntityTooLarge', message: /3145728 byte limit/ })
  }
  // Nothing was stored, and the server still serves.
  for (const p of [
    `${gsPath}/deep1`,
    `${gsPath}/deep2`,
    '/api/v1/namespaces/tenant-a/configmaps/deep3',
    '/api/v1/namespaces/tenant-a/configmaps/deep4',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/xs.a.b',
  ]) {
    t.equal((await request(s, 'GET', p)).status, 404, `${p} was not created`)
  }
  r = await request(s, 'GET', `${gsPath}/squid`)
  t.equal(r.status, 200)
  t.notOk('x' in r.json().spec, 'the patched object is unchanged')
  t.equal(
    JSON.stringify((await request(s, 'GET', '/apis/grow.example.com/v1/namespaces/tenant-a/things/g')).json().spec),
    JSON.stringify(value),
    'the Thing is unchanged',
  )
  t.equal((await request(s, 'GET', '/readyz')).status, 200, 'still serving')
})

t.test("NUL in a GameServer's process fields is refused at admission with the field path", async (t) => {
  const { h } = await seeded(t)
  const s = h.server
  const gsPath = '/apis/zerolaghub.dev/v1alpha1/namespaces/tenant-a/gameservers'
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ command: ['node\u0000evil'] }, 'spec.server.command[0]'],
    [{ command: ['node', 'a\u0000'] }, 'spec.server.command[1]'],
    [{ args: ['--x', '\u0000'] }, 'spec.server.args[1]'],
    [{ env: [{ name: 'A', value: 'x\u0000y' }] }, 'spec.server.env[0].value'],
    [{ env: [{ name: 'A\u0000B', value: 'x' }] }, 'spec.server.env[0].name'],
    [{ workingDir: 'srv\u0000' }, 'spec.server.workingDir'],
    [{ stopCommand: 'stop\u0000now' }, 'spec.server.stopCommand'],
  ]
  for (const [i, [server, field]] of cases.entries()) {
    const r = await request(s, 'POST', gsPath, { body: JSON.stringify(gameServer(`nul${i}`, server)), contentType: 'application/json' })
    t.equal(r.status, 422, `${field} with NUL → 422`)
    t.match(r.json(), { reason: 'Invalid', details: { causes: [{ field }] } }, `naming ${field}`)
    t.equal((await request(s, 'GET', `${gsPath}/nul${i}`)).status, 404, 'and nothing is stored')
  }
  // A merge patch that adds NUL to a stored server is refused the same way.
  const r = await request(s, 'PATCH', `${gsPath}/squid`, {
    body: JSON.stringify({ spec: { server: { args: ['ok', 'bad\u0000'] } } }),
    contentType: 'application/merge-patch+json',
  })
  t.equal(r.status, 422)
  t.match(r.json(), { details: { causes: [{ field: 'spec.server.args[1]' }] } })
  // kubectl apply reports the field.
  const manifest = writeTemp(h, 'nul.json', JSON.stringify(gameServer('nul-kubectl', { command: ['node\u0000evil'] })))
  const k = await h.kubectl(['apply', '-f', manifest])
  t.not(k.code, 0, 'kubectl apply fails')
  t.match(k.stderr, /spec\.server\.command\[0\]: Invalid value: /, `kubectl names the field: ${k.stderr.trim()}`)
  t.equal((await request(s, 'GET', `${gsPath}/nul-kubectl`)).status, 404, 'nothing is stored')
})
