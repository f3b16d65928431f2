// The kustomize base builds with the real kubectl, its CRD copies are not stale, the overlays
// build, the Deployments carry what a real cluster needs, and the embedded API server accepts the
// output as-is for every kind it serves (the rest are the built-in workload/RBAC/network kinds).
import t from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { expectedManifestCrds, MANIFEST_CRDS_DIR } from '../../scripts/sync-manifest-crds.ts'
import { REPO, startServer } from '../apiserver/harness.ts'

function kustomize(dir: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile('kubectl', ['kustomize', dir], { maxBuffer: 64 << 20 }, (e, out, err) => resolve({ code: e ? 1 : 0, out, err })),
  )
}
const docs = (text: string): any[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean)

t.test('manifests/base/crds are the generated copies of crds/ (npm run gen:manifests)', async (t) => {
  const want = expectedManifestCrds()
  t.same(readdirSync(MANIFEST_CRDS_DIR).sort(), [...want.keys()].sort(), 'same files')
  for (const [name, text] of want) t.equal(readFileSync(join(MANIFEST_CRDS_DIR, name), 'utf8'), text, `${name} is current`)
})

t.test('kubectl kustomize manifests/ builds the base', async (t) => {
  const r = await kustomize(join(REPO, 'manifests'))
  t.equal(r.code, 0, r.err)
  const objs = docs(r.out)
  const kinds = objs.map((o) => o.kind).sort()
  for (const k of ['CustomResourceDefinition', 'Namespace', 'ServiceAccount', 'ClusterRole', 'Role', 'Deployment', 'Service', 'Ingress'])
    t.ok(kinds.includes(k), `has a ${k}`)
  t.equal(
    objs.filter((o) => o.kind === 'CustomResourceDefinition').length,
    readdirSync(join(REPO, 'crds')).filter((f) => f.endsWith('.yaml')).length,
    'every CRD',
  )
  const controller = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'zlh-controller')
  t.equal(controller.spec.replicas, 2)
  const c = controller.spec.template.spec.containers[0]
  t.ok(c.args.includes('--leader-elect'))
  t.ok(c.livenessProbe && c.readinessProbe, 'probes')
  t.ok(c.resources.requests && c.resources.limits, 'resources')
  t.equal(c.securityContext.readOnlyRootFilesystem, true)
  t.equal(controller.spec.template.spec.securityContext.runAsNonRoot, true)
  const ingress = objs.find((o) => o.kind === 'Ingress')
  t.equal(ingress.spec.rules[0].host, '*.dev.example.com', 'wildcard host')
  t.ok(ingress.spec.tls[0].secretName, 'TLS from a Secret')
  for (const o of objs)
    if (!['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
      t.ok(o.metadata.namespace, `${o.kind}/${o.metadata.name} has a namespace`)
})

t.test('the overlays build', async (t) => {
  const dir = t.testdir()
  cpSync(join(REPO, 'manifests'), join(dir, 'manifests'), { recursive: true })
  writeFileSync(
    join(dir, 'manifests/overlays/proxmox/proxmox-token.txt'),
    readFileSync(join(REPO, 'manifests/overlays/proxmox/proxmox-token.txt.example')),
  )
  const proxmox = await kustomize(join(dir, 'manifests/overlays/proxmox'))
  t.equal(proxmox.code, 0, proxmox.err)
  const secret = docs(proxmox.out).find((o) => o.kind === 'Secret')
  t.equal(
    `${secret.metadata.namespace}/${secret.metadata.name}`,
    'zlh-system/proxmox-token',
    'credentials Secret where the provider points',
  )
  t.ok(docs(proxmox.out).some((o) => o.kind === 'ContainerProvider' && o.spec.type === 'proxmox'))
  const traefik = await kustomize(join(dir, 'manifests/overlays/traefik'))
  t.equal(traefik.code, 0, traefik.err)
  const kinds = docs(traefik.out).map((o) => o.kind)
  t.ok(kinds.includes('IngressRoute'), 'IngressRoute')
  t.notOk(kinds.includes('Ingress'), 'Ingress replaced')
})

t.test('the embedded API server accepts the base as-is for the kinds it serves', async (t) => {
  const h = await startServer(t)
  const r = await kustomize(join(REPO, 'manifests'))
  const objs = docs(r.out)
  const served = new Set([
    'CustomResourceDefinition',
    'Namespace',
    'ServiceAccount',
    'ConfigMap',
    'Secret',
    'ClusterRole',
    'ClusterRoleBinding',
    'Role',
    'RoleBinding',
  ])
  const mine = objs.filter((o) => served.has(o.kind))
  const others = [...new Set(objs.filter((o) => !served.has(o.kind)).map((o) => o.kind))].sort()
  t.same(others, ['Deployment', 'Ingress', 'Service'], 'only built-in kinds the embedded server does not serve are left out')
  // Namespaces and CRDs first, as kubectl apply -k orders them.
  const text = mine.map((o) => JSON.stringify(o)).join('\n')
  const applied = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: text })
  t.equal(applied.code, 0, `${applied.stderr}${applied.stdout}`)
  t.match(await h.k('get', 'serviceaccounts', '-n', 'zlh-system'), /zlh-controller/)
  t.match(await h.k('get', 'crd'), /gameservers\.zerolaghub\.dev/)
  t.match(await h.k('get', 'clusterrolebindings'), /zlh-controller/, 'the RBAC kinds too')
})
