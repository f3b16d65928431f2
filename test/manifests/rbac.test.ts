// RBAC of manifests/ against what the code really calls: the controller and the gateway run
// against the embedded API server through their own recording proxies while real servers go
// through their life (GameServer + DevServer Ready, portal reads and writes, leader election,
// deletes with finalizers). Every recorded request must be allowed by the roles the kustomize
// output gives that component's ServiceAccount; the test names each missing permission.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import pino from 'pino'
import { startController } from '../../controller/index.ts'
import { startGatewayService } from '../../src/gateway/service.ts'
import { Client } from '../../src/runtime/index.ts'
import { runtimeCatalog } from '../../controller/artifacts/index.ts'
import { REPO } from '../apiserver/harness.ts'
import { buildArtifacts, startE2E } from '../e2e/harness.ts'
import { allowed, attributesOf, grantsFor, key, recordingProxy } from './rbac-audit.ts'

t.setTimeout(8 * 60_000)

const built = await new Promise<string>((resolve, reject) => execFile('kubectl', ['kustomize', join(REPO, 'manifests')], { maxBuffer: 64 << 20 }, (e, out) => e ? reject(e) : resolve(out)))
const objs = parseAllDocuments(built).map((d) => d.toJS()).filter(Boolean)

t.test('the attribute mapping', async (t) => {
  t.same(attributesOf({ method: 'GET', url: '/apis/zerolaghub.dev/v1alpha1/gameservers?watch=true&resourceVersion=5' }), { verb: 'watch', apiGroup: 'zerolaghub.dev', resource: 'gameservers', namespace: undefined })
  t.same(attributesOf({ method: 'PATCH', url: '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/x/status' }), { verb: 'patch', apiGroup: 'zerolaghub.dev', resource: 'gameservers/status', namespace: 'default' })
  t.same(attributesOf({ method: 'POST', url: '/api/v1/namespaces' }), { verb: 'create', apiGroup: '', resource: 'namespaces', namespace: undefined })
  t.equal(attributesOf({ method: 'GET', url: '/apis/zerolaghub.dev/v1alpha1' }), undefined, 'discovery is a non-resource URL')
  const grants = grantsFor(objs, 'zlh-system', 'zlh-gateway')
  t.notOk(allowed(grants, { verb: 'get', apiGroup: '', resource: 'secrets', namespace: 'kube-system' }), 'the gateway reads no Secrets outside its namespaces')
  t.notOk(allowed(grants, { verb: 'delete', apiGroup: 'zerolaghub.dev', resource: 'runtimecatalogs' }), 'nor deletes catalogs')
})

t.test('every call of the controller and the gateway is allowed by their roles', async (t) => {
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  const server = e.h.server
  const controllerProxy = await recordingProxy(server.url, server.caPem)
  const gatewayProxy = await recordingProxy(server.url, server.caPem)
  t.teardown(() => Promise.all([controllerProxy.close(), gatewayProxy.close()]))
  const kubeconfigFor = (url: string, name: string): string => {
    const file = join(e.stateDir, `${name}.kubeconfig`)
    writeFileSync(file, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': name,
      clusters: [{ name, cluster: { server: url, 'insecure-skip-tls-verify': true } }] /* plain HTTP loopback proxy: no TLS to verify */, users: [{ name, user: { token: server.adminToken } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
    }), { mode: 0o600 })
    return file
  }
  const controller = startController({
    kubeconfig: kubeconfigFor(controllerProxy.url, 'controller'), stateDir: e.stateDir, ideSuffix: 'ide.test', leaderElect: true, leaseNamespace: 'zlh-system',
    logger: pino({ level: 'silent' }), orphanIntervalMs: 1000,
  })
  t.teardown(() => controller.stop())
  await e.h.k('create', 'namespace', 'zlh-system')
  const gwClient = Client.fromKubeConfigFile(kubeconfigFor(gatewayProxy.url, 'gateway'))
  const gw = await startGatewayService({ client: gwClient, listen: '127.0.0.1:0', ideSuffix: 'ide.test', publicScheme: 'http', adminTokenFile: join(e.stateDir, 'admin-token') })
  t.teardown(async () => { await gw.close(); gwClient.close() })
  const { readFileSync } = await import('node:fs')
  const token = readFileSync(join(e.stateDir, 'admin-token'), 'utf8').trim()
  const api = (method: string, path: string, body?: unknown) => fetch(`${gw.gateway.url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  })

  // A game server through the portal (server-side apply), a dev server with kubectl.
  const gamePort = e.portBase + 95
  const put = await api('PUT', '/api/game/squid', { spec: {
    game: 'minecraft', runtime: { name: 'node', channel: 'stable' }, package: { name: 'flying-squid', channel: 'stable' },
    server: { command: ['flying-squid'], args: ['--offline'], port: gamePort, stopCommand: 'stop', gracePeriodSeconds: 5 },
    resources: { cores: 1, memoryMiB: 1024, diskGiB: 4 }, running: true,
  } })
  t.ok(put.ok, `portal create: ${put.status} ${await put.clone().text()}`)
  await e.apply(readFileSync(join(REPO, 'manifests/examples/devserver.yaml'), 'utf8'))
  await e.apply(stringify(runtimeCatalog('code-server', [{ artifact: art.codeServer, url: art.url(art.codeServer) }], { stable: art.codeServer.version })))
  t.equal((await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', 'devserver/workbench', '--timeout=240s'], { timeoutMs: 250_000 })).code, 0, 'both Ready')
  for (const [m, p] of [['GET', '/api/servers'], ['GET', '/api/runtimes'], ['GET', '/api/servers/squid/status'], ['GET', '/api/game/squid/files/'], ['POST', '/api/dev/workbench/ide-token'], ['GET', '/api/tokens']] as const) {
    // Only the API calls behind each route matter here, not whether the route succeeds.
    const r = await api(m, p, m === 'POST' ? {} : undefined)
    t.comment(`${m} ${p} → ${r.status}`)
  }
  t.ok((await api('DELETE', '/api/game/squid')).status < 300, 'portal delete')
  await e.h.k('delete', 'devserver', 'workbench', '--wait=true', '--timeout=120s')
  await e.h.k('wait', '--for=delete', 'gameserver/squid', '--timeout=120s')

  for (const [name, proxy] of [['zlh-controller', controllerProxy], ['zlh-gateway', gatewayProxy]] as const) {
    const grants = grantsFor(objs, 'zlh-system', name)
    const used = new Set(proxy.calls.map(attributesOf).filter((a) => a !== undefined).map((a) => JSON.stringify(a)))
    t.ok(used.size > 5, `${name}: calls recorded (${used.size})`)
    const missing = [...used].map((s) => JSON.parse(s)).filter((a) => !allowed(grants, a)).map(key)
    t.same(missing, [], `${name}: every call is allowed by manifests/ (add what is listed to its role)`)
    t.comment(`${name} used: ${[...used].map((s) => key(JSON.parse(s))).sort().join('; ')}`)
  }
})
