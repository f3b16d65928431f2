// `zlh controller` as a process: kubeconfig, --leader-elect (a Lease is taken in
// --leader-election-namespace and released on SIGTERM; outside a pod without that flag it refuses
// to start rather than write kube-system), --metrics-addr (/healthz, /readyz once caches synced,
// /metrics with the reconcilers), --metrics-token-file (a missing file refuses /metrics).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import pino from 'pino'
import { metricsTokenFrom } from '../../controller/cli.ts'
import { leaderElectionNamespace } from '../../controller/main.ts'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { REPO, startServer } from '../apiserver/harness.ts'

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

// The environment of a process outside a pod (no $POD_NAMESPACE).
const { POD_NAMESPACE: _podNamespace, ...outsidePod } = process.env

t.test('zlh controller --leader-elect --leader-election-namespace --metrics-addr', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', join(REPO, 'crds'))
  await h.k('create', 'namespace', 'zlh-lease')
  const port = await freePort()
  const stateDir = t.testdir()
  let output = ''
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'src/cli/main.ts'),
      'controller',
      '--kubeconfig',
      h.server.kubeconfigPath,
      '--leader-elect',
      '--leader-election-namespace',
      'zlh-lease',
      '--metrics-addr',
      `127.0.0.1:${port}`,
      '--state-dir',
      stateDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: outsidePod },
  )
  child.stdout.on('data', (d) => {
    output += d
  })
  child.stderr.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  const ready = await until('/readyz', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`)
    return r.status === 200 ? r : undefined
  })
  t.equal(ready.status, 200, 'ready once the caches synced')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
  const lease = await until('lease', async () => {
    const l = JSON.parse(await h.k('get', 'lease', 'zlh-controller', '-n', 'zlh-lease', '-o', 'json'))
    return l.spec?.holderIdentity ? l : undefined
  })
  t.ok(lease.spec.holderIdentity, `lease held by ${lease.spec.holderIdentity}`)
  const metrics = await until('reconciler metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    return text.includes('controller="gameserver"') && text.includes('controller="runtimecatalog"') ? text : undefined
  })
  t.match(metrics, /controller_runtime_max_concurrent_reconciles\{controller="devserver"\} 8/)
  child.kill('SIGTERM')
  t.equal(await exited, 0, `exits 0 on SIGTERM: ${output.slice(-500)}`)
  const released = JSON.parse(await h.k('get', 'lease', 'zlh-controller', '-n', 'zlh-lease', '-o', 'json'))
  t.notOk(released.spec.holderIdentity, 'lease released for the next replica')
  t.equal((await h.kubectl(['get', 'lease', 'zlh-controller', '-n', 'kube-system'])).code, 1, 'nothing written to kube-system')
})

// Outside a pod there is no namespace to guess (controller-runtime's rule too: "not running
// in-cluster, please specify LeaderElectionNamespace"); kube-system is not the controller's to write.
t.test('--leader-elect outside a pod without --leader-election-namespace: a clear error, exit 1', async (t) => {
  const dir = t.testdir({
    kubeconfig:
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
  })
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'src/cli/main.ts'), 'controller', '--kubeconfig', join(dir, 'kubeconfig'), '--leader-elect', '--state-dir', dir],
    { env: outsidePod, encoding: 'utf8', timeout: 60_000 },
  )
  t.equal(r.status, 1)
  t.match(r.stderr, /--leader-elect outside a pod needs --leader-election-namespace/)
  const bad = spawnSync(
    process.execPath,
    [
      join(REPO, 'src/cli/main.ts'),
      'controller',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--leader-elect',
      '--leader-election-namespace',
      'Not_A_Namespace',
    ],
    { env: outsidePod, encoding: 'utf8', timeout: 60_000 },
  )
  t.equal(bad.status, 2)
  t.match(bad.stderr, /--leader-election-namespace "Not_A_Namespace" is not a namespace name/)
})

t.test('the Lease namespace in a pod: the ServiceAccount namespace file, then $POD_NAMESPACE', async (t) => {
  const dir = t.testdir({ namespace: 'zlh-prod\n', empty: '' })
  t.equal(leaderElectionNamespace(join(dir, 'namespace'), {}), 'zlh-prod', 'the mounted namespace file')
  t.equal(leaderElectionNamespace(join(dir, 'namespace'), { POD_NAMESPACE: 'other' }), 'zlh-prod', 'the file wins over the env')
  t.equal(leaderElectionNamespace(join(dir, 'missing'), { POD_NAMESPACE: 'from-env' }), 'from-env')
  t.throws(() => leaderElectionNamespace(join(dir, 'empty'), {}), /needs --leader-election-namespace/)
})

t.test('--metrics-token-file: the token, a missing file refuses /metrics, an empty one is an error', async (t) => {
  const dir = t.testdir({ token: '  s3cret-token\n', empty: '\n' })
  const log = pino({ level: 'silent' })
  t.equal(metricsTokenFrom(join(dir, 'token'), log), 's3cret-token')
  const a = metricsTokenFrom(join(dir, 'missing'), log)
  const b = metricsTokenFrom(join(dir, 'missing'), log)
  t.match(a, /^[0-9a-f]{64}$/, 'an unguessable token nobody was given')
  t.not(a, b, 'a new one each start')
  t.throws(() => metricsTokenFrom(join(dir, 'empty'), log), /--metrics-token-file .* is empty/)
})
