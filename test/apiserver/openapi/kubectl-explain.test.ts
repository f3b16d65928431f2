// Real kubectl against the OpenAPI documents: a bare HTTP server on loopback answers discovery
// (legacy form) from the same CRDs and serves buildOpenApiV3's index and documents, and
// `kubectl explain` must find and print the schemas.
import t from 'tap'
import { createServer } from 'node:http'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { parse } from 'yaml'
import { buildOpenApiV3, BUILTIN_RESOURCES, resourceFromCrd, type OpenApiResource } from '../../../src/apiserver/openapi/index.ts'

const crdDir = new URL('../../../crds/', import.meta.url)
const crds = readdirSync(crdDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(new URL(f, crdDir), 'utf8')))
const resources: OpenApiResource[] = [...crds.map(resourceFromCrd), ...BUILTIN_RESOURCES]
const openapi = buildOpenApiV3(crds)

const shortNames = (r: OpenApiResource): string[] =>
  crds.find((c) => c.spec.group === r.group && c.spec.names.kind === r.kind)?.spec.names.shortNames ?? []

function discovery(path: string): unknown {
  if (path === '/api')
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] }
  if (path === '/apis') {
    const groups = [...new Set(resources.filter((r) => r.group).map((r) => r.group))]
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((g) => {
        const versions = [...new Set(resources.filter((r) => r.group === g).flatMap((r) => r.versions.map((v) => v.name)))].map((v) => ({
          groupVersion: `${g}/${v}`,
          version: v,
        }))
        return { name: g, versions, preferredVersion: versions[0] }
      }),
    }
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path)
  if (!m) return undefined
  const group = m[2] ?? ''
  const version = m[1] ?? m[3]!
  const served = resources.filter((r) => r.group === group && r.versions.some((v) => v.name === version))
  if (served.length === 0) return undefined
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: served.flatMap((r) => [
      { name: r.resource, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs, shortNames: shortNames(r) },
      ...(r.versions.find((v) => v.name === version)?.statusSubresource
        ? [{ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }]
        : []),
    ]),
  }
}

t.test('kubectl explain reads the documents', async (t) => {
  const requests: string[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    requests.push(`${req.method} ${req.url}`)
    if (req.method === 'POST') {
      // Accept a create the way kube-apiserver would, echoing the object back.
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const obj = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        obj.metadata = { ...obj.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' }
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(obj))
      })
      return
    }
    let body: unknown
    if (url.pathname === '/openapi/v3') body = openapi.root
    else if (url.pathname.startsWith('/openapi/v3/')) body = openapi.documents.get(url.pathname.slice('/openapi/v3/'.length))?.document
    else if (url.pathname === '/version') body = { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' }
    else body = discovery(url.pathname)
    if (body === undefined) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const dir = mkdtempSync(join(tmpdir(), 'zlh-explain-'))
  t.teardown(() => {
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const port = (server.address() as AddressInfo).port
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      users: [{ name: 'u', user: {} }],
    }),
    { mode: 0o600 },
  )
  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'kubectl',
        [`--cache-dir=${join(dir, 'cache')}`, ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: kubeconfig }, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })
        },
      )
    })

  const field = await kubectl('explain', 'gameserver.spec.supervision')
  t.equal(field.code, 0, field.out)
  t.match(field.out, /GROUP:\s+zerolaghub\.dev/)
  t.match(field.out, /KIND:\s+GameServer/)
  t.match(field.out, /VERSION:\s+v1alpha1/)
  t.match(field.out, /FIELD: supervision <Object>/)
  t.match(field.out, /backoffSeconds\s+<\[\]integer>/)
  t.match(field.out, /restartPolicy\s+<string>/)

  const meta = await kubectl('explain', 'zgs.metadata.labels')
  t.equal(meta.code, 0, meta.out)
  t.match(meta.out, /FIELD: labels <map\[string\]string>/, 'metadata resolves through the ObjectMeta $ref')

  const recursive = await kubectl('explain', 'runtimecatalogs', '--recursive')
  t.equal(recursive.code, 0, recursive.out)
  t.match(recursive.out, /KIND:\s+RuntimeCatalog/)
  t.match(recursive.out, /sha256\s+<string>/)

  const builtin = await kubectl('explain', 'configmap.data')
  t.equal(builtin.code, 0, builtin.out)
  t.match(builtin.out, /KIND:\s+ConfigMap/)
  t.match(builtin.out, /FIELD: data <map\[string\]string>/)

  const lease = await kubectl('explain', 'lease.spec.holderIdentity')
  t.equal(lease.code, 0, lease.out)
  t.match(lease.out, /GROUP:\s+coordination\.k8s\.io/)

  // kubectl validates on the server when the PATCH operation advertises fieldValidation; it then never needs /openapi/v2.
  requests.length = 0
  const create = await kubectl('create', '-f', new URL('../../../manifests/examples/gameserver.yaml', import.meta.url).pathname)
  t.equal(create.code, 0, create.out)
  t.match(create.out, /gameserver.zerolaghub.dev\/squid created/)
  const post = requests.find((r) => r.startsWith('POST '))
  t.match(
    post,
    /^POST \/apis\/zerolaghub\.dev\/v1alpha1\/namespaces\/default\/gameservers\?.*fieldValidation=Strict/,
    post ?? 'no POST was made',
  )
  t.notOk(
    requests.some((r) => r.includes('/openapi/v2')),
    'no client-side validation fallback',
  )

  const missing = await kubectl('explain', 'gameserver.spec.nope')
  t.not(missing.code, 0)
  t.match(missing.out, /field "nope" does not exist/)
})
