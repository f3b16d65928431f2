// `zlh up` takes its RBAC from manifests/base, the same objects `kubectl apply -k manifests/`
// applies on a real cluster (kustomize's output, read by the real kubectl, is the reference).
import t from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import {
  baseRbacObjects,
  CONTROLLER_SERVICE_ACCOUNT,
  GATEWAY_SERVICE_ACCOUNT,
  MANIFESTS_BASE,
  RBAC_KINDS,
} from '../../../src/cli/up/base-rbac.ts'

const kustomize = (dir: string): Promise<any[]> =>
  new Promise((resolve, reject) =>
    execFile('kubectl', ['kustomize', dir], { maxBuffer: 64 << 20 }, (e, out) =>
      e
        ? reject(e)
        : resolve(
            parseAllDocuments(out)
              .map((d) => d.toJS())
              .filter(Boolean),
          ),
    ),
  )
const id = (o: any): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`

t.test("the RBAC objects are exactly kustomize's, labels included, and nothing else", async (t) => {
  const mine = baseRbacObjects()
  const reference = (await kustomize(MANIFESTS_BASE)).filter((o) => (RBAC_KINDS as readonly string[]).includes(o.kind))
  t.same(mine.map(id).sort(), reference.map(id).sort(), 'same objects')
  for (const o of reference)
    t.same(
      mine.find((m) => id(m) === id(o)),
      o,
      `${id(o)} as kustomize builds it`,
    )
  t.notOk(
    mine.some((o) => ['Deployment', 'Service', 'Ingress', 'CustomResourceDefinition'].includes(o.kind as string)),
    'no workloads, no CRD copies',
  )
})

t.test('apply order: namespace, roles, service accounts, bindings', async (t) => {
  const kinds = baseRbacObjects().map((o) => o.kind as string)
  const firstIndex = (k: string): number => kinds.indexOf(k)
  const lastIndex = (k: string): number => kinds.lastIndexOf(k)
  t.equal(kinds[0], 'Namespace')
  t.ok(
    lastIndex('ClusterRole') < firstIndex('ClusterRoleBinding') && lastIndex('Role') < firstIndex('RoleBinding'),
    'roles before their bindings',
  )
  t.ok(lastIndex('ServiceAccount') < firstIndex('ClusterRoleBinding'), 'subjects before bindings')
})

t.test("the components' ServiceAccounts are in the base", async (t) => {
  const sas = baseRbacObjects()
    .filter((o) => o.kind === 'ServiceAccount')
    .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
  for (const sa of [CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT])
    t.ok(sas.includes(`${sa.namespace}/${sa.name}`), `${sa.namespace}/${sa.name}`)
})

t.test(
  "the aggregated ClusterRoles carry kube's aggregation labels (docs: Using RBAC Authorization, Aggregated ClusterRoles)",
  async (t) => {
    const roles = baseRbacObjects().filter((o) => o.kind === 'ClusterRole')
    const labelled = (role: string): any[] =>
      roles.filter((r) => r.metadata?.labels?.[`rbac.authorization.k8s.io/aggregate-to-${role}`] === 'true')
    const grants = (rs: any[], verb: string, resource: string): boolean =>
      rs.some((r) =>
        r.rules.some(
          (rule: any) => rule.apiGroups.includes('zerolaghub.dev') && rule.resources.includes(resource) && rule.verbs.includes(verb),
        ),
      )
    for (const res of ['gameservers', 'devservers', 'runtimecatalogs', 'containerproviders'])
      for (const v of ['get', 'list', 'watch']) t.ok(grants(labelled('view'), v, res), `view: ${v} ${res}`)
    for (const role of ['edit', 'admin'])
      for (const res of ['gameservers', 'devservers'])
        for (const v of ['create', 'update', 'patch', 'delete', 'deletecollection'])
          t.ok(grants(labelled(role), v, res), `${role}: ${v} ${res}`)
    t.notOk(grants(labelled('view'), 'create', 'gameservers'), 'view writes nothing')
    for (const role of ['view', 'edit', 'admin'])
      t.notOk(
        labelled(role).some((r) =>
          r.rules.some((rule: any) =>
            rule.resources.some(
              (x: string) => x.endsWith('/status') && rule.verbs.some((v: string) => !['get', 'list', 'watch'].includes(v)),
            ),
          ),
        ),
        `${role}: no status writes (the controller's)`,
      )
  },
)

t.test('a broken kustomization is named', async (t) => {
  const dir = t.testdir()
  cpSync(MANIFESTS_BASE, join(dir, 'base'), { recursive: true })
  writeFileSync(join(dir, 'base/kustomization.yaml'), 'resources: []\n')
  t.throws(() => baseRbacObjects(join(dir, 'base')), /kustomization\.yaml lists no resources/)
})
