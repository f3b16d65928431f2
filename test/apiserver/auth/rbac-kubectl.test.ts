// RBAC through real kubectl, with identities from tokens.json groups and ServiceAccount tokens.
// Sources: k8s.io/docs/reference/access-authn-authz/rbac/ ("RoleBinding examples": a RoleBinding
// to a ClusterRole grants it in the binding's namespace only; "Privilege escalation prevention and
// bootstrapping": restrictions on role binding creation; "User-facing roles": edit reads Secrets,
// admin manages RoleBindings), and the "User impersonation" section of
// k8s.io/docs/reference/access-authn-authz/authentication/ (impersonate limited by resourceNames).
import t from 'tap'
import { kubeconfigFor, request, startServer } from '../harness.ts'

const ALICE = 'alice-token-0123456789abcdef0123456789'

t.test('a ServiceAccount bound to edit in team-a writes there and touches nothing in team-b', async (t) => {
  const h = await startServer(t)
  for (const ns of ['team-a', 'team-b']) await h.k('create', 'namespace', ns)
  await h.k('create', 'serviceaccount', 'deployer', '-n', 'team-a')
  await h.k('create', 'rolebinding', 'deployer-edit', '--clusterrole=edit', '--serviceaccount=team-a:deployer', '-n', 'team-a')
  await h.k('create', 'secret', 'generic', 'db', '--from-literal=password=s3cret', '-n', 'team-b')
  const token = (await h.k('create', 'token', 'deployer', '-n', 'team-a')).trim()
  const sa = kubeconfigFor(h, token, 'deployer')
  const as = (...args: string[]) => h.kubectl(args, { kubeconfig: sa })

  let r = await as('create', 'configmap', 'settings', '--from-literal=a=b', '-n', 'team-a')
  t.equal(r.code, 0, `edit creates in its namespace: ${r.stderr}`)
  r = await as('create', 'secret', 'generic', 'api', '--from-literal=k=v', '-n', 'team-a')
  t.equal(r.code, 0, `edit writes Secrets (kube's edit role): ${r.stderr}`)
  r = await as('get', 'secrets', '-n', 'team-a')
  t.equal(r.code, 0, 'and reads them')

  for (const args of [
    ['create', 'configmap', 'settings', '--from-literal=a=b', '-n', 'team-b'],
    ['get', 'configmaps', '-n', 'team-b'],
    ['get', 'secret', 'db', '-n', 'team-b', '-o', 'yaml'],
    ['delete', 'secret', 'db', '-n', 'team-b'],
    ['get', 'configmaps', '-A'],
    ['create', 'namespace', 'team-c'],
    ['create', 'rolebinding', 'more', '--clusterrole=admin', '--serviceaccount=team-a:deployer', '-n', 'team-a'],
  ]) {
    r = await as(...args)
    t.not(r.code, 0, `kubectl ${args.join(' ')} is refused`)
    t.match(r.stderr, /is forbidden: User "system:serviceaccount:team-a:deployer" cannot /, "with kube's Forbidden")
    t.notMatch(r.stdout + r.stderr, /s3cret|czNjcmV0/, 'and shows no secret data')
  }
  r = await as('auth', 'can-i', 'create', 'configmaps', '-n', 'team-b')
  t.same([r.code, r.stdout.trim()], [1, 'no'])
  r = await as('auth', 'can-i', 'update', 'configmaps', '-n', 'team-a')
  t.same([r.code, r.stdout.trim()], [0, 'yes'])
  r = await as('auth', 'can-i', '--list', '-n', 'team-a')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^configmaps\s+\[\]\s+\[\]\s+\[.*create.*\]$/m, 'the list shows what edit grants here')
  r = await h.kubectl(['auth', 'can-i', 'create', 'configmaps', '-n', 'team-a', '--as=system:serviceaccount:team-a:deployer'])
  t.same([r.code, r.stdout.trim()], [0, 'yes'], "admin asks on the ServiceAccount's behalf with --as")
  r = await h.kubectl(['auth', 'can-i', 'create', 'configmaps', '-n', 'team-b', '--as=system:serviceaccount:team-a:deployer'])
  t.same([r.code, r.stdout.trim()], [1, 'no'])
})

t.test('kubectl create rolebinding by a namespace admin: grants only what it holds (escalation prevention)', async (t) => {
  const h = await startServer(t, { tokens: [{ token: ALICE, user: 'alice', groups: ['team-a-admins'] }] })
  for (const ns of ['team-a', 'team-b']) await h.k('create', 'namespace', ns)
  await h.k('create', 'rolebinding', 'team-a-admins', '--clusterrole=admin', '--group=team-a-admins', '-n', 'team-a')
  const alice = kubeconfigFor(h, ALICE, 'alice')
  const as = (...args: string[]) => h.kubectl(args, { kubeconfig: alice })

  let r = await as('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}')
  t.equal(r.stdout, '["team-a-admins","system:authenticated"]', 'groups from tokens.json, plus system:authenticated')
  r = await as('create', 'rolebinding', 'bob-edit', '--clusterrole=edit', '--user=bob', '-n', 'team-a')
  t.equal(r.code, 0, `binding edit, which admin covers, is allowed: ${r.stderr}`)
  r = await as('create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team-a')
  t.not(r.code, 0, 'binding cluster-admin is refused')
  t.match(r.stderr, /attempting to grant RBAC permissions not currently held/, "in kube's words")
  t.equal((await h.kubectl(['get', 'rolebinding', 'bob-root', '-n', 'team-a'])).code, 1, 'nothing was stored')
  r = await as('create', 'role', 'secret-admin', '--verb=get,list,create,delete', '--resource=secrets', '-n', 'team-a')
  t.equal(r.code, 0, `a Role with rules admin holds: ${r.stderr}`)
  r = await as('create', 'role', 'crd-admin', '--verb=*', '--resource=customresourcedefinitions.apiextensions.k8s.io', '-n', 'team-a')
  t.not(r.code, 0, 'a Role with rules admin does not hold is refused')
  t.match(r.stderr, /attempting to grant RBAC permissions not currently held/)
  r = await as('create', 'rolebinding', 'bob-edit', '--clusterrole=edit', '--user=bob', '-n', 'team-b')
  t.not(r.code, 0, 'nothing in another namespace')
  t.match(r.stderr, /User "alice" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team-b"/)
  r = await as('create', 'clusterrolebinding', 'bob-view', '--clusterrole=view', '--user=bob')
  t.not(r.code, 0, 'and nothing cluster-wide')
  r = await h.kubectl(['create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team-a'])
  t.equal(r.code, 0, `the cluster admin may bind it: ${r.stderr}`)
})

t.test('impersonate limited by resourceNames: --as the named user only, and groups need their own grant', async (t) => {
  const h = await startServer(t, { tokens: [{ token: ALICE, user: 'alice' }] })
  await h.k('create', 'clusterrole', 'impersonate-jane', '--verb=impersonate', '--resource=users', '--resource-name=jane')
  await h.k('create', 'clusterrolebinding', 'alice-impersonates-jane', '--clusterrole=impersonate-jane', '--user=alice')
  await h.k('create', 'clusterrolebinding', 'jane-view', '--clusterrole=view', '--user=jane')
  const alice = kubeconfigFor(h, ALICE, 'alice')
  const as = (...args: string[]) => h.kubectl(args, { kubeconfig: alice })

  let r = await as('get', 'configmaps', '-n', 'default')
  t.not(r.code, 0, 'alice alone may not list configmaps')
  r = await as('get', 'configmaps', '-n', 'default', '--as=jane')
  t.equal(r.code, 0, `--as=jane lists them with jane's view: ${r.stderr}`)
  r = await as('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}', '--as=jane')
  t.equal(r.stdout, 'jane ["system:authenticated"]')
  r = await as('auth', 'can-i', 'get', 'secrets', '-n', 'default', '--as=jane')
  t.same([r.code, r.stdout.trim()], [1, 'no'], 'view reads no Secrets')
  r = await as('get', 'configmaps', '-n', 'default', '--as=john')
  t.not(r.code, 0)
  t.match(r.stderr, /users "john" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/)
  r = await as('get', 'configmaps', '-n', 'default', '--as=jane', '--as-group=system:masters')
  t.not(r.code, 0, 'adding a group needs impersonate on that group')
  t.match(r.stderr, /groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group ""/)
})

t.test("server-side apply that creates needs create, not only patch (as kube-apiserver's patch handler)", async (t) => {
  const h = await startServer(t, { tokens: [{ token: ALICE, user: 'alice' }] })
  await h.k('create', 'namespace', 'team-a')
  await h.k('create', 'role', 'cm-patcher', '--verb=get,patch', '--resource=configmaps', '-n', 'team-a')
  await h.k('create', 'rolebinding', 'alice-patches', '--role=cm-patcher', '--user=alice', '-n', 'team-a')
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: team-a}\ndata: {a: "1"}\n`
  await h.kubectl(['create', '-f', '-'], { input: cm('existing') })
  const alice = kubeconfigFor(h, ALICE, 'alice')
  let r = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: cm('existing'), kubeconfig: alice })
  t.equal(r.code, 0, `patching an existing object needs patch only: ${r.stderr}`)
  r = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: cm('fresh'), kubeconfig: alice })
  t.not(r.code, 0, 'creating one by apply is refused')
  t.match(r.stderr, /User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-a"/)
  t.equal((await h.kubectl(['get', 'configmap', 'fresh', '-n', 'team-a'])).code, 1, 'and nothing was created')
})

// requestinfo.go (NewRequestInfo): a list or watch with fieldSelector=metadata.name=<x> is
// authorized as a request for the name x, so a rule with resourceNames allows watching that object.
t.test('a resourceNames rule allows kubectl get/watch of that one object (fieldSelector metadata.name)', async (t) => {
  const h = await startServer(t, { tokens: [{ token: ALICE, user: 'alice', groups: [] }] })
  await h.k('create', 'namespace', 'team-a')
  for (const n of ['mine', 'other']) await h.k('create', 'configmap', n, '--from-literal=a=b', '-n', 'team-a')
  await h.k('create', 'role', 'one-cm', '--verb=get,list,watch', '--resource=configmaps', '--resource-name=mine', '-n', 'team-a')
  await h.k('create', 'rolebinding', 'one-cm', '--role=one-cm', '--user=alice', '-n', 'team-a')
  const base = `/api/v1/namespaces/team-a/configmaps`
  const get = (q: string) => request(h.server, 'GET', `${base}${q}`, { token: ALICE })
  t.equal((await get('?fieldSelector=metadata.name%3Dmine')).status, 200, 'list pinned to the allowed name')
  const w = await get('?fieldSelector=metadata.name%3Dmine&watch=true&timeoutSeconds=1')
  t.equal(w.status, 200, 'watch pinned to the allowed name')
  t.match(w.text, /"name":"mine"/, 'and it sees the object')
  t.equal((await get('?fieldSelector=metadata.name%3D%3Dmine,metadata.namespace%3Dteam-a')).status, 200, '== and other terms as well')
  for (const q of ['', '?fieldSelector=metadata.name%3Dother', '?fieldSelector=metadata.name!%3Dother']) {
    t.equal((await get(q)).status, 403, `list ${q || '(no selector)'} is refused`)
  }
  const r = await h.kubectl(['get', 'configmap', 'mine', '-n', 'team-a', '-o', 'name', '--as=alice'])
  t.equal(r.code, 0, r.stderr)
})
