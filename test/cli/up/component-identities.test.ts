// What `zlh up` gives the controller and the gateway, against the embedded API server: the RBAC of
// manifests/base applied as admin, ServiceAccount tokens from the TokenRequest API that
// authenticate as system:serviceaccount:zlh-system:<name> (kubectl auth whoami), kubeconfigs that
// client-node uses, rotation, and the roles enforced (kubectl auth can-i with the token).
import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { Client } from '../../../src/runtime/index.ts'
import { applyBaseRbac, baseRbacObjects, CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT } from '../../../src/cli/up/base-rbac.ts'
import { ServiceAccountCredentials } from '../../../src/cli/up/service-account-credentials.ts'
import { CRDS, startServer } from '../../apiserver/harness.ts'

const h = await startServer(t)
await h.k('apply', '-f', CRDS)
const admin = new Client(h.server.kubeConfig())
t.teardown(() => admin.close())

t.test("the base's RBAC applies as admin and is there as written", async (t) => {
  const applied = await applyBaseRbac(admin, { fieldManager: 'zlh-up' })
  t.equal(applied.length, baseRbacObjects().length, 'every object')
  const role = JSON.parse(await h.k('get', 'clusterrole', 'zlh-controller', '-o', 'json'))
  t.same(role.rules, baseRbacObjects().find((o) => o.kind === 'ClusterRole' && o.metadata?.name === 'zlh-controller')?.rules)
  t.equal(role.metadata.labels['app.kubernetes.io/part-of'], 'zlh', 'kustomization labels')
  t.match(await h.k('get', 'serviceaccounts', '-n', 'zlh-system'), /zlh-gateway/)
  t.same(await applyBaseRbac(admin, { fieldManager: 'zlh-up' }), applied, 'a second start applies the same again')
})

t.test('tokens authenticate as the ServiceAccounts and the roles bound to them decide', async (t) => {
  const dir = t.testdir()
  const endpoint = { server: h.server.url, caPem: h.server.caPem }
  const controller = await ServiceAccountCredentials.mint({
    client: admin,
    sa: CONTROLLER_SERVICE_ACCOUNT,
    dir,
    endpoint,
    lifetimeSeconds: 600,
  })
  const gateway = await ServiceAccountCredentials.mint({ client: admin, sa: GATEWAY_SERVICE_ACCOUNT, dir, endpoint })
  t.teardown(() => {
    controller.stop()
    gateway.stop()
  })
  for (const f of [controller.kubeconfig, controller.tokenFile]) t.equal(statSync(f).mode & 0o777, 0o600, `${f} is 0600`)
  t.equal(statSync(dir).mode & 0o777, 0o700, 'credentials dir 0700')
  t.ok(
    controller.expiresAt.getTime() - Date.now() <= 600_000 && controller.expiresAt.getTime() - Date.now() > 500_000,
    'the lifetime asked for',
  )

  const token = (c: ServiceAccountCredentials): string => readFileSync(c.tokenFile, 'utf8')
  const kubectlAs = (c: ServiceAccountCredentials, ...args: string[]) => h.kubectl([`--token=${token(c)}`, ...args])
  // docs: kubectl auth whoami (SelfSubjectReview)
  t.match(
    (await kubectlAs(controller, 'auth', 'whoami', '-o', 'json')).stdout,
    /"username": "system:serviceaccount:zlh-system:zlh-controller"/,
  )
  t.equal(
    (await kubectlAs(gateway, 'auth', 'can-i', 'list', 'gameservers.zerolaghub.dev', '-A')).stdout.trim(),
    'yes',
    'the gateway lists servers (ClusterRole zlh-gateway)',
  )
  t.equal(
    (await kubectlAs(gateway, 'auth', 'can-i', 'get', 'secrets', '-n', 'kube-system')).stdout.trim(),
    'no',
    'but reads no Secrets outside its namespaces',
  )
  t.equal(
    (await kubectlAs(controller, 'auth', 'can-i', 'create', 'leases.coordination.k8s.io', '-n', 'zlh-system')).stdout.trim(),
    'yes',
    'leader election in zlh-system (Role)',
  )
  t.equal(
    (await kubectlAs(controller, 'auth', 'can-i', 'create', 'leases.coordination.k8s.io', '-n', 'default')).stdout.trim(),
    'no',
    'only there',
  )

  // The kubeconfig as the components load it (client-node, tokenFile auth provider).
  const asController = Client.fromKubeConfigFile(controller.kubeconfig)
  t.teardown(() => asController.close())
  const review = await asController.rest.request<any>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  })
  t.equal(review.status.userInfo.username, 'system:serviceaccount:zlh-system:zlh-controller', "client-node sends the token file's token")
  await t.rejects(
    asController.rest.request('GET', '/api/v1/namespaces/default/configmaps'),
    /: 403 Forbidden/,
    'and the controller may not list ConfigMaps',
  )

  const before = token(controller)
  await controller.rotate()
  t.not(token(controller), before, 'rotation writes a new token')
  t.match((await kubectlAs(controller, 'auth', 'whoami')).stdout, /system:serviceaccount:zlh-system:zlh-controller/, 'which works')
})

t.test('a missing ServiceAccount is named', async (t) => {
  await t.rejects(
    ServiceAccountCredentials.mint({
      client: admin,
      sa: { namespace: 'zlh-system', name: 'nobody' },
      dir: t.testdir(),
      endpoint: { server: h.server.url },
    }),
    /404|not found/i,
  )
})
