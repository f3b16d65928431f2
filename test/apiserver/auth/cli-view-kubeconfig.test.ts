// `zlh apiserver --view-kubeconfig FILE`: a real process writes, besides the admin kubeconfig, a
// 0600 kubeconfig for the read-only user, which kubectl uses as the view identity.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { REPO } from '../harness.ts'

function kubectl(dir: string, kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      [`--cache-dir=${join(dir, 'kube-cache')}`, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: kubeconfig }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        })
      },
    )
  })
}

t.test("zlh apiserver --view-kubeconfig writes the reader's kubeconfig", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-view-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const view = join(dir, 'kubeconfig-view')
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'src', 'cli', 'main.ts'),
      'apiserver',
      '--data-dir',
      join(dir, 'data'),
      '--port',
      '0',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--view-kubeconfig',
      view,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface(child.stdout!).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`apiserver exited early (${code})`)))
  })
  t.match(JSON.parse(line), { msg: 'apiserver serving', viewKubeconfig: view })
  t.equal(statSync(view).mode & 0o777, 0o600, 'the view kubeconfig is 0600')
  const who = await kubectl(dir, view, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'])
  t.equal(who.stdout, 'reader ["zlh:viewers","system:authenticated"]', who.stderr)
  const secrets = await kubectl(dir, view, ['get', 'secrets', '-n', 'default'])
  t.not(secrets.code, 0, 'the view identity reads no Secrets')
  const admin = await kubectl(dir, join(dir, 'kubeconfig'), ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])
  t.equal(admin.stdout, 'admin', 'the admin kubeconfig is still the admin')
})
