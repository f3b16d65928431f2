// The identities `zlh up` sets up (startSystem, as `npm start` runs it): the RBAC of
// manifests/base applied, the controller and the gateway under their ServiceAccounts (0600
// kubeconfigs and token files in <state>/credentials), and the people's admin and `view`
// kubeconfigs; a second start re-mints the tokens and the old files keep working only until
// their expiry (kube's bound tokens).
import t from 'tap'
import { execFile } from 'node:child_process'
import { get as httpsGet } from 'node:https'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { parse } from 'yaml'
import { startSystem, type RunningSystem } from '../../../src/cli/up/system.ts'
import { Progress } from '../../../src/cli/progress.ts'
import { killProcessesUnder } from '../../e2e/harness.ts'
import { REPO } from '../../apiserver/harness.ts'

t.setTimeout(240_000)

const stateDir = mkdtempSync(join(tmpdir(), 'zlh-up-ids-'))
const home = mkdtempSync(join(tmpdir(), 'zlh-up-ids-home-'))
let sys: RunningSystem | undefined
t.teardown(async () => {
  await sys?.stop()
  killProcessesUnder(stateDir)
  rmSync(stateDir, { recursive: true, force: true })
  rmSync(home, { recursive: true, force: true })
})

const start = (): Promise<RunningSystem> =>
  startSystem({ stateDir, progress: new Progress({ json: true, out: new PassThrough() }), codeServer: false })
const kubectl = (kubeconfig: string, ...args: string[]): Promise<{ code: number; out: string }> =>
  new Promise((resolve) => {
    execFile(
      'kubectl',
      [`--cache-dir=${join(home, 'cache')}`, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}`.trim() }),
    )
  })

t.test('first start: components as ServiceAccounts, people as admin and view', async (t) => {
  sys = await start()
  const { layout } = sys
  for (const name of ['zlh-controller', 'zlh-gateway']) {
    for (const f of [`${name}.kubeconfig`, `${name}.token`])
      t.equal(statSync(join(layout.credentials, f)).mode & 0o777, 0o600, `${f} is 0600`)
    const kc = parse(readFileSync(join(layout.credentials, `${name}.kubeconfig`), 'utf8'))
    t.equal(kc.users[0].name, `system:serviceaccount:zlh-system:${name}`)
    const token = readFileSync(join(layout.credentials, `${name}.token`), 'utf8')
    // docs: kubectl auth whoami; the admin asks as the token would be seen.
    const who = await kubectl(layout.kubeconfig, `--token=${token}`, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')
    t.equal(who.out, `system:serviceaccount:zlh-system:${name}`, `${name}'s token authenticates as its ServiceAccount`)
  }
  t.same(sys.componentKubeconfigs, {
    controller: join(layout.credentials, 'zlh-controller.kubeconfig'),
    gateway: join(layout.credentials, 'zlh-gateway.kubeconfig'),
  })
  t.equal((await kubectl(layout.kubeconfig, 'auth', 'can-i', '*', '*')).out, 'yes', 'kubeconfig: the admin')

  t.equal(sys.viewKubeconfig, layout.viewKubeconfig)
  t.equal(statSync(layout.viewKubeconfig).mode & 0o777, 0o600, 'kubeconfig-view is 0600')
  t.match((await kubectl(layout.viewKubeconfig, 'auth', 'whoami')).out, /zlh:viewers/, 'kubeconfig-view: the reader, in group zlh:viewers')
  t.equal(
    (await kubectl(layout.viewKubeconfig, 'auth', 'can-i', 'list', 'gameservers.zerolaghub.dev', '-A')).out,
    'yes',
    'view reads our kinds (rbac-aggregate.yaml)',
  )
  t.equal((await kubectl(layout.viewKubeconfig, 'auth', 'can-i', 'get', 'secrets', '-n', 'zlh-system')).out, 'no', 'but no Secrets')
  t.equal((await kubectl(layout.viewKubeconfig, 'auth', 'can-i', 'create', 'gameservers.zerolaghub.dev')).out, 'no', 'and writes nothing')
  const zlh = (...args: string[]): Promise<string> =>
    new Promise((resolve) => execFile(process.execPath, [join(REPO, 'bin/zlh.js'), ...args], (_e, out) => resolve(out.trim())))
  t.equal(
    await zlh('kubeconfig', '--view', '--state-dir', stateDir),
    `export KUBECONFIG=${layout.viewKubeconfig}`,
    'zlh kubeconfig --view points at it',
  )
  t.equal(await zlh('kubeconfig', '--state-dir', stateDir), `export KUBECONFIG=${layout.kubeconfig}`, "zlh kubeconfig still the admin's")

  // Everything the base lists is there, applied by zlh up.
  t.match(
    (await kubectl(layout.kubeconfig, 'get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/part-of=zlh', '-o', 'name')).out,
    /clusterrole\.rbac\.authorization\.k8s\.io\/zlh-aggregate-to-edit[\s\S]*clusterrolebinding\.rbac\.authorization\.k8s\.io\/zlh-gateway/,
  )
  t.match((await kubectl(layout.kubeconfig, 'get', 'rolebindings', '-n', 'zlh-system', '-o', 'name')).out, /zlh-controller-leader-election/)
})

t.test('a second start mints new tokens', async (t) => {
  const layout = (sys as RunningSystem).layout
  const before = readFileSync(join(layout.credentials, 'zlh-gateway.token'), 'utf8')
  await sys?.stop()
  sys = await start()
  const after = readFileSync(join(layout.credentials, 'zlh-gateway.token'), 'utf8')
  t.not(after, before, 'a fresh token')
  t.equal(
    (await kubectl(layout.kubeconfig, `--token=${after}`, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).out,
    'system:serviceaccount:zlh-system:zlh-gateway',
  )
  const running = sys
  const status = await new Promise<number>((resolve, reject) => {
    httpsGet(running.portalUrl, { ca: readFileSync(running.caFile), headers: { authorization: `Bearer ${running.adminToken}` } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', reject)
  })
  t.equal(status, 200, 'the portal lists servers (its informers run as zlh-gateway)')
})
