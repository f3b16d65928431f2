// How providers start the agent (src/providers/agent-launch.ts): the project's agent bundle,
// started with its Node flags, is the real agent (answers GET /status with the package's version,
// which a bundle must carry itself), and the wrapper it starts is the bundle's own: the native
// game-wrapper (this machine has a C compiler), with wrapper.cjs beside it for machines without one.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AGENT_NODE_FLAGS, agentBundleDir, agentLaunch } from '../../src/providers/agent-launch.ts'
import { launchRun, runFiles } from '../../agent/game/launcher.ts'
import { waitForAgent } from '../../src/providers/agent-probe.ts'

const REPO = path.join(import.meta.dirname, '..', '..')
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }

t.test('the bundle lives in the project cache, agent.cjs beside the game wrappers; one build per process', async (t) => {
  const launch = await agentLaunch(REPO)
  t.equal(path.dirname(path.dirname(launch.agentScript)), agentBundleDir(REPO))
  t.equal(path.dirname(launch.wrapperScript), path.dirname(launch.agentScript))
  t.equal(path.basename(launch.agentScript), 'agent.cjs')
  t.equal(path.basename(launch.wrapperScript), 'game-wrapper', launch.nativeWrapperMissing ?? 'the native wrapper')
  t.equal(launch.nativeWrapperMissing, undefined)
  t.ok(existsSync(path.join(path.dirname(launch.agentScript), 'wrapper.cjs')), 'wrapper.cjs is there too')
  t.equal(launch.command, process.execPath)
  t.equal(launch.args.at(-1), launch.agentScript)
  t.equal(await agentLaunch(REPO), launch, 'the second call reuses the first answer')
})

t.test('the bundled agent serves the API with the package version and the flags of zlh agent', async (t) => {
  const launch = await agentLaunch(REPO)
  const root = t.testdir()
  const token = randomBytes(24).toString('hex')
  writeFileSync(path.join(root, 'token'), token)
  const port = 21000 + Math.floor(Math.random() * 9000)
  const child = spawn(
    launch.command,
    [...launch.args, '--root', root, '--listen', `127.0.0.1:${port}`, '--token-file', path.join(root, 'token'), '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: root },
  )
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise((r) => child.once('exit', r))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const url = `http://127.0.0.1:${port}`
  await waitForAgent(url, token, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; agent stderr: ${stderr}`)
  })
  const res = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(res.status, 200)
  const status = (await res.json()) as { agentVersion?: string }
  t.equal(status.agentVersion, pkg.version, 'the version is built into the bundle')
  const denied = await fetch(`${url}/status`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })
  t.equal(denied.status, 401, 'the bearer check is in the bundle too')

  // A game the bundled agent starts is held by the bundle's native wrapper.
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const put = await fetch(`${url}/game`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ server: { command: ['/bin/sh', '-c', 'while read l; do :; done'], gracePeriodSeconds: 1 }, running: true }),
  })
  const game = (await put.json()) as { state: string; pid: number | null }
  t.equal(game.state, 'Running', JSON.stringify(game))
  const wrapperPid = readFileSync(`/proc/${game.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]!
  t.equal(readlinkSync(`/proc/${wrapperPid}/exe`), launch.wrapperScript, 'the game runs under the native game-wrapper')
  const stopped = (await (await fetch(`${url}/game/stop`, { method: 'POST', headers: { authorization: auth.authorization } })).json()) as {
    state: string
  }
  t.equal(stopped.state, 'Stopped')
})

for (const which of ['game-wrapper', 'wrapper.cjs']) {
  t.test(`the bundled ${which} holds a game and reports its exit`, async (t) => {
    const launch = await agentLaunch(REPO)
    const wrapper = path.join(path.dirname(launch.agentScript), which)
    const dir = t.testdir()
    const files = runFiles(path.join(dir, 'run'))
    const result = await launchRun(
      files,
      {
        runId: 'bundled',
        command: 'sleep',
        args: ['30'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        cwd: dir,
        logFile: path.join(dir, 'console.log'),
        logMaxBytes: 1 << 20,
        logKeep: 1,
      },
      15_000,
      wrapper,
    )
    t.ok(result.run, 'the game runs')
    const cmdline = readFileSync(`/proc/${result.run!.wrapperPid}/cmdline`, 'utf8').split('\0')
    if (which === 'game-wrapper') {
      t.equal(readlinkSync(`/proc/${result.run!.wrapperPid}/exe`), wrapper, 'the wrapper process is the native program')
    } else {
      t.ok(cmdline.includes(wrapper), 'the wrapper process is the bundle file')
      t.ok(cmdline.includes('--lite-mode'), 'started with the wrapper flags')
    }
    process.kill(-result.run!.gamePid, 'SIGTERM')
    for (let i = 0; i < 200 && !existsSync(files.exitFile); i++) await new Promise((r) => setTimeout(r, 25))
    const exit = JSON.parse(readFileSync(files.exitFile, 'utf8')) as { runId: string; signal: string | null }
    t.equal(exit.runId, 'bundled')
    t.equal(exit.signal, 'SIGTERM')
  })
}

t.test('the bundled agent needs no WebAssembly: lite mode has none, and Node’s global fetch needs it', async (t) => {
  // `node --lite-mode` fails every global fetch() with "WebAssembly is not defined"; code run from
  // the sources in tests would not notice, the agent in a container would.
  const launch = await agentLaunch(REPO)
  t.ok(AGENT_NODE_FLAGS.includes('--lite-mode'))
  const dir = path.dirname(launch.agentScript)
  const files = readdirSync(dir).filter((f) => f.endsWith('.cjs'))
  t.same(files.sort(), ['agent-main.cjs', 'agent.cjs', 'wrapper.cjs'])
  for (const file of files.map((f) => path.join(dir, f))) {
    const text = readFileSync(file, 'utf8')
    t.same(text.match(/(?<![\w.$])fetch\(/g) ?? [], [], `${path.basename(file)} calls no global fetch (use node:http)`)
    t.notMatch(text, /\bWebAssembly\b/, `${path.basename(file)} uses no WebAssembly`)
  }
})

t.test('the bundle carries a compile cache for the agent, filled when it was built and accepted at start, also moved', async (t) => {
  const launch = await agentLaunch(REPO)
  const dir = path.dirname(launch.agentScript)
  t.ok(existsSync(path.join(dir, 'compile-cache')), 'beside the bundle')
  // A container sees the project at another path (read-only): the cache must hit there too.
  const moved = path.join(t.testdir(), 'project-elsewhere')
  cpSync(dir, moved, { recursive: true })
  for (const script of [launch.agentScript, path.join(moved, 'agent.cjs')]) {
    // Node reports each cache decision on stderr with this debug switch; nothing else in the environment.
    const run = spawnSync(launch.command, [...AGENT_NODE_FLAGS, script, '--help'], {
      env: { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    t.equal(run.status, 0)
    t.match(run.stderr, /V8 code cache for CommonJS \S*agent-main\.cjs was accepted/, `${script}: the agent is not compiled again`)
  }
})
