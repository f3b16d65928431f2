// Security regressions of `zlh up`'s identities (issue 18, part U): the controller and the gateway
// no longer hold the admin token — each runs as its ServiceAccount and can do no more than
// manifests/base grants (no RBAC writes, no impersonation, no token minting, no Secrets outside
// its namespaces); every file holding a credential is 0600 in a 0700 directory; no credential of
// any kind reaches a log file or up.json.
// Sources: kubectl auth can-i (docs), "Using RBAC Authorization" (privilege escalation prevention),
// "Managing Service Accounts" (TokenRequest needs create on serviceaccounts/token).
import t from 'tap'
import { execFile } from 'node:child_process'
import { request as httpsRequest } from 'node:https'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { startSystem, type RunningSystem } from '../../src/cli/up/system.ts'
import { Progress } from '../../src/cli/progress.ts'
import { killProcessesUnder } from '../e2e/harness.ts'

t.setTimeout(240_000)

const stateDir = mkdtempSync(join(tmpdir(), 'zlh-sec-up-'))
const home = mkdtempSync(join(tmpdir(), 'zlh-sec-up-home-'))
const sys: RunningSystem = await startSystem({
  stateDir,
  progress: new Progress({ json: true, out: new PassThrough() }),
  codeServer: false,
})
t.teardown(async () => {
  await sys.stop()
  killProcessesUnder(stateDir)
  rmSync(stateDir, { recursive: true, force: true })
  rmSync(home, { recursive: true, force: true })
})
const { layout } = sys
/** kubectl's answer: stdout (can-i's yes/no), or stderr when stdout is empty (a refusal). */
const kubectl = (...args: string[]): Promise<string> =>
  new Promise((resolve) => {
    execFile(
      'kubectl',
      [`--cache-dir=${join(home, 'cache')}`, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: layout.kubeconfig }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve(stdout.trim() || stderr.trim()),
    )
  })
const saToken = (name: string): string => readFileSync(join(layout.credentials, `${name}.token`), 'utf8')

t.test('the components are not admins: what their ServiceAccounts may not do', async (t) => {
  for (const name of ['zlh-controller', 'zlh-gateway']) {
    const as = (...args: string[]): Promise<string> => kubectl(`--token=${saToken(name)}`, 'auth', 'can-i', ...args)
    t.equal(await as('*', '*'), 'no', `${name}: not cluster-admin`)
    t.equal(await as('create', 'clusterrolebindings'), 'no', `${name}: binds nothing cluster-wide`)
    t.equal(await as('escalate', 'clusterroles'), 'no', `${name}: may not escalate roles`)
    t.equal(await as('impersonate', 'users'), 'no', `${name}: may not impersonate`)
    t.equal(await as('impersonate', 'groups'), 'no', `${name}: nor groups`)
    t.equal(await as('create', 'serviceaccounts/token', '-n', 'zlh-system'), 'no', `${name}: mints no tokens`)
    t.equal(await as('update', 'clusterroles'), 'no', `${name}: changes no role`)
  }
  const gateway = (...args: string[]): Promise<string> => kubectl(`--token=${saToken('zlh-gateway')}`, 'auth', 'can-i', ...args)
  t.equal(await gateway('get', 'secrets', '-n', 'kube-system'), 'no', 'the gateway reads no Secrets of kube-system')
  t.equal(await gateway('list', 'secrets', '-n', 'default'), 'no', 'and lists no tenant Secrets (get of agent tokens only)')
  t.equal(
    await kubectl(`--token=${saToken('zlh-controller')}`, 'auth', 'can-i', 'delete', 'secrets', '-n', 'default'),
    'no',
    'the controller deletes no Secret (owner references do)',
  )
})

t.test("the people's read-only identity reads no Secret", async (t) => {
  const view = (...args: string[]): Promise<string> => kubectl(`--kubeconfig=${layout.viewKubeconfig}`, ...args)
  t.equal(await view('auth', 'can-i', 'get', 'secrets', '-A'), 'no')
  t.match(await view('get', 'secrets', '-n', 'zlh-system'), /Forbidden/)
  t.equal(await view('auth', 'can-i', 'create', 'serviceaccounts/token', '-n', 'zlh-system'), 'no', "nor mints a component's token")
})

t.test('credential files are 0600 in 0700 directories', async (t) => {
  t.equal(statSync(layout.credentials).mode & 0o777, 0o700, 'credentials/ is 0700')
  for (const f of readdirSync(layout.credentials))
    t.equal(statSync(join(layout.credentials, f)).mode & 0o777, 0o600, `credentials/${f} is 0600`)
  for (const f of [layout.kubeconfig, layout.viewKubeconfig, layout.adminTokenFile, layout.runtimeFile])
    t.equal(statSync(f).mode & 0o777, 0o600, `${f} is 0600`)
  t.notMatch(
    readFileSync(join(layout.credentials, 'zlh-controller.kubeconfig'), 'utf8'),
    saToken('zlh-controller'),
    'the component kubeconfig names the token file, it does not hold the token',
  )
})

t.test('no credential in any log or in up.json', async (t) => {
  const secrets = [saToken('zlh-controller'), saToken('zlh-gateway'), sys.api.adminToken, sys.api.readOnlyToken, sys.adminToken].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  )
  t.equal(secrets.length, 5, 'five credentials to look for')
  const files = [...readdirSync(layout.logs).map((f) => join(layout.logs, f)), layout.runtimeFile]
  t.ok(
    files.some((f) => f.endsWith('credentials.log')),
    'the rotation log is among them',
  )
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    t.notOk(
      secrets.some((s) => text.includes(s)),
      `${f}: no token`,
    )
  }
})

t.test('the running components act as those ServiceAccounts: unbound, they are refused', async (t) => {
  // Without its ClusterRoleBinding the gateway may not create servers: the portal's create is a 403
  // naming the call (an admin-token gateway would have created it).
  t.match(await kubectl('delete', 'clusterrolebinding', 'zlh-gateway'), /deleted/)
  const body = JSON.stringify({
    name: 'denied',
    spec: {
      game: 'minecraft',
      runtime: { name: 'node', channel: 'stable' },
      package: { name: 'flying-squid', channel: 'stable' },
      server: { command: ['flying-squid'], port: 25999 },
      resources: { cores: 1, memoryMiB: 512, diskGiB: 1 },
      running: false,
    },
  })
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpsRequest(
      `${sys.gatewayUrl}/api/game`,
      {
        method: 'POST',
        ca: readFileSync(sys.caFile),
        headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = ''
        res.on('data', (c: Buffer) => {
          text += c.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
  t.equal(answer.status, 403, answer.text)
  t.match(answer.text, /create/)
  t.match(await kubectl('get', 'gameserver', 'denied'), /NotFound/, 'nothing created')

  // Without its ClusterRoleBinding the controller may not put its finalizer on a new server: its log says so.
  t.match(await kubectl('delete', 'clusterrolebinding', 'zlh-controller'), /deleted/)
  t.match(await kubectl('create', 'namespace', 'tenant-x'), /created/)
  const gs = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'unbound', namespace: 'tenant-x' },
    spec: JSON.parse(body).spec,
  }
  const applied = await new Promise<string>((resolve) => {
    const child = execFile(
      'kubectl',
      [`--cache-dir=${join(home, 'cache')}`, 'apply', '-f', '-'],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: layout.kubeconfig } },
      (_e, out, err) => resolve(`${out}${err}`),
    )
    child.stdin?.end(JSON.stringify(gs))
  })
  t.match(applied, /created/)
  const log = join(layout.logs, 'controller.log')
  const deadline = Date.now() + 60_000
  let line: any
  while (line === undefined && Date.now() < deadline) {
    line = readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l)]
        } catch {
          return []
        }
      })
      .find((l) => l.forbidden !== undefined && l.name === 'unbound')
    if (line === undefined) await new Promise((r) => setTimeout(r, 250))
  }
  t.match(
    line,
    { level: 50, forbidden: { user: 'system:serviceaccount:zlh-system:zlh-controller' } },
    'the controller is refused as zlh-controller and says so',
  )
})
