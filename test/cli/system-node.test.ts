// The `zlh` command on a machine whose own Node is older than the pinned Node 24: npm (running on
// the system Node) stays quiet, and the command still runs on the pinned Node. When the system Node
// itself is run on bin/zlh.js, it refuses with a message that says what to do.
//
// Runs the machine's own npm and node, found on PATH outside node_modules, in a fresh HOME (an
// empty npm cache and no user npmrc: what a newcomer has), offline and without the update check.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

const REPO = join(import.meta.dirname, '..', '..')

/** PATH without the node_modules/.bin entries npm scripts prepend: what a login shell has. */
const systemPath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d && !d.includes('node_modules'))
  .join(delimiter)
const onSystemPath = (name: string) =>
  systemPath
    .split(delimiter)
    .map((d) => join(d, name))
    .find((f) => existsSync(f))

const systemNode = onSystemPath('node')
const systemNpm = onSystemPath('npm')
const systemNodeVersion = systemNode ? spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : ''
const systemNodeMajor = Number(/^v(\d+)/.exec(systemNodeVersion)?.[1] ?? NaN)
const skip =
  !systemNode || !systemNpm
    ? 'no system node and npm on PATH outside node_modules'
    : !(systemNodeMajor < 24)
      ? `the system Node is ${systemNodeVersion}: no older Node to check against`
      : false

/** Runs `cmd args` as a newcomer would: system PATH, a fresh HOME, no npm_* variables of ours. */
function asNewcomer(t: Test, cmd: string, args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'zlh-newcomer-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  const env: Record<string, string> = {
    HOME: home,
    PATH: systemPath,
    npm_config_update_notifier: 'false',
    npm_config_offline: 'true',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  }
  for (const k of ['NODE_EXTRA_CA_CERTS', 'LANG', 'TMPDIR']) if (process.env[k]) env[k] = process.env[k]!
  return spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', timeout: 120_000 })
}

t.test('npx zlh on an older system Node prints no EBADENGINE warning and runs on the pinned Node', { skip }, async (t) => {
  const r = asNewcomer(t, systemNpm!, ['exec', 'zlh', '--', '--help'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Usage: zlh/)
  t.notMatch(r.stderr, /EBADENGINE/, 'npm checks no engines that the system Node cannot meet')
  t.notMatch(r.stderr, /npm warn/, 'nothing else to warn about either')
})

t.test('npm start on an older system Node prints no EBADENGINE warning', { skip }, async (t) => {
  const r = asNewcomer(t, systemNpm!, ['start', '--', '--help'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Usage: zlh up/)
  t.notMatch(r.stderr, /EBADENGINE|npm warn/)
})

t.test('bin/zlh.js run by an older Node says it needs Node 24 and how to get it', { skip }, async (t) => {
  const r = asNewcomer(t, systemNode!, [join(REPO, 'bin', 'zlh.js'), '--help'])
  t.equal(r.status, 1)
  t.match(r.stderr, `zlh needs Node.js 24 or newer; this is ${systemNodeVersion}`)
  t.match(r.stderr, /npx zlh …` or `npm start`/)
  t.notMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION/, 'refused before any TypeScript is loaded')
})
