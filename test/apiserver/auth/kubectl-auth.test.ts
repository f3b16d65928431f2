// `kubectl auth whoami`, `kubectl auth can-i [--list]` and `--as/--as-group` against the embedded
// server, as on a real cluster. Sources: kubectl reference (kubectl auth can-i / whoami), the
// "User impersonation" section of k8s.io/docs/reference/access-authn-authz/authentication/, and
// staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go (which groups are added).
import t from 'tap'
import { join } from 'node:path'
import { CRDS, kubeconfigFor, request, startServer } from '../harness.ts'

t.test('kubectl auth whoami: admin and reader from tokens.json', async (t) => {
  const h = await startServer(t)
  const admin = await h.kubectl(['auth', 'whoami', '-o', 'json'])
  t.equal(admin.code, 0, admin.stderr)
  t.same(JSON.parse(admin.stdout).status.userInfo, { username: 'admin', groups: ['system:masters', 'system:authenticated'] })
  const reader = await h.kubectl(['auth', 'whoami'], { kubeconfig: kubeconfigFor(h, h.server.readOnlyToken!, 'reader') })
  t.equal(reader.code, 0, reader.stderr)
  t.match(reader.stdout, /Username\s+reader/)
  t.match(reader.stdout, /Groups\s+\[zlh:viewers system:authenticated\]/)
  const yaml = await h.k('auth', 'whoami', '-o', 'yaml')
  t.match(yaml, /kind: SelfSubjectReview/)
})

t.test('kubectl auth can-i: yes/no with exit codes 0/1, resources resolved through discovery', async (t) => {
  const h = await startServer(t)
  const reader = kubeconfigFor(h, h.server.readOnlyToken!, 'reader')
  const canI = (args: string[], kubeconfig?: string) => h.kubectl(['auth', 'can-i', ...args], kubeconfig ? { kubeconfig } : {})
  let r = await canI(['create', 'configmaps', '-n', 'default'])
  t.same([r.code, r.stdout.trim()], [0, 'yes'], 'admin may create configmaps')
  r = await canI(['delete', 'customresourcedefinitions'])
  t.same([r.code, r.stdout.trim()], [0, 'yes'], 'a resource of another group, found by discovery')
  r = await canI(['list', 'configmaps', '-n', 'default'], reader)
  t.same([r.code, r.stdout.trim()], [0, 'yes'], 'view may list configmaps')
  r = await canI(['get', 'secrets', '-n', 'default'], reader)
  t.same([r.code, r.stdout.trim()], [1, 'no'], "view may not read Secrets (kube's view role)")
  r = await canI(['create', 'configmaps', '-n', 'default'], reader)
  t.same([r.code, r.stdout.trim()], [1, 'no'], 'view may not write')
  r = await canI(['get', '/version'], reader)
  t.same([r.code, r.stdout.trim()], [0, 'yes'], 'non-resource URL')

  await h.k('apply', '-f', join(CRDS, 'gameservers.zerolaghub.dev.yaml'))
  // kubectl's own discovery cache learns of the new kind at its next miss: bounded wait until it has.
  for (let i = 0; i < 50 && (await h.kubectl(['get', 'zgs', '-n', 'default'])).code !== 0; i++)
    await new Promise((res) => setTimeout(res, 100))
  r = await canI(['create', 'zgs', '-n', 'default'])
  t.same([r.code, r.stdout.trim()], [0, 'yes'], "a CRD's short name is resolved through discovery")
  t.notMatch(r.stderr, /doesn't have a resource type/)
  r = await canI(['patch', 'gameservers.zerolaghub.dev/status', '-n', 'default'], reader)
  t.same([r.code, r.stdout.trim()], [1, 'no'])

  r = await canI(['--list', '-n', 'default'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/)
  t.match(r.stdout, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/, 'admin: everything')
  r = await canI(['--list', '-n', 'default'], reader)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/, 'every user may review itself')
  t.notMatch(r.stdout, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/, 'the reader does not hold everything')
})

t.test('the review APIs are in discovery (kubectl api-resources) and answer kubectl create -f', async (t) => {
  const h = await startServer(t)
  const list = await h.k('api-resources', '--verbs=create', '-o', 'name')
  for (const r of [
    'selfsubjectreviews.authentication.k8s.io',
    'tokenreviews.authentication.k8s.io',
    'selfsubjectaccessreviews.authorization.k8s.io',
    'subjectaccessreviews.authorization.k8s.io',
    'localsubjectaccessreviews.authorization.k8s.io',
    'selfsubjectrulesreviews.authorization.k8s.io',
  ]) {
    t.match(list, new RegExp(`^${r.replace(/\./g, '\\.')}$`, 'm'), `${r} is listed`)
  }
  const ssar =
    'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes: {verb: list, resource: secrets, namespace: default}\n'
  const r = await h.kubectl(['create', '-f', '-', '-o', 'json'], { input: ssar })
  t.equal(r.code, 0, r.stderr)
  t.match(JSON.parse(r.stdout), {
    kind: 'SelfSubjectAccessReview',
    status: { allowed: true, reason: /RBAC: allowed by ClusterRoleBinding "cluster-admin"/ },
  })
  t.equal((await h.kubectl(['get', 'selfsubjectaccessreviews'])).code, 1, 'nothing to get: create-only')
  const raw = await request(h.server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} }),
    contentType: 'application/json',
  })
  t.equal(raw.status, 422, 'neither resourceAttributes nor nonResourceAttributes')
  t.match(
    raw.json().message,
    /spec\.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified/,
  )
})

t.test("impersonation: admin --as/--as-group; a user without the impersonate verb gets kube's 403", async (t) => {
  const h = await startServer(t)
  let r = await h.kubectl(['auth', 'whoami', '-o', 'json', '--as=jane', '--as-group=devs', '--as-group=qa'])
  t.equal(r.code, 0, r.stderr)
  t.same(
    JSON.parse(r.stdout).status.userInfo,
    { username: 'jane', groups: ['devs', 'qa', 'system:authenticated'] },
    'the groups asked for, plus system:authenticated',
  )
  r = await h.kubectl(['auth', 'whoami', '-o', 'json', '--as=system:serviceaccount:team-a:builder'])
  t.equal(r.code, 0, r.stderr)
  t.same(
    JSON.parse(r.stdout).status.userInfo,
    {
      username: 'system:serviceaccount:team-a:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    },
    'a ServiceAccount gets its groups',
  )
  r = await h.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'default', '--as=reader', '--as-group=zlh:viewers'])
  t.same([r.code, r.stdout.trim()], [1, 'no'], 'can-i --as answers for the impersonated user')
  r = await h.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'default', '--as=reader', '--as-group=zlh:viewers'])
  t.same([r.code, r.stdout.trim()], [0, 'yes'])
  r = await h.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'default', '--as=nobody'])
  t.same([r.code, r.stdout.trim()], [1, 'no'], 'a user bound to nothing')

  const reader = kubeconfigFor(h, h.server.readOnlyToken!, 'reader')
  r = await h.kubectl(['get', 'configmaps', '-n', 'default', '--as=admin'], { kubeconfig: reader })
  t.not(r.code, 0)
  t.match(r.stderr, /users "admin" is forbidden: User "reader" cannot impersonate resource "users" in API group "" at the cluster scope/)

  const raw = (headers: Record<string, string>, token = h.server.readOnlyToken!) =>
    request(h.server, 'GET', '/api/v1/namespaces/default/configmaps', { token, headers })
  let res = await raw({ 'Impersonate-User': 'system:serviceaccount:kube-system:default' })
  t.equal(res.status, 403)
  t.match(
    res.json().message,
    /^serviceaccounts "default" is forbidden: User "reader" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "kube-system"/,
  )
  res = await raw({ 'Impersonate-User': 'reader', 'Impersonate-Group': 'system:masters' })
  t.equal(res.status, 403, 'impersonating oneself still needs the verb, and so does every group')
  res = await raw({ 'Impersonate-Group': 'system:masters' }, h.server.adminToken)
  t.equal(res.status, 400, 'groups without a user are refused')
  t.match(res.json().message, /without impersonating a user/)
  res = await raw({ 'Impersonate-User': 'x', 'Impersonate-Uid': 'u-1', 'Impersonate-Extra-Scopes': 'a' }, h.server.adminToken)
  t.equal(res.status, 403, 'a user without permissions, once impersonated, gets the 403 of that user')
  t.match(res.json().message, /User "x" cannot list resource "configmaps"/)
})
