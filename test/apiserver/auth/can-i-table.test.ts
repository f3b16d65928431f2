// The RBAC authorizer through real kubectl: the objects of Kubernetes' "Using RBAC Authorization"
// page (k8s.io/docs/reference/access-authn-authz/rbac/, adapted to kinds this server serves) are
// applied with kubectl, then each case asks `kubectl auth can-i ... --as/--as-group` (a
// SelfSubjectAccessReview as the impersonated user) and checks yes/no and the exit code. Each case
// names the section (or upstream file) it comes from.
import t from 'tap'
import { join } from 'node:path'
import { CRDS, startServer } from '../harness.ts'

const DOC = 'rbac docs'

const POLICY = `
apiVersion: v1
kind: Namespace
metadata: {name: development}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: configmap-reader}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-configmaps, namespace: default}
subjects:
- {kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: configmap-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: development}
subjects:
- {kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-secrets-global}
subjects:
- {kind: Group, name: manager, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: configmap-updater}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["my-configmap"]
  verbs: ["update", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: update-my-configmap, namespace: default}
subjects:
- {kind: User, name: cm-owner, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: configmap-updater, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: status-writer}
rules:
- apiGroups: ["zerolaghub.dev"]
  resources: ["gameservers/status"]
  verbs: ["patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: status-writer, namespace: default}
subjects:
- {kind: ServiceAccount, name: reporter}
roleRef: {kind: Role, name: status-writer, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: healthz-reader}
rules:
- nonResourceURLs: ["/healthz", "/healthz/*"]
  verbs: ["get", "post"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: healthz-reader}
subjects:
- {kind: User, name: prober, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: healthz-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: core-everything}
rules:
- apiGroups: [""]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: core-everything, namespace: development}
subjects:
- {kind: Group, name: "system:serviceaccounts:development", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: core-everything, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editors, namespace: development}
subjects:
- {kind: User, name: ed, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: admins, namespace: development}
subjects:
- {kind: User, name: ada, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io}
`

// [source, as (user[,groups...]), can-i arguments, expected]
const CASES: Array<[string, string, string[], boolean]> = [
  [`${DOC}: Role example + RoleBinding example`, 'jane', ['get', 'configmaps', '-n', 'default'], true],
  [`${DOC}: Role example (a Role grants in its namespace only)`, 'jane', ['get', 'configmaps', '-n', 'development'], false],
  [`${DOC}: Role example (verbs not listed)`, 'jane', ['delete', 'configmaps', '-n', 'default'], false],
  [`${DOC}: Role example (another resource)`, 'jane', ['get', 'secrets', '-n', 'default'], false],
  [`${DOC}: a RoleBinding is no cluster-wide grant`, 'jane', ['list', 'configmaps', '-A'], false],
  [`${DOC}: RoleBinding to a ClusterRole grants it in the binding's namespace`, 'dave', ['get', 'secrets', '-n', 'development'], true],
  [`${DOC}: RoleBinding to a ClusterRole grants nothing elsewhere`, 'dave', ['get', 'secrets', '-n', 'default'], false],
  [`${DOC}: ClusterRoleBinding example (group manager, any namespace)`, 'someone,manager', ['get', 'secrets', '-n', 'kube-system'], true],
  [`${DOC}: ClusterRoleBinding example (all namespaces)`, 'someone,manager', ['list', 'secrets', '-A'], true],
  [`${DOC}: ClusterRoleBinding example (only the group's members)`, 'someone', ['get', 'secrets', '-n', 'kube-system'], false],
  [
    `${DOC}: Referring to resources (resourceNames, the named object)`,
    'cm-owner',
    ['update', 'configmaps/my-configmap', '-n', 'default'],
    true,
  ],
  [`${DOC}: Referring to resources (resourceNames, another object)`, 'cm-owner', ['update', 'configmaps/other', '-n', 'default'], false],
  [`${DOC}: resourceNames cannot restrict list`, 'cm-owner', ['list', 'configmaps', '-n', 'default'], false],
  [`${DOC}: resourceNames cannot restrict create`, 'cm-owner', ['create', 'configmaps', '-n', 'default'], false],
  [
    `${DOC}: Referring to resources (a subresource)`,
    'system:serviceaccount:default:reporter',
    ['patch', 'gameservers.zerolaghub.dev', '--subresource=status', '-n', 'default'],
    true,
  ],
  [
    `${DOC}: a subresource rule grants not the resource itself`,
    'system:serviceaccount:default:reporter',
    ['patch', 'gameservers.zerolaghub.dev', '-n', 'default'],
    false,
  ],
  [
    `${DOC}: ServiceAccount subject without namespace = the binding's namespace`,
    'system:serviceaccount:development:reporter',
    ['patch', 'gameservers.zerolaghub.dev', '--subresource=status', '-n', 'development'],
    false,
  ],
  [`${DOC}: nonResourceURLs (exact)`, 'prober', ['post', '/healthz'], true],
  [`${DOC}: nonResourceURLs (trailing * matches a prefix)`, 'prober', ['post', '/healthz/etcd'], true],
  [`${DOC}: nonResourceURLs (other paths)`, 'prober', ['post', '/metrics'], false],
  [
    `${DOC}: Referring to subjects (all ServiceAccounts of a namespace, "*" resources and verbs in the core group)`,
    'system:serviceaccount:development:any',
    ['delete', 'secrets', '-n', 'development'],
    true,
  ],
  [
    `${DOC}: "*" resources stay in their API group`,
    'system:serviceaccount:development:any',
    ['delete', 'leases.coordination.k8s.io', '-n', 'development'],
    false,
  ],
  [`${DOC}: User-facing roles (view cannot read Secrets)`, 'reader,zlh:viewers', ['get', 'secrets', '-n', 'default'], false],
  [`${DOC}: User-facing roles (view reads ConfigMaps)`, 'reader,zlh:viewers', ['list', 'configmaps', '-n', 'default'], true],
  [`${DOC}: User-facing roles (edit reads and writes Secrets)`, 'ed', ['get', 'secrets', '-n', 'development'], true],
  [`${DOC}: User-facing roles (edit deletecollection)`, 'ed', ['deletecollection', 'configmaps', '-n', 'development'], true],
  [`${DOC}: User-facing roles (edit may not grant: no rolebindings)`, 'ed', ['create', 'rolebindings', '-n', 'development'], false],
  [`${DOC}: User-facing roles (admin manages RoleBindings in its namespace)`, 'ada', ['create', 'rolebindings', '-n', 'development'], true],
  [`${DOC}: User-facing roles (admin does not manage the namespace itself)`, 'ada', ['delete', 'namespaces/development'], false],
  [`${DOC}: User-facing roles (cluster-admin via system:masters)`, 'root,system:masters', ['delete', 'customresourcedefinitions'], true],
  [`${DOC}: Discovery roles (system:discovery for every authenticated user)`, 'nobody', ['get', '/apis'], true],
  [`${DOC}: Default ClusterRoleBindings (nobody else gets anything)`, 'nobody', ['list', 'configmaps', '-n', 'default'], false],
]

t.test("kubectl auth can-i --as against the RBAC documentation's examples", async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', join(CRDS, 'gameservers.zerolaghub.dev.yaml'))
  const applied = await h.kubectl(['apply', '-f', '-'], { input: POLICY })
  t.equal(applied.code, 0, applied.stderr)
  // kubectl learns of the new kind at its next discovery miss: bounded wait until it resolves.
  for (let i = 0; i < 50 && (await h.kubectl(['get', 'zgs', '-n', 'default'])).code !== 0; i++)
    await new Promise((res) => setTimeout(res, 100))
  for (const [source, as, args, expected] of CASES) {
    const [user, ...groups] = as.split(',')
    const r = await h.kubectl(['auth', 'can-i', ...args, `--as=${user}`, ...groups.map((g) => `--as-group=${g}`)])
    t.same(
      [r.code, r.stdout.trim()],
      expected ? [0, 'yes'] : [1, 'no'],
      `${source}: ${as} ${args.join(' ')} → ${expected ? 'yes' : 'no'}${r.stderr ? ` (${r.stderr.trim()})` : ''}`,
    )
  }
})
