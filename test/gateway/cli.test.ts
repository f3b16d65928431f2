// `zlh gateway` as a process against the embedded API server through a kubeconfig: serves the
// portal, prints the bootstrap admin token once (stderr, never in the JSON log line), stops on SIGTERM.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startTestEnv } from '../../src/runtime/envtest/index.ts'
import { CRDS } from './portal/portal-env.ts'

const ZLH = join(import.meta.dirname, '..', '..', 'bin', 'zlh.js')

t.test('zlh gateway --kubeconfig --listen --ide-suffix', async (t) => {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const child = spawn(
    process.execPath,
    [ZLH, 'gateway', '--kubeconfig', env.server.kubeconfigPath, '--listen', '127.0.0.1:0', '--ide-suffix', 'zlh.test'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (c) => {
    out += c
  })
  child.stderr.on('data', (c) => {
    err += c
  })
  const until = Date.now() + 60_000
  while (!/"gateway serving"/.test(out)) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`gateway did not start: ${out}\n${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const line = JSON.parse(out.split('\n').find((l) => l.includes('gateway serving'))!)
  const token = /^\s+(zlh_\S+)$/m.exec(err)?.[1]
  t.ok(token, 'bootstrap admin token printed on stderr')
  t.notOk(out.includes(token!), 'and not on stdout (the log stream)')
  const res = await fetch(`${line.url}/api/servers`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(res.status, 200)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM → clean exit')
})
