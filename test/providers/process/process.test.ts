// The process provider's own promises: the agent outlives the controller process that started it
// and is found again; a recycled pid is never taken for the agent (nor signalled); the token is in
// a 0600 file, not on the agent's command line or in its environment; an agent port held by
// something else moves the agent instead of failing it forever.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createServer } from 'node:net'
import { ProcessBackend, randomPortBaseBelowEphemeral } from '../../../src/providers/process/index.ts'
import { ephemeralPortRange } from '../../../src/providers/process/ports.ts'
import { waitForAgent } from '../../../src/providers/agent-probe.ts'
import { newSpec } from '../conformance.ts'

const cliPath = resolve(import.meta.dirname, '../../../bin/zlh.js')
const rootDir = mkdtempSync(join(tmpdir(), 'zlh-process-test-'))
const portRangeStart = randomPortBaseBelowEphemeral(100)
const make = () => new ProcessBackend({ rootDir, portRangeStart, cliPath })
const spec = newSpec('DevServer')
const ref = { ownerUid: spec.identity.ownerUid }
t.teardown(async () => {
  await make()
    .delete(ref)
    .catch(() => undefined)
  rmSync(rootDir, { recursive: true, force: true })
})

t.test('the agent survives the controller process and a new one finds it', async (t) => {
  // A separate Node process plays the controller: ensure + start, then it exits.
  const script = `
    import { ProcessBackend } from ${JSON.stringify(resolve(import.meta.dirname, '../../../src/providers/process/index.ts'))}
    const p = new ProcessBackend({ rootDir: ${JSON.stringify(rootDir)}, portRangeStart: ${portRangeStart}, cliPath: ${JSON.stringify(cliPath)} })
    const spec = JSON.parse(process.env.SPEC)
    await p.ensure(spec)
    const c = await p.start({ ownerUid: spec.identity.ownerUid })
    console.log(JSON.stringify(c))
  `
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, SPEC: JSON.stringify(spec) },
    encoding: 'utf8',
    timeout: 60_000,
  })
  const started = JSON.parse(out.trim().split('\n').pop()!)
  t.equal(started.state, 'running')
  const found = (await make().observe(ref))!
  t.equal(found.vmid, started.vmid)
  t.equal(found.state, 'running', 'the restarted controller sees the agent running')
  const status = await waitForAgent(found.agentUrl!, spec.agent.token, 60_000)
  t.equal(status.status, 200)

  const dir = join(rootDir, 'containers', String(found.vmid))
  t.equal(statSync(join(dir, 'agent-token')).mode & 0o777, 0o600)
  const { pid } = JSON.parse(readFileSync(join(dir, 'agent.pid'), 'utf8')) as { pid: number }
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  t.match(cmdline, /--token-file/)
  t.notOk(cmdline.includes(spec.agent.token), 'token not on the command line')
  t.notOk(
    readFileSync(`/proc/${pid}/environ`, 'utf8').includes(spec.agent.token),
    'token not in the environment (the controller had it in its own; the agent does not inherit it)',
  )
  t.equal((await make().stop(ref, { timeoutSeconds: 10 })).state, 'stopped')
})

t.test('stop ends every process of the container, not only the agent', async (t) => {
  const c = await make().start(ref)
  t.ok((await waitForAgent(c.agentUrl!, spec.agent.token, 60_000)).ok)
  // What the agent does with a game or code-server: a detached process (own session) in the root.
  const root = join(rootDir, 'containers', String(c.vmid), 'root')
  const game = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  t.teardown(() => {
    try {
      game.kill('SIGKILL')
    } catch {
      /* gone */
    }
  })
  await new Promise((resolve) => game.stdout!.once('data', resolve)) // its SIGTERM handler is in place
  const exited = new Promise<NodeJS.Signals | null>((resolve) => game.once('exit', (_code, signal) => resolve(signal)))
  const started = Date.now()
  t.equal((await make().stop(ref, { timeoutSeconds: 1 })).state, 'stopped')
  t.equal(await exited, 'SIGKILL', 'a process ignoring SIGTERM is killed once the timeout passed')
  t.ok(Date.now() - started >= 1000, 'after the graceful period')
})

t.test('a recycled pid is not mistaken for the agent and is not signalled', async (t) => {
  const c = (await make().observe(ref))!
  const pidFile = join(rootDir, 'containers', String(c.vmid), 'agent.pid')
  // Our own (live) pid with a start time that is not ours: what a recycled pid looks like.
  writeFileSync(pidFile, JSON.stringify({ pid: process.pid, startTime: '1' }))
  t.equal((await make().observe(ref))!.state, 'stopped')
  await make().stop(ref, { timeoutSeconds: 1 }) // would SIGTERM this test if it trusted the pid
  t.pass('still alive')
})

t.test("each container's code-server gets a loopback port of its own, and the agent is told it", async (t) => {
  const other = newSpec('DevServer')
  t.teardown(() => make().delete({ ownerUid: other.identity.ownerUid }))
  const a = await make().start(ref)
  await make().ensure(other)
  const b = await make().start({ ownerUid: other.identity.ownerUid })
  t.match(a.codeServerAddress, /^127\.0\.0\.1:\d+$/)
  t.match(b.codeServerAddress, /^127\.0\.0\.1:\d+$/)
  t.not(a.codeServerAddress, b.codeServerAddress, 'two DevServers on one host do not share a code-server port')
  t.not(a.codeServerAddress, a.agentUrl!.replace('http://', ''), 'not the agent port either')
  for (const [c, s] of [
    [a, spec],
    [b, other],
  ] as const) {
    const { pid } = JSON.parse(readFileSync(join(rootDir, 'containers', String(c.vmid), 'agent.pid'), 'utf8')) as { pid: number }
    t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), `--code-server-bind\0${c.codeServerAddress}\0`)
    t.ok((await waitForAgent(c.agentUrl!, s.agent.token, 60_000)).ok)
    // Component states are complete once the agent says provisioning is: the agent answers before that.
    const deadline = Date.now() + 60_000
    let status: { provisioningComplete?: boolean; codeServer: { bindAddr: string } | null }
    do {
      status = (await fetch(`${c.agentUrl}/status`, { headers: { authorization: `Bearer ${s.agent.token}` } }).then((r) =>
        r.json(),
      )) as typeof status
      if (!status.provisioningComplete) await new Promise((r) => setTimeout(r, 100))
    } while (!status.provisioningComplete && Date.now() < deadline)
    t.equal(status.codeServer?.bindAddr, c.codeServerAddress, 'the agent runs (and health-checks) code-server at that address')
  }
  t.same(
    await make()
      .observe(ref)
      .then((c) => c?.codeServerAddress),
    a.codeServerAddress,
    'the port is durable (claim)',
  )
})

t.test('an agent whose port something else holds starts on a free port, and the container says where', async (t) => {
  const before = (await make().observe(ref))!
  await make().stop(ref, { timeoutSeconds: 10 })
  const takenPort = Number(new URL(before.agentUrl!).port)
  // What an outgoing connection that drew this port as its source port looks like to a listener.
  const squatter = createServer((c) => c.destroy())
  await new Promise<void>((resolve) => squatter.listen(takenPort, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())))

  const started = await make().start(ref)
  t.equal(started.state, 'running')
  t.not(started.agentUrl, before.agentUrl, 'moved off the taken port')
  t.ok((await waitForAgent(started.agentUrl!, spec.agent.token, 60_000)).ok, 'the agent answers where the container says')
  const movedPort = Number(new URL(started.agentUrl!).port)
  const { low, high } = ephemeralPortRange()
  t.ok(movedPort < low || movedPort > high, `not a port the kernel hands out to outgoing connections (${movedPort})`)
  t.equal(started.codeServerAddress, before.codeServerAddress, 'code-server keeps its port (a live code-server is adopted there)')
  t.equal((await make().observe(ref))!.agentUrl, started.agentUrl, 'the new port is durable (claim)')
  t.equal(squatter.listening, true, 'the other program keeps its port')

  // Once moved, a restart with the old port free again stays where it is.
  await make().stop(ref, { timeoutSeconds: 10 })
  t.equal((await make().start(ref)).agentUrl, started.agentUrl)
})

t.test('delete leaves no process of the container: not even a child that left the root', async (t) => {
  const c = await make().start(ref)
  t.ok((await waitForAgent(c.agentUrl!, spec.agent.token, 60_000)).ok)
  const root = join(rootDir, 'containers', String(c.vmid), 'root')
  // A game-like process group in the root whose child moved to another directory (a terminal's `cd /tmp`).
  const script = `const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', 'process.chdir("/tmp"); process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    process.on('SIGTERM', () => {}); console.log(child.pid); setInterval(() => {}, 1000)`
  const game = spawn(process.execPath, ['-e', script], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  const childPid = Number(await new Promise<string>((resolve) => game.stdout!.once('data', (d) => resolve(String(d).trim()))))
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  t.teardown(() => {
    for (const pid of [game.pid!, childPid]) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  })
  const deadline = Date.now() + 10_000
  while (readlinkCwd(childPid) !== '/tmp' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.equal(readlinkCwd(childPid), '/tmp', 'the child left the root')
  await make().delete(ref)
  const gameExit = await new Promise<void>((resolve) => {
    if (game.exitCode !== null || game.signalCode !== null) resolve()
    else game.once('exit', () => resolve())
  })
  t.equal(gameExit, undefined)
  t.notOk(alive(childPid) && !isZombie(childPid), 'the child outside the root is gone too')
  t.equal(await make().observe(ref), undefined, 'the container is gone')
})

function readlinkCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return undefined
  }
}

function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z'
  } catch {
    return true
  }
}
