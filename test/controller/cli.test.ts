// `zlh controller` as a process: kubeconfig, --leader-elect (a Lease is taken and released on
// SIGTERM), --metrics-addr (/healthz, /readyz once caches synced, /metrics with the reconcilers).
import t from 'tap'
import { spawn } from 'node:child_process'
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

t.test('zlh controller --leader-elect --metrics-addr', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', join(REPO, 'crds'))
  const port = await freePort()
  const stateDir = t.testdir()
  let output = ''
  const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), 'controller', '--kubeconfig', h.server.kubeconfigPath, '--leader-elect', '--metrics-addr', `127.0.0.1:${port}`, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  const ready = await until('/readyz', async () => { const r = await fetch(`http://127.0.0.1:${port}/readyz`); return r.status === 200 ? r : undefined })
  t.equal(ready.status, 200, 'ready once the caches synced')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
  const lease = await until('lease', async () => {
    const l = JSON.parse(await h.k('get', 'lease', 'zlh-controller', '-n', 'kube-system', '-o', 'json'))
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
  const released = JSON.parse(await h.k('get', 'lease', 'zlh-controller', '-n', 'kube-system', '-o', 'json'))
  t.notOk(released.spec.holderIdentity, 'lease released for the next replica')
})
