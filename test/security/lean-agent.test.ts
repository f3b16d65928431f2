// Security regressions of the lean agent (issue 23): what providers run in every container is a
// bundle from a cache, so the cache must never hand out code that is not the build of the
// current sources, nor be writable by others; and the bundled agent still takes its token only
// from a file (never its command line).
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { bundle, type BundleSpec } from '../../src/platform/node-bundle.ts'
import { agentLaunch } from '../../src/providers/agent-launch.ts'
import { waitForAgent } from '../../src/providers/agent-probe.ts'
import { freePort } from '../agent/game/helpers.ts'

const REPO = path.join(import.meta.dirname, '..', '..')

function project(t: Test): BundleSpec {
  const dir = t.testdir()
  mkdirSync(path.join(dir, 'src'))
  writeFileSync(path.join(dir, 'src/main.ts'), "console.log('genuine')\n")
  return { entries: { main: path.join(dir, 'src/main.ts') }, cacheDir: path.join(dir, 'cache') }
}
const run = (file: string) => execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim()

t.test('a cached bundle whose file was changed after the build is rebuilt, never run as is', async (t) => {
  const spec = project(t)
  const first = await bundle(spec)
  writeFileSync(first.files.main!, "console.log('tampered')\n")
  const second = await bundle(spec)
  t.equal(second.built, true, 'the changed build is not taken from the cache')
  t.equal(run(second.files.main!), 'genuine')
})

t.test('a directory planted under the build hash with other bytes is replaced by the real build', async (t) => {
  const spec = project(t)
  const real = await bundle(spec)
  // Plant: same directory name, other content, index forgotten (as if never built here).
  writeFileSync(real.files.main!, "console.log('planted')\n")
  writeFileSync(path.join(spec.cacheDir, 'index.json'), '{}')
  const again = await bundle(spec)
  t.equal(again.dir, real.dir)
  t.equal(run(again.files.main!), 'genuine')
})

t.test('the agent bundle and its directories are writable by their owner only', async (t) => {
  const launch = await agentLaunch(REPO)
  for (const p of [launch.agentScript, launch.wrapperScript, path.dirname(launch.agentScript)]) {
    t.equal(statSync(p).mode & 0o022, 0, `${path.relative(REPO, p)} is not group- or world-writable`)
  }
})

t.test('the bundled agent reads its token from the file; the token is not on its command line', async (t) => {
  const launch = await agentLaunch(REPO)
  const root = t.testdir()
  const token = randomBytes(24).toString('hex')
  writeFileSync(path.join(root, 'token'), token, { mode: 0o600 })
  // A port free now (a random one could be another test's), and the agent's stderr kept to say why it did not answer.
  const port = await freePort()
  const child = spawn(
    launch.command,
    [...launch.args, '--root', root, '--listen', `127.0.0.1:${port}`, '--token-file', path.join(root, 'token'), '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  )
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 8192) stderr += c.toString()
  })
  const exited = new Promise((r) => child.once('exit', r))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  await waitForAgent(`http://127.0.0.1:${port}`, token, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; agent exit ${child.exitCode ?? child.signalCode ?? 'none'}; stderr: ${stderr || '(empty)'}`)
  })
  t.notMatch(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), token, 'not on the command line')
  t.notMatch(readFileSync(`/proc/${child.pid}/environ`, 'utf8'), token, 'not in the environment')
  const wrong = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token.slice(0, -1)}x` } })
  t.equal(wrong.status, 401, 'a wrong token is refused')
})
