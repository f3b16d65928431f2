// The RBAC authorizer against a table of cases taken from Kubernetes' documented behaviour. Each
// case names its source: a section of "Using RBAC Authorization"
// (kubernetes.io/docs/reference/access-authn-authz/rbac/, "RBAC doc §…") or an upstream test
// (plugin/pkg/auth/authorizer/rbac/rbac_test.go TestAuthorizer / TestRuleMatches). The engine runs
// over a real ObjectStore and ObjectService (fixture.ts), objects written as the server would.
import t, { type Test } from 'tap'
import type { RequestAttributes } from '../../../src/apiserver/authorizer.ts'
import type { UserInfo } from '../../../src/apiserver/user.ts'
import { rbacFixture, res, url, user, type RbacFixture } from './fixture.ts'

const V1 = 'rbac.authorization.k8s.io/v1'
const RBAC = 'rbac.authorization.k8s.io'

function clusterRole(name: string, rules: unknown[], extra: Record<string, unknown> = {}, labels?: Record<string, string>) {
  return { apiVersion: V1, kind: 'ClusterRole', metadata: { name, ...(labels ? { labels } : {}) }, rules, ...extra }
}
function role(namespace: string, name: string, rules: unknown[]) {
  return { apiVersion: V1, kind: 'Role', metadata: { name, namespace }, rules }
}
function crb(name: string, roleName: string, subjects: unknown[]) {
  return {
    apiVersion: V1,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
    subjects,
  }
}
function rb(namespace: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: unknown[]) {
  return { apiVersion: V1, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC, kind, name: roleName }, subjects }
}
const U = (name: string) => ({ kind: 'User', name })
const G = (name: string) => ({ kind: 'Group', name })
const SA = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) })
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
const sa = (namespace: string, name: string) =>
  user(`system:serviceaccount:${namespace}:${name}`, 'system:serviceaccounts', `system:serviceaccounts:${namespace}`)

interface Case {
  source: string
  who: UserInfo
  attrs: RequestAttributes
  allowed: boolean
  reason?: string | RegExp
}

function check(t: Test, f: RbacFixture, cases: Case[]): void {
  for (const c of cases) {
    const d = f.rbac.authorizer.authorize(c.who, c.attrs)
    const what = `${c.source}: ${c.who.name} ${c.attrs.verb} ${c.attrs.resourceRequest ? `${c.attrs.resource}${c.attrs.subresource ? `/${c.attrs.subresource}` : ''}${c.attrs.name ? ` "${c.attrs.name}"` : ''} in "${c.attrs.namespace}"` : c.attrs.path} → ${c.allowed ? 'allowed' : 'denied'}`
    t.equal(d.allowed, c.allowed, what)
    if (c.reason !== undefined) t.match(d.reason ?? '', c.reason, `${what}: reason`)
    else if (!c.allowed) t.equal(d.reason, undefined, `${what}: no reason, as kube`)
  }
}

t.test('rules, bindings and subjects', async (t) => {
  const f = await rbacFixture(t)
  for (const n of ['development', 'apps', 'ci', 'qa', 'other']) f.create(ns(n))
  // RBAC doc §Role example / §RoleBinding examples
  f.create(role('default', 'pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] }]))
  f.create(rb('default', 'read-pods', 'Role', 'pod-reader', [U('jane')]))
  // RBAC doc §ClusterRole example, §RoleBinding examples (a RoleBinding to a ClusterRole), §ClusterRoleBinding example
  f.create(clusterRole('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]))
  f.create(rb('development', 'read-secrets', 'ClusterRole', 'secret-reader', [U('dave')]))
  f.create(crb('read-secrets-global', 'secret-reader', [G('manager')]))
  // RBAC doc §Referring to resources
  f.create(clusterRole('pod-and-pod-logs-reader', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }]))
  f.create(crb('logs', 'pod-and-pod-logs-reader', [U('logger')]))
  f.create(
    role('default', 'configmap-updater', [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-configmap'], verbs: ['update', 'get', 'delete'] },
    ]),
  )
  f.create(rb('default', 'cm-updater', 'Role', 'configmap-updater', [U('cmu')]))
  f.create(clusterRole('scaler', [{ apiGroups: ['apps'], resources: ['*/scale'], verbs: ['update'] }]))
  f.create(
    clusterRole('widgets', [
      { apiGroups: ['example.com'], resources: ['*'], verbs: ['get'] },
      { apiGroups: ['g1', 'g2'], resources: ['r1', 'r2'], verbs: ['v1', 'v2'] },
    ]),
  )
  f.create(crb('scaler', 'scaler', [U('scaler')]))
  f.create(crb('widgets', 'widgets', [U('widget')]))
  // rbac_test.go TestAuthorizer "Non-resource-url tests"
  f.create(clusterRole('non-resource-url-getter', [{ nonResourceURLs: ['/apis'], verbs: ['get'] }]))
  f.create(clusterRole('non-resource-url-prefix', [{ nonResourceURLs: ['/apis/*'], verbs: ['get'] }]))
  f.create(crb('non-resource-url-getter', 'non-resource-url-getter', [U('foo'), G('bar')]))
  f.create(crb('non-resource-url-prefix', 'non-resource-url-prefix', [U('prefixed')]))
  f.create(rb('default', 'urls-in-ns', 'ClusterRole', 'non-resource-url-getter', [U('nsurl')]))
  // RBAC doc §Referring to subjects
  f.create(rb('apps', 'sa-local', 'ClusterRole', 'secret-reader', [SA('default')]))
  f.create(crb('ci-robot', 'secret-reader', [SA('robot', 'ci')]))
  f.create(rb('qa', 'all-qa-sas', 'ClusterRole', 'secret-reader', [G('system:serviceaccounts:qa')]))
  f.create(rb('other', 'user-named-like-group', 'ClusterRole', 'secret-reader', [U('devs')]))
  // rbac.go: a binding to a role that does not exist
  f.create(rb('other', 'dangling', 'ClusterRole', 'ghost', [U('haunted')]))

  check(t, f, [
    {
      source: 'RBAC doc §Role example',
      who: user('jane'),
      attrs: res('get', '', 'pods', 'default', 'p1'),
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"',
    },
    { source: 'RBAC doc §Role example', who: user('jane'), attrs: res('list', '', 'pods', 'default'), allowed: true },
    {
      source: 'RBAC doc §Role example (a Role grants in its namespace only)',
      who: user('jane'),
      attrs: res('get', '', 'pods', 'other', 'p1'),
      allowed: false,
    },
    { source: 'RBAC doc §Role example (verbs)', who: user('jane'), attrs: res('create', '', 'pods', 'default'), allowed: false },
    { source: 'RBAC doc §Role example (apiGroups)', who: user('jane'), attrs: res('get', 'apps', 'pods', 'default', 'p1'), allowed: false },
    {
      source: 'RBAC doc §RoleBinding examples (dave reads Secrets in development only)',
      who: user('dave'),
      attrs: res('get', '', 'secrets', 'development', 's'),
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "read-secrets/development" of ClusterRole "secret-reader" to User "dave"',
    },
    { source: 'RBAC doc §RoleBinding examples', who: user('dave'), attrs: res('get', '', 'secrets', 'default', 's'), allowed: false },
    {
      source: 'RBAC doc §RoleBinding examples (not cluster-wide)',
      who: user('dave'),
      attrs: res('list', '', 'secrets', ''),
      allowed: false,
    },
    {
      source: 'RBAC doc §ClusterRoleBinding example (group manager reads Secrets in any namespace)',
      who: user('mia', 'manager'),
      attrs: res('list', '', 'secrets', ''),
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "read-secrets-global" of ClusterRole "secret-reader" to Group "manager"',
    },
    {
      source: 'RBAC doc §ClusterRoleBinding example',
      who: user('mia', 'manager'),
      attrs: res('watch', '', 'secrets', 'apps'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Referring to resources (pods/log)',
      who: user('logger'),
      attrs: res('get', '', 'pods', 'default', 'p', 'log'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Referring to resources (a subresource needs its own rule)',
      who: user('logger'),
      attrs: res('create', '', 'pods', 'default', 'p', 'exec'),
      allowed: false,
    },
    {
      source: 'rbac_test.go TestAuthorizer "test subresource resolution" (pods does not cover pods/status)',
      who: user('logger'),
      attrs: res('get', '', 'pods', 'default', 'p', 'status'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (resourceNames)',
      who: user('cmu'),
      attrs: res('get', '', 'configmaps', 'default', 'my-configmap'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Referring to resources (resourceNames)',
      who: user('cmu'),
      attrs: res('update', '', 'configmaps', 'default', 'my-configmap'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Referring to resources (resourceNames)',
      who: user('cmu'),
      attrs: res('get', '', 'configmaps', 'default', 'other'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (resourceNames never match list)',
      who: user('cmu'),
      attrs: res('list', '', 'configmaps', 'default'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (watch of a collection has no name)',
      who: user('cmu'),
      attrs: res('watch', '', 'configmaps', 'default'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (cannot restrict create by resource name)',
      who: user('cmu'),
      attrs: res('create', '', 'configmaps', 'default'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (cannot restrict deletecollection by resource name)',
      who: user('cmu'),
      attrs: res('deletecollection', '', 'configmaps', 'default'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to resources (named delete)',
      who: user('cmu'),
      attrs: res('delete', '', 'configmaps', 'default', 'my-configmap'),
      allowed: true,
    },
    {
      source: 'evaluation_helpers.go ResourceMatches (*/subresource)',
      who: user('scaler'),
      attrs: res('update', 'apps', 'deployments', 'default', 'd', 'scale'),
      allowed: true,
    },
    {
      source: 'evaluation_helpers.go ResourceMatches (*/subresource is not the resource)',
      who: user('scaler'),
      attrs: res('update', 'apps', 'deployments', 'default', 'd'),
      allowed: false,
    },
    {
      source: 'evaluation_helpers.go ResourceMatches (*/scale is not */status)',
      who: user('scaler'),
      attrs: res('update', 'apps', 'deployments', 'default', 'd', 'status'),
      allowed: false,
    },
    {
      source: 'rbac_test.go TestRuleMatches "star resource, exact match other"',
      who: user('widget'),
      attrs: res('get', 'example.com', 'widgets', 'x', 'w'),
      allowed: true,
    },
    {
      source: 'rbac_test.go TestRuleMatches (* resource covers subresources)',
      who: user('widget'),
      attrs: res('get', 'example.com', 'widgets', 'x', 'w', 'status'),
      allowed: true,
    },
    {
      source: 'rbac_test.go TestRuleMatches "star resource, exact match other" (group)',
      who: user('widget'),
      attrs: res('get', 'example.org', 'widgets', 'x', 'w'),
      allowed: false,
    },
    { source: 'rbac_test.go TestRuleMatches "tuple expansion"', who: user('widget'), attrs: res('v2', 'g2', 'r1', 'x'), allowed: true },
    { source: 'rbac_test.go TestRuleMatches "tuple expansion"', who: user('widget'), attrs: res('v3', 'g2', 'r1', 'x'), allowed: false },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests"',
      who: user('foo'),
      attrs: url('get', '/apis'),
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "non-resource-url-getter" of ClusterRole "non-resource-url-getter" to User "foo"',
    },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests" (group)',
      who: user('x', 'bar'),
      attrs: url('get', '/apis'),
      allowed: true,
    },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests" (wrong verb)',
      who: user('foo'),
      attrs: url('post', '/apis'),
      allowed: false,
    },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests" (wrong path)',
      who: { name: 'foo', groups: [] },
      attrs: url('get', '/api/v1'),
      allowed: false,
    },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests" (prefix)',
      who: user('prefixed'),
      attrs: url('get', '/apis/v1/foobar'),
      allowed: true,
    },
    {
      source: 'rbac_test.go TestRuleMatches "star nonresource subpath" (/foo/* does not match /foo)',
      who: user('prefixed'),
      attrs: url('get', '/apis'),
      allowed: true,
      reason: /system:discovery/,
    },
    {
      source: 'rbac_test.go TestAuthorizer "Non-resource-url tests" (not covered by prefix)',
      who: user('prefixed'),
      attrs: url('get', '/metrics'),
      allowed: false,
    },
    {
      source: 'RBAC doc §ClusterRole example (non-resource URLs only through ClusterRoleBindings)',
      who: user('nsurl'),
      attrs: url('get', '/apis'),
      allowed: true,
      reason: /system:discovery/,
    },
    {
      source: 'RBAC doc §ClusterRole example (non-resource URLs only through ClusterRoleBindings)',
      who: { name: 'nsurl', groups: [] },
      attrs: url('get', '/apis'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Default roles (system:discovery for system:authenticated)',
      who: user('anyone'),
      attrs: url('get', '/version'),
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"'.replace(
          /basic-user/g,
          'discovery',
        ),
    },
    {
      source: 'RBAC doc §Default roles (system:basic-user)',
      who: user('anyone'),
      attrs: res('create', 'authorization.k8s.io', 'selfsubjectaccessreviews'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Default roles (system:public-info-viewer for unauthenticated)',
      who: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
      attrs: url('get', '/healthz'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Default roles (system:discovery is for authenticated users only)',
      who: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
      attrs: url('get', '/apis'),
      allowed: false,
    },
    {
      source: "RBAC doc §Referring to subjects (a RoleBinding's ServiceAccount without namespace is in the binding's namespace)",
      who: sa('apps', 'default'),
      attrs: res('get', '', 'secrets', 'apps', 's'),
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "sa-local/apps" of ClusterRole "secret-reader" to ServiceAccount "default/apps"',
    },
    {
      source: 'RBAC doc §Referring to subjects',
      who: sa('other', 'default'),
      attrs: res('get', '', 'secrets', 'apps', 's'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to subjects (ServiceAccount in a ClusterRoleBinding)',
      who: sa('ci', 'robot'),
      attrs: res('list', '', 'secrets', 'default'),
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "ci-robot" of ClusterRole "secret-reader" to ServiceAccount "robot/ci"',
    },
    {
      source: 'RBAC doc §Referring to subjects (a user named like the ServiceAccount but without its name is not it)',
      who: user('robot'),
      attrs: res('list', '', 'secrets', 'default'),
      allowed: false,
    },
    {
      source: 'RBAC doc §Referring to subjects (all service accounts in the qa namespace)',
      who: sa('qa', 'whoever'),
      attrs: res('get', '', 'secrets', 'qa', 's'),
      allowed: true,
    },
    {
      source: 'RBAC doc §Referring to subjects (groups and users are distinct)',
      who: user('eve', 'devs'),
      attrs: res('get', '', 'secrets', 'other', 's'),
      allowed: false,
    },
    {
      source: "rbac.go Authorize (resolution errors are the denial's reason)",
      who: user('haunted'),
      attrs: res('get', '', 'secrets', 'other', 's'),
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
    },
    {
      source: 'rbac.go Authorize (a binding elsewhere does not matter)',
      who: user('haunted'),
      attrs: res('get', '', 'secrets', 'default', 's'),
      allowed: false,
    },
  ])

  t.test('SelfSubjectRulesReview (rulesFor): what kubectl auth can-i --list shows', async (t) => {
    const cmu = f.rbac.authorizer.rulesFor(user('cmu'), 'default')
    t.match(cmu.resourceRules, [
      { resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { resources: ['selfsubjectreviews'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-configmap'], verbs: ['update', 'get', 'delete'] },
    ])
    t.ok(
      cmu.nonResourceRules.some((r) => r.nonResourceURLs.includes('/apis/*')),
      'discovery URLs',
    )
    t.equal(cmu.incomplete, false)
    const haunted = f.rbac.authorizer.rulesFor(user('haunted'), 'other')
    t.equal(haunted.incomplete, true, 'a dangling binding makes the list incomplete')
    t.equal(haunted.evaluationError, 'clusterrole.rbac.authorization.k8s.io "ghost" not found')
  })

  t.test('bindings are followed as they change (the index is current for the next request)', async (t) => {
    t.equal(f.rbac.authorizer.authorize(user('late'), res('get', '', 'secrets', 'other', 's')).allowed, false)
    f.create(rb('other', 'late', 'ClusterRole', 'secret-reader', [U('late')]))
    t.equal(
      f.rbac.authorizer.authorize(user('late'), res('get', '', 'secrets', 'other', 's')).allowed,
      true,
      'a new binding applies at once',
    )
    f.update({ ...rb('other', 'late', 'ClusterRole', 'secret-reader', [U('later')]) })
    t.equal(
      f.rbac.authorizer.authorize(user('late'), res('get', '', 'secrets', 'other', 's')).allowed,
      false,
      'a subject removed no longer applies',
    )
    t.equal(f.rbac.authorizer.authorize(user('later'), res('get', '', 'secrets', 'other', 's')).allowed, true)
    f.remove(V1, 'RoleBinding', 'late', 'other')
    t.equal(
      f.rbac.authorizer.authorize(user('later'), res('get', '', 'secrets', 'other', 's')).allowed,
      false,
      'a deleted binding no longer applies',
    )
    f.remove(V1, 'ClusterRole', 'secret-reader')
    t.match(
      f.rbac.authorizer.authorize(user('dave'), res('get', '', 'secrets', 'development', 's')),
      { allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "secret-reader" not found' },
      'a deleted role grants nothing',
    )
  })
})

t.test('default roles (RBAC doc §Default roles and role bindings, §User-facing roles)', async (t) => {
  const f = await rbacFixture(t)
  f.create(ns('team'))
  f.create(rb('team', 'viewers', 'ClusterRole', 'view', [U('vic')]))
  f.create(rb('team', 'editors', 'ClusterRole', 'edit', [U('ed')]))
  f.create(rb('team', 'admins', 'ClusterRole', 'admin', [U('ada')]))
  const src = 'RBAC doc §User-facing roles'
  check(t, f, [
    {
      source: `${src} (view: read most objects)`,
      who: user('vic'),
      attrs: res('list', '', 'configmaps', 'team'),
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "viewers/team" of ClusterRole "view" to User "vic"',
    },
    {
      source: `${src} (view: read most objects)`,
      who: user('vic'),
      attrs: res('watch', 'coordination.k8s.io', 'leases', 'team'),
      allowed: false,
    },
    {
      source: `${src} (view does not allow viewing Secrets)`,
      who: user('vic'),
      attrs: res('get', '', 'secrets', 'team', 's'),
      allowed: false,
    },
    { source: `${src} (view does not allow viewing Secrets)`, who: user('vic'), attrs: res('list', '', 'secrets', 'team'), allowed: false },
    {
      source: `${src} (view does not allow viewing roles or role bindings)`,
      who: user('vic'),
      attrs: res('list', RBAC, 'rolebindings', 'team'),
      allowed: false,
    },
    { source: `${src} (view is read-only)`, who: user('vic'), attrs: res('create', '', 'configmaps', 'team'), allowed: false },
    { source: `${src} (view in a namespace only)`, who: user('vic'), attrs: res('list', '', 'configmaps', 'default'), allowed: false },
    { source: `${src} (edit: read/write most objects)`, who: user('ed'), attrs: res('create', '', 'configmaps', 'team'), allowed: true },
    { source: `${src} (edit can read Secrets)`, who: user('ed'), attrs: res('get', '', 'secrets', 'team', 's'), allowed: true },
    { source: `${src} (edit can write Secrets)`, who: user('ed'), attrs: res('deletecollection', '', 'secrets', 'team'), allowed: true },
    { source: `${src} (edit includes view)`, who: user('ed'), attrs: res('list', '', 'events', 'team'), allowed: true },
    {
      source: `${src} (edit: ServiceAccount tokens, bootstrappolicy aggregate-to-edit)`,
      who: user('ed'),
      attrs: res('create', '', 'serviceaccounts', 'team', 'robot', 'token'),
      allowed: true,
    },
    {
      source: `${src} (edit does not allow modifying roles or role bindings)`,
      who: user('ed'),
      attrs: res('create', RBAC, 'rolebindings', 'team'),
      allowed: false,
    },
    {
      source: `${src} (admin can create roles and role bindings in the namespace)`,
      who: user('ada'),
      attrs: res('create', RBAC, 'rolebindings', 'team'),
      allowed: true,
    },
    {
      source: `${src} (admin can create roles and role bindings in the namespace)`,
      who: user('ada'),
      attrs: res('update', RBAC, 'roles', 'team', 'r'),
      allowed: true,
    },
    { source: `${src} (admin includes edit)`, who: user('ada'), attrs: res('get', '', 'secrets', 'team', 's'), allowed: true },
    {
      source: `${src} (admin does not allow write access to the namespace itself)`,
      who: user('ada'),
      attrs: res('update', '', 'namespaces', '', 'team'),
      allowed: false,
    },
    {
      source: `${src} (cluster-admin: any action on any resource, system:masters)`,
      who: user('root', 'system:masters'),
      attrs: res('escalate', RBAC, 'clusterroles', '', 'x'),
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
    },
    {
      source: `${src} (cluster-admin)`,
      who: user('root', 'system:masters'),
      attrs: res('get', '', 'pods', 'x', 'p', 'log'),
      allowed: true,
    },
    { source: `${src} (cluster-admin)`, who: user('root', 'system:masters'), attrs: url('delete', '/anything/at/all'), allowed: true },
    {
      source: 'zlh bootstrap: the read-only identity (group zlh:viewers) is view everywhere',
      who: user('reader', 'zlh:viewers'),
      attrs: res('list', '', 'configmaps', ''),
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "zlh:viewers" of ClusterRole "view" to Group "zlh:viewers"',
    },
    {
      source: 'zlh bootstrap: the read-only identity (group zlh:viewers) never reads Secrets',
      who: user('reader', 'zlh:viewers'),
      attrs: res('watch', '', 'secrets', ''),
      allowed: false,
    },
  ])
})

t.test('aggregation follows label changes (RBAC doc §Aggregated ClusterRoles)', async (t) => {
  const f = await rbacFixture(t)
  const label = 'rbac.example.com/aggregate-to-monitoring'
  f.create(clusterRole('monitoring', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [label]: 'true' } }] } }))
  f.create(crb('monitoring', 'monitoring', [U('mon')]))
  const canList = () => f.rbac.authorizer.authorize(user('mon'), res('list', '', 'configmaps', 'default')).allowed
  t.equal(canList(), false)
  f.create(
    clusterRole(
      'monitoring-endpoints',
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      {},
      { [label]: 'true' },
    ),
  )
  await f.settle()
  t.equal(canList(), true, 'a new labelled ClusterRole adds its rules')
  t.same(f.store.get(`clusterroles.${RBAC}`, undefined, 'monitoring')!.obj.rules, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
  ])
  const rv = f.store.get(`clusterroles.${RBAC}`, undefined, 'monitoring')!.rv
  await f.settle()
  t.equal(f.store.get(`clusterroles.${RBAC}`, undefined, 'monitoring')!.rv, rv, 'no write when nothing changed')
  f.update(
    clusterRole(
      'monitoring-endpoints',
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      {},
      { other: 'x' },
    ),
  )
  await f.settle()
  t.equal(canList(), false, 'removing the label takes the rules away')
  f.update(
    clusterRole(
      'monitoring-endpoints',
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      {},
      { [label]: 'true' },
    ),
  )
  await f.settle()
  t.equal(canList(), true)
  f.remove(V1, 'ClusterRole', 'monitoring-endpoints')
  await f.settle()
  t.equal(canList(), false, 'deleting the labelled role takes its rules away')

  // The default roles aggregate custom ones (RBAC doc §Default roles: "aggregate-to-view")
  f.create(ns('team'))
  f.create(rb('team', 'viewers', 'ClusterRole', 'view', [U('vic')]))
  f.create(rb('team', 'admins', 'ClusterRole', 'admin', [U('ada')]))
  f.create(
    clusterRole(
      'gameservers-view',
      [{ apiGroups: ['zerolaghub.dev'], resources: ['gameservers'], verbs: ['get', 'list', 'watch'] }],
      {},
      { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
    ),
  )
  await f.settle()
  t.equal(
    f.rbac.authorizer.authorize(user('vic'), res('list', 'zerolaghub.dev', 'gameservers', 'team')).allowed,
    true,
    'view gains a role labelled aggregate-to-view',
  )
  t.equal(
    f.rbac.authorizer.authorize(user('ada'), res('list', 'zerolaghub.dev', 'gameservers', 'team')).allowed,
    true,
    'and admin too, through edit (view → edit → admin)',
  )
})
