// Security regression suite of the RBAC engine (issue 18, part R), through the real server over
// HTTPS: nobody widens their own rights by writing roles or bindings (kube's
// pkg/registry/rbac/*/policybased, "Using RBAC Authorization" §Privilege escalation prevention and
// bootstrapping), an aggregationRule cannot collect cluster-admin's rules, a server-side apply
// cannot create what its author may not create, and a binding's role cannot be swapped under it.
import t from 'tap'
import { request, startServer } from '../apiserver/harness.ts'

const ED = 'ed-token-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'
const CARL = 'carl-token-cccccccccccccccccccccccccccccccc'
const PAT = 'pat-token-pppppppppppppppppppppppppppppppp'
const json = 'application/json'
const RBAC = '/apis/rbac.authorization.k8s.io/v1'

t.test('roles and bindings cannot grant more than their writer holds', async (t) => {
  const h = await startServer(t, {
    tokens: [
      { token: ED, user: 'ed' },
      { token: CARL, user: 'carl' },
      { token: PAT, user: 'pat' },
    ],
  })
  const s = h.server
  const post = (path: string, body: unknown, token: string) =>
    request(s, 'POST', path, { token, body: JSON.stringify(body), contentType: json })
  await h.k('create', 'namespace', 'team')
  // ed: edit in team, and may write roles and role bindings there (as a namespace admin's helper would)
  await h.k('create', 'rolebinding', 'ed-edit', '--clusterrole=edit', '--user=ed', '-n', 'team')
  await h.k(
    'create',
    'clusterrole',
    'role-writer',
    '--verb=create,update,patch',
    '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io',
  )
  await h.k('create', 'rolebinding', 'ed-roles', '--clusterrole=role-writer', '--user=ed', '-n', 'team')

  const toAdmin = await post(
    `${RBAC}/namespaces/team/rolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'pwn' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'ed' }],
    },
    ED,
  )
  t.equal(toAdmin.status, 403, 'binding cluster-admin to oneself is refused')
  t.match(toAdmin.json(), {
    kind: 'Status',
    reason: 'Forbidden',
    message:
      /^rolebindings.rbac.authorization.k8s.io "pwn" is forbidden: user "ed" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/,
  })
  const star = await post(
    `${RBAC}/namespaces/team/roles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'star' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
    ED,
  )
  t.equal(star.status, 403, 'a Role granting everything is refused')
  const escalate = await post(
    `${RBAC}/namespaces/team/roles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'esc' },
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate', 'bind'] }],
    },
    ED,
  )
  t.equal(escalate.status, 403, 'a Role granting escalate/bind is refused')
  t.match(escalate.json().message, '{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["escalate" "bind"]}')
  for (const name of ['pwn'])
    t.equal((await request(s, 'GET', `${RBAC}/namespaces/team/rolebindings/${name}`)).status, 404, 'nothing half-written')
  for (const name of ['star', 'esc'])
    t.equal((await request(s, 'GET', `${RBAC}/namespaces/team/roles/${name}`)).status, 404, 'nothing half-written')
  t.equal(
    (await request(s, 'GET', '/api/v1/namespaces/default/secrets', { token: ED })).status,
    403,
    'ed still reads no Secret outside team',
  )
  const ok = await post(
    `${RBAC}/namespaces/team/rolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'viewers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'vic' }],
    },
    ED,
  )
  t.equal(ok.status, 201, 'binding view, which edit covers, is allowed')

  // dry-run is checked like the real write
  const dry = await post(
    `${RBAC}/namespaces/team/roles?dryRun=All`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'star' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
    ED,
  )
  t.equal(dry.status, 403, 'a dry run does not reveal a different answer')

  // carl may write ClusterRoles and holds broad rights, but an aggregationRule could collect
  // cluster-admin's rules (it carries kubernetes.io/bootstrapping=rbac-defaults): full authority needed.
  await h.k('create', 'clusterrole', 'cr-writer', '--verb=create,update', '--resource=clusterroles.rbac.authorization.k8s.io')
  await h.k('create', 'clusterrolebinding', 'carl', '--clusterrole=cr-writer', '--user=carl')
  const agg = await post(
    `${RBAC}/clusterroles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'collector' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }] },
      rules: [],
    },
    CARL,
  )
  t.equal(agg.status, 403)
  t.equal(
    agg.json().message,
    'clusterroles.rbac.authorization.k8s.io "collector" is forbidden: must have cluster-admin privileges to use the aggregationRule',
  )
  t.equal((await request(s, 'GET', `${RBAC}/clusterroles/collector`)).status, 404, 'no collector role exists')

  // a binding cannot be re-pointed at another role, not even by an admin (roleRef is immutable)
  const rb = (await request(s, 'GET', `${RBAC}/namespaces/team/rolebindings/viewers`)).json()
  rb.roleRef.name = 'admin'
  const swapped = await request(s, 'PUT', `${RBAC}/namespaces/team/rolebindings/viewers`, { body: JSON.stringify(rb), contentType: json })
  t.equal(swapped.status, 422)
  t.match(swapped.json().message, /roleRef: Invalid value: .*cannot change roleRef/)

  // pat may patch configmaps in team but not create them: a server-side apply that would create is refused
  await h.k('create', 'role', 'patcher', '--verb=get,patch', '--resource=configmaps', '-n', 'team')
  await h.k('create', 'rolebinding', 'pat', '--role=patcher', '--user=pat', '-n', 'team')
  const apply = await request(s, 'PATCH', '/api/v1/namespaces/team/configmaps/c1?fieldManager=pat', {
    token: PAT,
    contentType: 'application/apply-patch+yaml',
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndata: {a: b}\n',
  })
  t.equal(apply.status, 403, 'apply-create without create')
  t.match(
    apply.json().message,
    /^configmaps "c1" is forbidden: User "pat" cannot create resource "configmaps" in API group "" in the namespace "team"/,
  )
  t.equal((await request(s, 'GET', '/api/v1/namespaces/team/configmaps/c1')).status, 404, 'nothing created')
  await h.k('create', 'configmap', 'c1', '-n', 'team', '--from-literal=a=a')
  const update = await request(s, 'PATCH', '/api/v1/namespaces/team/configmaps/c1?fieldManager=pat&force=true', {
    token: PAT,
    contentType: 'application/apply-patch+yaml',
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndata: {a: b}\n',
  })
  t.equal(update.status, 200, 'an apply that updates needs patch only')
})
