// Escalation prevention on roles and bindings, as kube-apiserver's pkg/registry/rbac/*/policybased
// and "Using RBAC Authorization" §Privilege escalation prevention and bootstrapping
// (kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping):
// you can create or update a role only if you already hold its permissions (or may `escalate`),
// and bind a role only if you hold its permissions (or may `bind` it). Also: a server-side apply
// that creates needs `create` (apiserver endpoints/handlers/patch.go authorizes it separately).
// The guard runs in-process over a real ObjectStore/ObjectService (fixture.ts).
import t, { type Test } from 'tap'
import { ApiError } from '../../../src/apiserver/status.ts'
import { rbacFixture, user } from './fixture.ts'

const V1 = 'rbac.authorization.k8s.io/v1'
const RBAC = 'rbac.authorization.k8s.io'
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
const role = (namespace: string, name: string, rules: unknown[]) => ({ apiVersion: V1, kind: 'Role', metadata: { name, namespace }, rules })
const rb = (namespace: string, name: string, kind: string, roleName: string, subjects: unknown[]) => ({
  apiVersion: V1,
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: RBAC, kind, name: roleName },
  subjects,
})
const crb = (name: string, roleName: string, subjects: unknown[]) => ({
  apiVersion: V1,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
  subjects,
})
const clusterRole = (name: string, rules: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: V1,
  kind: 'ClusterRole',
  metadata: { name },
  rules,
  ...extra,
})
const U = (name: string) => ({ kind: 'User', name })

function refused(t: Test, fn: () => unknown, status: number, message: string | RegExp, what: string): void {
  try {
    fn()
    t.fail(`${what}: expected a ${status}`)
  } catch (err) {
    t.ok(err instanceof ApiError, `${what}: an API error`)
    t.equal((err as ApiError).code, status, `${what}: ${status}`)
    t.match((err as Error).message, message, `${what}: message`)
  }
}

t.test('roles: grant only what you hold (RBAC doc §Restrictions on role creation or update)', async (t) => {
  const f = await rbacFixture(t)
  for (const n of ['team', 'other']) f.create(ns(n))
  // ed: edit in team, plus the right to manage roles and role bindings in team and other
  f.create(clusterRole('role-manager', [{ apiGroups: [RBAC], resources: ['roles', 'rolebindings'], verbs: ['create', 'update', 'patch'] }]))
  f.create(rb('team', 'ed-edit', 'ClusterRole', 'edit', [U('ed')]))
  for (const n of ['team', 'other']) f.create(rb(n, 'ed-roles', 'ClusterRole', 'role-manager', [U('ed')]))
  const ed = user('ed')

  t.ok(
    f.create(role('team', 'secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]), ed),
    'edit may grant reading Secrets, which it holds',
  )
  refused(
    t,
    () => f.create(role('other', 'secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]), ed),
    403,
    'roles.rbac.authorization.k8s.io "secret-reader" is forbidden: user "ed" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    'not in a namespace where it holds nothing',
  )
  refused(
    t,
    () => f.create(role('team', 'escalator', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['escalate', 'bind'] }]), ed),
    403,
    'roles.rbac.authorization.k8s.io "escalator" is forbidden: user "ed" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["escalate" "bind"]}',
    "escalate/bind it lacks (missing verbs merged, kube's CompactRules)",
  )
  refused(
    t,
    () => f.create(role('team', 'star', [{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['*'] }]), ed),
    403,
    /not currently held:\n\{APIGroups:\[""\], Resources:\["configmaps"\], Verbs:\["\*"\]\}\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["\*"\]\}$/,
    'a * verb is held only by a * verb (policy_comparator ruleCovers)',
  )
  refused(
    t,
    () => f.create(role('team', 'named', [{ apiGroups: [''], resources: ['pods'], resourceNames: ['p1'], verbs: ['get'] }]), ed),
    403,
    /\{APIGroups:\[""\], Resources:\["pods"\], ResourceNames:\["p1"\], Verbs:\["get"\]\}/,
    'resource names are compared too',
  )
  t.ok(
    f.create(
      role('team', 'named-cm', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['c1'], verbs: ['get', 'update'] }]),
      ed,
    ),
    'a named subset of what it holds',
  )
  t.ok(f.create(role('team', 'none', []), ed), 'an empty role grants nothing')

  refused(
    t,
    () =>
      f.update(
        role('team', 'secret-reader', [
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
        ]),
        ed,
      ),
    403,
    /"secret-reader" is forbidden: .*\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}$/,
    'an update adding a rule it lacks',
  )
  const gcOnly = role('team', 'escalator-made-by-admin', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])
  f.create(gcOnly)
  t.ok(
    f.update({ ...gcOnly, metadata: { ...gcOnly.metadata, finalizers: ['example.com/wait'] } }, ed),
    'an update of finalizers only passes (IsOnlyMutatingGCFields)',
  )

  // escalate: RBAC doc "the user ... has permission to perform the escalate verb on roles"
  f.create(role('team', 'escalate-roles', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['escalate'] }]))
  f.create(rb('team', 'ed-escalates', 'Role', 'escalate-roles', [U('ed')]))
  t.ok(
    f.create(role('team', 'anything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), ed),
    'with escalate on roles it may grant anything there',
  )
  refused(
    t,
    () => f.create(role('other', 'anything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), ed),
    403,
    /attempting to grant RBAC permissions not currently held/,
    'but only in that namespace',
  )

  t.ok(
    f.create(role('other', 'anything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), user('root', 'system:masters')),
    'system:masters may grant anything',
  )
  t.ok(f.create(role('other', 'anything-2', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])), "the server's own writes pass")
})

t.test('cluster roles and the aggregationRule (policybased clusterrole storage)', async (t) => {
  const f = await rbacFixture(t)
  f.create(
    clusterRole('cr-manager', [
      { apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['create', 'update'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]),
  )
  f.create(crb('carl', 'cr-manager', [U('carl')]))
  const carl = user('carl')
  t.ok(
    f.create(clusterRole('cm-get', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]), carl),
    'what it holds cluster-wide',
  )
  refused(
    t,
    () => f.create(clusterRole('metrics', [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]), carl),
    403,
    'clusterroles.rbac.authorization.k8s.io "metrics" is forbidden: user "carl" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    'non-resource URLs it lacks',
  )
  refused(
    t,
    () => f.create(clusterRole('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }), carl),
    403,
    'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    'an aggregationRule needs full authority',
  )
  t.ok(
    f.create(
      clusterRole('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }),
      user('root', 'system:masters'),
    ),
    'cluster-admin may',
  )
})

t.test('bindings: bind only what you hold, or what you may bind (RBAC doc §Restrictions on role binding creation or update)', async (t) => {
  const f = await rbacFixture(t)
  for (const n of ['team', 'other']) f.create(ns(n))
  f.create(
    clusterRole('binding-manager', [
      { apiGroups: [RBAC], resources: ['rolebindings', 'clusterrolebindings'], verbs: ['create', 'update'] },
    ]),
  )
  f.create(rb('team', 'ed-edit', 'ClusterRole', 'edit', [U('ed')]))
  f.create(rb('team', 'ed-bindings', 'ClusterRole', 'binding-manager', [U('ed')]))
  const ed = user('ed')
  t.ok(
    f.create(rb('team', 'viewers', 'ClusterRole', 'view', [U('vic')]), ed),
    'edit may bind view (edit holds every rule of view) in its namespace',
  )
  refused(
    t,
    () => f.create(rb('team', 'admins', 'ClusterRole', 'admin', [U('eve')]), ed),
    403,
    /^rolebindings.rbac.authorization.k8s.io "admins" is forbidden: user "ed" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["authorization.k8s.io"\], Resources:\["localsubjectaccessreviews"\], Verbs:\["create"\]\}\n/,
    'but not admin, which holds more',
  )
  refused(
    t,
    () => f.create(rb('team', 'root', 'ClusterRole', 'cluster-admin', [U('ed')]), ed),
    403,
    /attempting to grant RBAC permissions not currently held/,
    'nor cluster-admin to itself',
  )
  refused(
    t,
    () => f.create(rb('team', 'ghost', 'ClusterRole', 'ghost', [U('x')]), ed),
    404,
    'clusterroles.rbac.authorization.k8s.io "ghost" not found',
    'a missing role is a 404, as kube',
  )

  // bind on one named ClusterRole (RBAC doc example: "allow a user to bind the view ClusterRole")
  f.create(
    clusterRole('bind-view', [
      { apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['view'] },
      { apiGroups: [RBAC], resources: ['rolebindings', 'clusterrolebindings'], verbs: ['create'] },
    ]),
  )
  f.create(rb('team', 'bob-binds-view', 'ClusterRole', 'bind-view', [U('bob')]))
  const bob = user('bob')
  t.ok(
    f.create(rb('team', 'bob-viewers', 'ClusterRole', 'view', [U('vera')]), bob),
    'bind on view lets it bind view, holding none of its rules',
  )
  refused(
    t,
    () => f.create(rb('team', 'bob-editors', 'ClusterRole', 'edit', [U('vera')]), bob),
    403,
    /"bob-editors" is forbidden: user "bob"/,
    'but only view',
  )
  refused(
    t,
    () => f.create(rb('other', 'bob-viewers', 'ClusterRole', 'view', [U('vera')]), bob),
    403,
    /"bob-viewers" is forbidden/,
    'and only in the namespace where it may bind',
  )
  refused(
    t,
    () => f.create(crb('bob-viewers', 'view', [U('vera')]), bob),
    403,
    /^clusterrolebindings.rbac.authorization.k8s.io "bob-viewers" is forbidden/,
    'a ClusterRoleBinding needs bind cluster-wide',
  )
  f.create(crb('bob-binds-view', 'bind-view', [U('bob')]))
  t.ok(f.create(crb('bob-viewers', 'view', [U('vera')]), bob), 'which a ClusterRoleBinding gives')

  // a Role in the namespace, by name (bind on roles)
  f.create(role('team', 'cm-reader', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]))
  f.create(role('team', 'bind-cm-reader', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['bind'], resourceNames: ['cm-reader'] }]))
  f.create(rb('team', 'nobody-binds', 'Role', 'bind-cm-reader', [U('nobody')]))
  t.ok(f.create(rb('team', 'cm-readers', 'Role', 'cm-reader', [U('x')]), user('nobody')), 'bind on a named Role')
  f.create(role('team', 'cm-writer', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['update'] }]))
  refused(
    t,
    () => f.create(rb('team', 'cm-writers', 'Role', 'cm-writer', [U('x')]), user('nobody')),
    403,
    /"cm-writers" is forbidden/,
    'not another Role',
  )
  t.ok(
    f.create(rb('team', 'bind-binders', 'Role', 'bind-cm-reader', [U('x')]), user('nobody')),
    'but one whose rules it holds (its own bind-cm-reader), as kube',
  )
})

t.test('server-side apply that creates needs create (endpoints/handlers/patch.go)', async (t) => {
  const f = await rbacFixture(t)
  f.create(ns('team'))
  f.create(role('team', 'patcher', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['patch', 'get'] }]))
  f.create(rb('team', 'pat', 'Role', 'patcher', [U('pat')]))
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'team' }, data: { a: 'b' } }
  refused(
    t,
    () => f.create(cm, user('pat'), 'patch'),
    403,
    /^configmaps "c1" is forbidden: User "pat" cannot create resource "configmaps" in API group "" in the namespace "team"/,
    'patch without create, creating: 403 naming create',
  )
  t.equal(f.store.get('configmaps', 'team', 'c1'), undefined, 'nothing written')
  f.create(role('team', 'creator', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }]))
  f.create(rb('team', 'pat-creates', 'Role', 'creator', [U('pat')]))
  t.ok(f.create(cm, user('pat'), 'patch'), 'with create it may')
})
