// The router's one write, the wake annotation on a GameServer, made as the gateway's ServiceAccount
// bound to manifests/base/rbac-gateway.yaml (as `zlh up` and a real cluster bind it): the role's patch
// on gameservers covers it. Statuses are written by the test as admin.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GAMESERVER, WAKE_REQUESTED_ANNOTATION, type GameServer } from '../../../src/api/index.ts'
import { startMinecraftRouter } from '../../../src/gateway/minecraft/index.ts'
import { startGatewayService } from '../../../src/gateway/service.ts'
import { Client, PatchType } from '../../../src/runtime/index.ts'
import { CRDS, startServer } from '../../apiserver/harness.ts'
import { componentCredentials } from '../../e2e/harness.ts'
import { gameSpec } from '../portal/portal-env.ts'
import { login } from './mc-fixtures.ts'

t.test('a login to a container-level sleeping server writes the wake annotation as zlh-gateway', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  const stateDir = mkdtempSync(join(tmpdir(), 'zlh-mc-rbac-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const creds = await componentCredentials(t, h, stateDir)
  const admin = new Client(h.server.kubeConfig())
  t.teardown(() => admin.close())
  const gatewayClient = Client.fromKubeConfigFile(creds.gateway.kubeconfig)
  t.teardown(() => gatewayClient.close())
  const svc = await startGatewayService({
    client: gatewayClient,
    listen: '127.0.0.1:0',
    ideSuffix: 'ide.test',
    publicScheme: 'https',
    publicPort: 'listen',
  })
  t.teardown(() => svc.close())
  const router = await startMinecraftRouter({
    listen: { host: '127.0.0.1', port: 0 },
    cache: svc.informers,
    client: gatewayClient,
    suffix: 'ide.test',
    systemNamespace: 'zlh-system',
    holdTimeoutMs: 1_000,
  })
  t.teardown(() => router.close())

  await admin.create({
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'squid', namespace: 'default' },
    spec: gameSpec({ idle: { stopAfterSeconds: 60, level: 'container' } }),
  } as never)
  const since = new Date(Date.now() - 60_000).toISOString()
  const written = await admin.patch(
    GAMESERVER,
    'squid',
    'default',
    { status: { phase: 'Sleeping', sleep: { level: 'container', since } } },
    PatchType.merge,
    { subresource: 'status' },
  )
  const until = Date.now() + 30_000
  while (
    (svc.informers.get('GameServer', 'default', 'squid') as GameServer | undefined)?.metadata.resourceVersion !==
    written.metadata?.resourceVersion
  ) {
    if (Date.now() > until) throw new Error("the gateway's cache never showed the sleeping status")
    await new Promise((r) => setTimeout(r, 20))
  }
  const outcome = await login(router.address.port, 'squid.ide.test', 'steve')
  t.same(
    outcome,
    { joined: false, reason: 'squid is waking up. Join again in a minute.' },
    'held, then told to come back (nothing wakes it here)',
  )
  const gs = (await admin.get(GAMESERVER, 'squid', 'default')) as unknown as GameServer
  const asked = gs.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION]
  t.ok(asked && Date.parse(asked) > Date.parse(since), `the ServiceAccount wrote ${WAKE_REQUESTED_ANNOTATION}=${asked}`)
  const managers = ((gs.metadata.managedFields ?? []) as Array<{ manager?: string }>).map((m) => m.manager)
  t.ok(managers.includes('zlh-gateway'), 'under the field manager zlh-gateway')
})
