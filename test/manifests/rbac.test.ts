// RBAC of manifests/ against what the code really calls, decided by the API server itself: the
// controller and the gateway run as their ServiceAccounts (bound by the roles of manifests/base,
// applied as `zlh up` applies them) through their own recording proxies while real servers go
// through their life (GameServer + DevServer Ready, portal reads and writes, leader election,
// deletes with finalizers). No call may be refused (403); the test names each refused call the way
// a rule is written. With RBAC enforced by the embedded server, this replaced a second, static
// evaluation of the roles in the test: one RBAC implementation (kube's semantics, tested on its own
// by test/apiserver) decides, and what it refuses is what a real cluster would refuse.
// Least privilege: what the components must NOT be able to do is asked with real kubectl
// (`kubectl auth can-i --as`).
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import pino from 'pino'
import { startController } from '../../controller/index.ts'
import { startGatewayService } from '../../src/gateway/service.ts'
import { Client } from '../../src/runtime/index.ts'
import { runtimeCatalog } from '../../src/cli/artifacts/index.ts'
import {
  serviceAccountKubeconfigYaml,
  serviceAccountUser,
  type ServiceAccountCredentials,
} from '../../src/cli/up/service-account-credentials.ts'
import { REPO } from '../apiserver/harness.ts'
import { buildArtifacts, startE2E } from '../e2e/harness.ts'
import { attributesOf, key, recordingProxy } from './rbac-audit.ts'

t.setTimeout(8 * 60_000)

t.test('the attribute mapping', async (t) => {
  t.same(attributesOf({ method: 'GET', url: '/apis/zerolaghub.dev/v1alpha1/gameservers?watch=true&resourceVersion=5' }), {
    verb: 'watch',
    apiGroup: 'zerolaghub.dev',
    resource: 'gameservers',
    namespace: undefined,
  })
  t.same(attributesOf({ method: 'PATCH', url: '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/x/status' }), {
    verb: 'patch',
    apiGroup: 'zerolaghub.dev',
    resource: 'gameservers/status',
    namespace: 'default',
  })
  t.same(attributesOf({ method: 'POST', url: '/api/v1/namespaces' }), {
    verb: 'create',
    apiGroup: '',
    resource: 'namespaces',
    namespace: undefined,
  })
  t.equal(attributesOf({ method: 'GET', url: '/apis/zerolaghub.dev/v1alpha1' }), undefined, 'discovery is a non-resource URL')
})

const art = await buildArtifacts(t)
const e = await startE2E(t, art)

t.test('every call of the controller and the gateway is allowed by their roles', async (t) => {
  const server = e.h.server
  const controllerProxy = await recordingProxy(server.url, server.caPem)
  const gatewayProxy = await recordingProxy(server.url, server.caPem)
  t.teardown(() => Promise.all([controllerProxy.close(), gatewayProxy.close()]))
  // The ServiceAccount's own token file (rotated by the harness), sent to the plain-HTTP loopback proxy.
  const kubeconfigFor = (url: string, creds: ServiceAccountCredentials): string => {
    const file = join(e.stateDir, `${creds.sa.name}.proxy.kubeconfig`)
    writeFileSync(file, serviceAccountKubeconfigYaml({ server: url, insecureSkipTlsVerify: true }, creds.sa, creds.tokenFile), {
      mode: 0o600,
    })
    return file
  }
  const controller = startController({
    kubeconfig: kubeconfigFor(controllerProxy.url, e.credentials.controller),
    stateDir: e.stateDir,
    ideSuffix: 'ide.test',
    leaderElect: true,
    leaseNamespace: 'zlh-system',
    logger: pino({ level: 'silent' }),
    orphanIntervalMs: 1000,
  })
  t.teardown(() => controller.stop())
  const gwClient = Client.fromKubeConfigFile(kubeconfigFor(gatewayProxy.url, e.credentials.gateway))
  const gw = await startGatewayService({
    client: gwClient,
    listen: '127.0.0.1:0',
    ideSuffix: 'ide.test',
    publicScheme: 'http',
    adminTokenFile: join(e.stateDir, 'admin-token'),
  })
  t.teardown(async () => {
    await gw.close()
    gwClient.close()
  })
  const token = readFileSync(join(e.stateDir, 'admin-token'), 'utf8').trim()
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${gw.gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })

  // A game server through the portal (server-side apply), a dev server with kubectl.
  const gamePort = e.portBase + 95
  const put = await api('PUT', '/api/game/squid', {
    spec: {
      game: 'minecraft',
      runtime: { name: 'node', channel: 'stable' },
      package: { name: 'flying-squid', channel: 'stable' },
      server: { command: ['flying-squid'], args: ['--offline'], port: gamePort, stopCommand: 'stop', gracePeriodSeconds: 5 },
      resources: { cores: 1, memoryMiB: 1024, diskGiB: 4 },
      running: true,
    },
  })
  t.ok(put.ok, `portal create: ${put.status} ${await put.clone().text()}`)
  await e.apply(readFileSync(join(REPO, 'manifests/examples/devserver.yaml'), 'utf8'))
  await e.apply(
    stringify(
      runtimeCatalog('code-server', [{ artifact: art.codeServer, url: art.url(art.codeServer) }], { stable: art.codeServer.version }),
    ),
  )
  t.equal(
    (
      await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', 'devserver/workbench', '--timeout=240s'], {
        timeoutMs: 250_000,
      })
    ).code,
    0,
    'both Ready',
  )
  for (const [m, p] of [
    ['GET', '/api/servers'],
    ['GET', '/api/runtimes'],
    ['GET', '/api/servers/squid/status'],
    ['GET', '/api/game/squid/files/'],
    ['POST', '/api/dev/workbench/ide-token'],
    ['GET', '/api/tokens'],
  ] as const) {
    // Only the API calls behind each route matter here, not whether the route succeeds.
    const r = await api(m, p, m === 'POST' ? {} : undefined)
    t.comment(`${m} ${p} → ${r.status}`)
  }
  t.ok((await api('DELETE', '/api/game/squid')).status < 300, 'portal delete')
  await e.h.k('delete', 'devserver', 'workbench', '--wait=true', '--timeout=120s')
  await e.h.k('wait', '--for=delete', 'gameserver/squid', '--timeout=120s')

  for (const [creds, proxy] of [
    [e.credentials.controller, controllerProxy],
    [e.credentials.gateway, gatewayProxy],
  ] as const) {
    const name = creds.sa.name
    const used = new Set(
      proxy.calls
        .map(attributesOf)
        .filter((a) => a !== undefined)
        .map((a) => key(a)),
    )
    t.ok(used.size > 5, `${name}: calls recorded (${used.size})`)
    const refused = [
      ...new Set(
        proxy.calls
          .filter((c) => c.status === 403)
          .map((c) => {
            const a = attributesOf(c)
            return a ? key(a) : `${c.method} ${c.url}`
          }),
      ),
    ].sort()
    t.same(refused, [], `${name}: no call refused by the roles of manifests/base (add what is listed to its role)`)
    t.comment(`${name} used: ${[...used].sort().join('; ')}`)
  }
})

// What each component must not do, as the API server answers `kubectl auth can-i --as`
// (docs: kubectl auth can-i; Using RBAC Authorization, "Referring to subjects" for the SA user name).
t.test('least privilege: what the components may not do', async (t) => {
  const canI = async (sa: ServiceAccountCredentials, ...args: string[]): Promise<string> => {
    const r = await e.h.kubectl(['auth', 'can-i', ...args, `--as=${serviceAccountUser(sa.sa)}`])
    return r.stdout.trim()
  }
  const { controller, gateway } = e.credentials
  t.equal(await canI(gateway, 'get', 'secrets', '-n', 'kube-system'), 'no', 'the gateway reads no Secrets outside its namespaces')
  t.equal(await canI(gateway, 'delete', 'runtimecatalogs.zerolaghub.dev'), 'no', 'nor deletes catalogs')
  t.equal(
    await canI(gateway, 'patch', 'gameservers.zerolaghub.dev', '--subresource=status', '-n', 'default'),
    'no',
    "nor writes a server's status (the controller's)",
  )
  t.equal(
    await canI(gateway, 'create', 'gameservers.zerolaghub.dev', '-n', 'default'),
    'yes',
    'but creates servers (server-side apply that creates needs create)',
  )
  t.equal(
    await canI(controller, 'patch', 'gameservers.zerolaghub.dev', '--subresource=status', '-n', 'default'),
    'yes',
    'the controller writes status',
  )
  t.equal(await canI(controller, 'create', 'gameservers.zerolaghub.dev', '-n', 'default'), 'no', 'but creates no servers')
  t.equal(await canI(controller, 'delete', 'secrets', '-n', 'default'), 'no', 'nor deletes Secrets (owner references do)')
  t.equal(await canI(controller, 'create', 'leases.coordination.k8s.io', '-n', 'kube-system'), 'no', 'leader election only in zlh-system')
  t.equal(await canI(controller, '*', '*'), 'no', 'neither is cluster-admin')
  t.equal(await canI(gateway, '*', '*'), 'no')
})
