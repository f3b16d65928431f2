// IDE sleep and wake with the gateway as its ServiceAccount (zlh-system/zlh-gateway), bound by
// exactly the roles of manifests/base/rbac-gateway.yaml, against the embedded API server's RBAC:
// the activity and wake annotations are allowed by the role's `patch` on devservers; with that
// verb taken away, the refused write (403) is logged once at warn, without any token, and not
// retried hot while the IDE keeps being used (the RBAC rules: https://kubernetes.io/docs/reference/access-authn-authz/rbac/).
import t from 'tap'
import { Writable } from 'node:stream'
import { KubeConfig } from '@kubernetes/client-node'
import pino from 'pino'
import { DEVSERVER, LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION } from '../../../src/api/index.ts'
import { applyBaseRbac, GATEWAY_SERVICE_ACCOUNT } from '../../../src/cli/up/base-rbac.ts'
import { requestServiceAccountToken } from '../../../src/cli/up/service-account-credentials.ts'
import { startGatewayService } from '../../../src/gateway/service.ts'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { Client, PatchType, type KObject } from '../../../src/runtime/index.ts'
import { send, sessionCookieOf, startUpstream, SUFFIX, waitFor } from '../fixtures.ts'
import { condition, CRDS } from './sleep-env.ts'

const CLUSTER_ROLE = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }

t.test('activity and wake writes under the gateway role; a refused write is logged once, not retried hot', async (t) => {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  await applyBaseRbac(env.client, { fieldManager: 'test' })
  const { token: saToken } = await requestServiceAccountToken(env.client, GATEWAY_SERVICE_ACCOUNT, 3600)
  const cluster = env.kubeConfig.getCurrentCluster()!
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'sa', token: saToken }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }],
    currentContext: 'sa',
  })
  const gwClient = new Client(kc)
  t.teardown(() => gwClient.close())
  const logs: string[] = []
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
        cb()
      },
    }),
  )
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const svc = await startGatewayService({
    client: gwClient,
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    publicScheme: 'https',
    publicPort: 'listen',
    logger,
  })
  t.teardown(() => svc.close())
  const host = (vmid: number) => `dev-${vmid}.${SUFFIX}:${svc.gateway.port}`
  const setStatus = (name: string, status: Record<string, unknown>) =>
    env.client.patch(DEVSERVER, name, 'default', { status }, PatchType.merge, { subresource: 'status' })
  const get = async (name: string) =>
    (await env.client.get<KObject>(DEVSERVER, name, 'default')) as unknown as { metadata: { annotations?: Record<string, string> } }

  for (const [name, vmid] of [
    ['box', 901],
    ['denied', 902],
  ] as const) {
    await env.client.create<KObject>({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'DevServer',
      metadata: { name, namespace: 'default' },
      spec: { runtimes: [], codeServer: { enabled: true }, idle: { stopAfterSeconds: 5 } },
    })
    await setStatus(name, { phase: 'Running', vmid, address: upstream.address, conditions: [condition('Ready', 'True', 'Running', 'up')] })
  }
  await waitFor(() => svc.routes.lookup(901)?.ready === true && svc.routes.lookup(902)?.ready === true, 'both routes')
  const signIn = async (vmid: number) => {
    const { token } = svc.gateway.mintIdeToken(vmid, 'alice', { apiTokenId: null })
    return sessionCookieOf(await send(svc.gateway, { host: host(vmid), path: `/?token=${token}` }))!
  }

  // Allowed: activity, then a wake.
  const cookie = await signIn(901)
  t.equal((await send(svc.gateway, { host: host(901), path: '/x', headers: { cookie } })).status, 200)
  const until = Date.now() + 15_000
  while (!(await get('box')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION] && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100))
  t.ok((await get('box')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION], 'the role allows the activity annotation')
  const since = new Date(Date.now() - 1000).toISOString()
  await setStatus('box', {
    phase: 'Sleeping',
    sleep: { level: 'container', since },
    conditions: [condition('Ready', 'False', 'Sleeping', 'asleep', new Date(Date.parse(since)))],
  })
  await waitFor(() => svc.informers.devs.store.getByName('box', 'default')?.status?.phase === 'Sleeping', 'box asleep')
  t.equal(
    (await send(svc.gateway, { host: host(901), path: '/', headers: { cookie } })).headers['x-zlh-error'],
    'ZLH_GW_IDE_DEVSERVER_WAKING',
  )
  const wakeUntil = Date.now() + 15_000
  while (!(await get('box')).metadata.annotations?.[WAKE_REQUESTED_ANNOTATION] && Date.now() < wakeUntil)
    await new Promise((r) => setTimeout(r, 100))
  t.ok((await get('box')).metadata.annotations?.[WAKE_REQUESTED_ANNOTATION], 'and the wake annotation')

  // Refused: patch taken from the gateway's role.
  const role = await env.client.get<KObject & { rules: Array<{ resources?: string[]; verbs: string[] }> }>(CLUSTER_ROLE, 'zlh-gateway')
  const rules = role.rules.map((r) => (r.resources?.includes('devservers') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r))
  t.not(JSON.stringify(rules), JSON.stringify(role.rules), 'the role had patch on devservers')
  await env.client.patch(CLUSTER_ROLE, 'zlh-gateway', undefined, { rules }, PatchType.merge)
  t.teardown(() => env.client.patch(CLUSTER_ROLE, 'zlh-gateway', undefined, { rules: role.rules }, PatchType.merge).then(() => {}))
  const denied = await signIn(902)
  const refusedLog = () => logs.filter((l) => l.includes('could not record IDE activity') && l.includes('default/denied'))
  const sendUntil = Date.now() + 15_000
  while (refusedLog().length === 0 && Date.now() < sendUntil) {
    await send(svc.gateway, { host: host(902), path: '/x', headers: { cookie: denied } })
    await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(refusedLog().length, 1, 'the refused write is logged')
  t.match(JSON.parse(refusedLog()[0]!), { level: 40, status: 403, server: 'default/denied' }, 'at warn, with the status')
  // Keep using the IDE for a few intervals (5 s / 3): still one log line.
  for (let i = 0; i < 30; i++) {
    t.equal(
      (await send(svc.gateway, { host: host(902), path: `/y${i}`, headers: { cookie: denied } })).status,
      200,
      'the IDE keeps working',
    )
    await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(refusedLog().length, 1, 'logged once')
  t.notOk(logs.join('\n').includes(saToken), 'no token in the logs')
  t.notOk(logs.join('\n').includes(denied.split('=')[1]!), 'no session cookie in the logs')
  t.equal((await get('denied')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION], undefined)
})
