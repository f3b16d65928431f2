// The bootstrap policy, reconciled at every start as kube-apiserver's RBAC post-start hook
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, "Using RBAC Authorization" §Auto-reconciliation):
// missing objects are created, autoupdate objects get back missing rules and subjects, objects an
// operator set to autoupdate "false" are left alone, and a start with everything in place writes nothing.
import t from 'tap'
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, rulesOf } from '../../../src/apiserver/rbac/index.ts'
import { rbacFixture } from './fixture.ts'

const CR = 'clusterroles.rbac.authorization.k8s.io'
const CRB = 'clusterrolebindings.rbac.authorization.k8s.io'
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate'

t.test('bootstrap: created, reconciled, left alone when autoupdate is false, idempotent', async (t) => {
  const f = await rbacFixture(t)
  for (const r of BOOTSTRAP_CLUSTER_ROLES) {
    const o = f.store.get(CR, undefined, r.name)
    t.ok(o, `ClusterRole ${r.name} exists`)
    t.equal(o?.obj.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', `${r.name}: bootstrapping label`)
    t.equal(o?.obj.metadata.annotations?.[AUTOUPDATE], 'true', `${r.name}: autoupdate annotation`)
  }
  for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) t.ok(f.store.get(CRB, undefined, b.name), `ClusterRoleBinding ${b.name} exists`)
  t.match(f.store.get(CRB, undefined, 'zlh:viewers')!.obj, {
    roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'Group', name: 'zlh:viewers' }],
  })
  const view = rulesOf(f.store.get(CR, undefined, 'view')!.obj)
  t.notOk(
    view.some((r) => r.resources?.includes('secrets')),
    'view never names secrets',
  )
  t.ok(
    view.some((r) => r.resources?.includes('configmaps')),
    'view is aggregated at once',
  )

  const rv = f.store.rv
  f.rbac.bootstrap()
  await f.settle()
  t.equal(f.store.rv, rv, 'a second start writes nothing')

  const rolesType = f.registry.byGr(CR)!
  const bindingsType = f.registry.byGr(CRB)!
  // an autoupdate role lost a rule and gained an operator's rule: the first comes back, the second stays
  f.service.systemUpdate(rolesType, f.store.get(CR, undefined, 'system:basic-user')!, (o) => {
    o.rules = [{ apiGroups: ['example.com'], resources: ['things'], verbs: ['get'] }]
  })
  // an operator turned autoupdate off and emptied a role: it stays as they made it
  f.service.systemUpdate(rolesType, f.store.get(CR, undefined, 'system:discovery')!, (o) => {
    o.rules = []
    o.metadata.annotations = { [AUTOUPDATE]: 'false' }
  })
  // a binding lost its subject and one was re-pointed at another role
  f.service.systemUpdate(bindingsType, f.store.get(CRB, undefined, 'cluster-admin')!, (o) => {
    o.subjects = [{ kind: 'User', name: 'ops', apiGroup: 'rbac.authorization.k8s.io' }]
  })
  f.remove('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'zlh:viewers')
  f.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'zlh:viewers', annotations: { [AUTOUPDATE]: 'true' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ kind: 'Group', name: 'zlh:viewers' }],
  })
  f.remove('rbac.authorization.k8s.io/v1', 'ClusterRole', 'view')
  f.rbac.bootstrap()
  await f.settle()

  const basic = rulesOf(f.store.get(CR, undefined, 'system:basic-user')!.obj)
  t.ok(
    basic.some((r) => r.resources?.includes('things')),
    "the operator's rule stays",
  )
  t.ok(
    basic.some((r) => r.resources?.includes('selfsubjectaccessreviews')),
    'the missing rule is back',
  )
  t.same(f.store.get(CR, undefined, 'system:discovery')!.obj.rules, [], 'autoupdate "false" is left alone')
  t.match(
    f.store.get(CRB, undefined, 'cluster-admin')!.obj.subjects,
    [{ name: 'ops' }, { kind: 'Group', name: 'system:masters' }],
    'a missing subject is added, others kept',
  )
  t.match(
    f.store.get(CRB, undefined, 'zlh:viewers')!.obj,
    { roleRef: { name: 'view' } },
    'a binding to the wrong role is recreated (roleRef is immutable)',
  )
  t.ok(rulesOf(f.store.get(CR, undefined, 'view')!.obj).length > 0, 'a deleted default role is created and aggregated again')
})
