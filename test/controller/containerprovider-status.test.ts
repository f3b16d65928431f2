// ContainerProvider status: the controller writes Ready (is the backend usable, and if not what
// to fix) and status.containers (how many containers of ours it holds), so the READY and
// CONTAINERS columns of `kubectl get containerproviders` are filled; a count follows containers
// appearing without any edit of the provider.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { setupControllers } from '../../controller/setup.ts'
import { hostCheck } from '../../controller/containerprovider.ts'
import { ProcessBackend } from '../../src/providers/index.ts'
import { Manager, RuntimeMetrics } from '../../src/runtime/index.ts'
import { silentLogger } from '../../src/runtime/log.ts'
import { CRDS, REPO, startServer } from '../apiserver/harness.ts'

const provider = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'ContainerProvider',
  metadata: { name },
  spec,
})
const ready = (cp: any) => cp.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')

t.test('hostCheck for lxc names what is missing on this host', async (t) => {
  const lxc = provider('l', { type: 'lxc', lxc: {} }) as any
  const path = process.env.PATH
  const empty = mkdtempSync(join(tmpdir(), 'zlh-nopath-'))
  t.teardown(() => {
    process.env.PATH = path
    rmSync(empty, { recursive: true, force: true })
  })
  process.env.PATH = empty
  const r = hostCheck(lxc, empty)
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.reason, process.getuid?.() === 0 ? 'LxcNotInstalled' : 'NotRoot')
})

t.test('Ready and CONTAINERS for process and proxmox providers, through kubectl', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  await h.k('wait', '--for=condition=Established', 'crd/containerproviders.zerolaghub.dev', '--timeout=30s')
  const dir = mkdtempSync(join(tmpdir(), 'zlh-cpstatus-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const aFile = join(dir, 'a-file')
  writeFileSync(aFile, '')
  const client = h.server
  const kc = new KubeConfig()
  kc.loadFromFile(client.kubeconfigPath)
  const mgr = new Manager({ kubeConfig: kc, logger: silentLogger(), metrics: new RuntimeMetrics(), gracefulShutdownTimeoutMs: 5000 })
  const handles = setupControllers(mgr, {
    stateDir: join(dir, 'state'),
    ideSuffix: 'ide.test',
    controlPlaneSources: ['127.0.0.1'],
    providerCheckIntervalMs: 300,
    logger: silentLogger(),
  })
  const good = join(dir, 'good-root')
  await mgr.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pve-token', namespace: 'default' },
    stringData: { token: 'root@pam!zlh=00000000-0000-0000-0000-000000000000' },
  })
  for (const p of [
    provider('good', { type: 'process', default: true, process: { rootDir: good, portRangeStart: 40100 } }),
    provider('blocked', { type: 'process', process: { rootDir: join(aFile, 'root') } }),
    // Port 1 on loopback: nothing listens, the API cannot answer.
    provider('pve', {
      type: 'proxmox',
      proxmox: {
        endpoint: 'https://127.0.0.1:1',
        nodes: ['pve'],
        ostemplate: 'local:vztmpl/zlh.tar.zst',
        insecureSkipVerify: true,
        credentialsSecretRef: { namespace: 'default', name: 'pve-token', key: 'token' },
      },
    }),
    provider('pve-nokey', {
      type: 'proxmox',
      proxmox: {
        endpoint: 'https://127.0.0.1:1',
        nodes: ['pve'],
        ostemplate: 'local:vztmpl/zlh.tar.zst',
        credentialsSecretRef: { namespace: 'default', name: 'missing', key: 'token' },
      },
    }),
  ])
    await mgr.client.create(p as any)
  const done = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await done.catch(() => {})
    await handles.close()
  })

  const waitFor = async (name: string, pred: (cp: any) => boolean, what: string): Promise<any> => {
    const deadline = Date.now() + 60_000
    let last: any
    while (Date.now() < deadline) {
      last = JSON.parse(await h.k('get', 'containerprovider', name, '-o', 'json'))
      if (pred(last)) return last
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last?.status)}`)
  }

  const g = await waitFor('good', (cp) => ready(cp) !== undefined, 'good Ready')
  t.match(ready(g), { status: 'True', reason: 'BackendReady', message: new RegExp(`under ${good}.*isolates nothing`) })
  t.equal(g.status.containers, 0)
  t.equal(g.status.observedGeneration, g.metadata.generation)

  const b = await waitFor('blocked', (cp) => ready(cp) !== undefined, 'blocked Ready')
  t.match(ready(b), { status: 'False', reason: 'RootDirNotWritable', message: /ENOTDIR.*spec\.process\.rootDir/ })
  t.equal(b.status.containers, undefined, 'no count when the backend cannot be used')

  const pve = await waitFor('pve', (cp) => ready(cp) !== undefined, 'pve Ready')
  t.match(ready(pve), { status: 'False', reason: 'BackendUnreachable', message: /proxmox backend did not answer/ })
  t.notMatch(ready(pve).message, /00000000-0000/, 'the token never shows')
  const nokey = await waitFor('pve-nokey', (cp) => ready(cp) !== undefined, 'pve-nokey Ready')
  t.match(ready(nokey), { status: 'False', reason: 'ProviderCredentialsMissing', message: /Secret default\/missing/ })

  // A container appears in the provider (as a server's create would make it): the count follows.
  const backend = new ProcessBackend({ rootDir: good, portRangeStart: 40100, cliPath: join(REPO, 'bin/zlh.js') })
  t.teardown(() => backend.close())
  const made = await backend.ensure({
    identity: { ownerUid: '0b7d2c1e-3f4a-4b5c-8d9e-0f1a2b3c4d5e', kind: 'GameServer', namespace: 'default', name: 'x' },
    resources: { cores: 1, memoryMiB: 256, diskGiB: 1 },
    agent: { token: 'a'.repeat(32) },
  })
  t.teardown(() => backend.delete({ ownerUid: made.ownerUid, vmid: made.vmid }))
  await waitFor('good', (cp) => cp.status?.containers === 1, 'containers: 1')

  // The root directory becomes usable again without touching the provider: Ready follows.
  rmSync(aFile)
  const recovered = await waitFor('blocked', (cp) => ready(cp)?.status === 'True', 'blocked recovers')
  t.equal(recovered.status.containers, 0)
  // And unusable again: Ready False, and no stale count.
  rmSync(join(aFile, 'root'), { recursive: true, force: true })
  rmSync(aFile, { recursive: true, force: true })
  writeFileSync(aFile, '')
  const broken = await waitFor('blocked', (cp) => ready(cp)?.status === 'False', 'blocked breaks again')
  t.equal(broken.status.containers, undefined, 'the count goes with the backend')

  const table = await h.k('get', 'containerproviders')
  t.match(table, /NAME\s+TYPE\s+DEFAULT\s+READY\s+CONTAINERS\s+AGE/)
  t.match(table, /\ngood\s+process\s+true\s+True\s+1\s+/, table)
  t.match(table, /\nblocked\s+process\s+false\s+False\s+\d+s\n/, table)
  t.match(table, /\npve\s+proxmox\s+false\s+False\s+\d+s\n/, table)
})
