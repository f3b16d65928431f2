// code-server lifecycle against a STAND-IN: a small Node HTTP program packaged like code-server
// (bin/code-server in a runtime tarball) that accepts code-server's flags and serves /healthz.
// It is not code-server; it lets the test exercise start/stop/restart, crash restarts with
// backoff, upgrade restarts and adoption after an agent restart without a 750 MB download.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import net from 'node:net'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { startTestAgent } from '../helpers.ts'
import type { TestAgent } from '../helpers.ts'
import { sha256, startArtifactServer, tarball } from '../artifacts.ts'
import { findProcesses, argValue } from '../../../agent/codeserver/proc.ts'

const standIn = `
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const args = process.argv.slice(2)
const bind = args[args.indexOf('--bind-addr') + 1]
const [host, port] = [bind.slice(0, bind.lastIndexOf(':')), Number(bind.slice(bind.lastIndexOf(':') + 1))]
const version = fs.readFileSync(path.join(__dirname, 'VERSION'), 'utf8').trim()
http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end(JSON.stringify({ status: 'alive', lastHeartbeat: Date.now() }))
  if (req.url === '/version') return res.end(version)
  res.writeHead(404).end()
}).listen(port, host)
process.on('SIGTERM', () => process.exit(0))
`

function standInTarball(version: string): Buffer {
  return tarball([
    { path: 'bin/', type: 'dir' },
    { path: 'bin/code-server', mode: 0o755, content: `#!/bin/sh\nexec "${process.execPath}" "$(dirname "$0")/../lib/stand-in.cjs" "$@"\n` },
    { path: 'lib/', type: 'dir' },
    { path: 'lib/stand-in.cjs', content: standIn },
    { path: 'lib/VERSION', content: `${version}\n` },
  ])
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'
  } catch {
    return false
  }
}

t.test('code-server: install, start, crash restart, upgrade, adoption after agent restart, stop', async (t) => {
  const root = t.testdir()
  const port = await freePort()
  const userData = path.join(root, 'home/dev/.local/share/code-server')
  const instances = async () => findProcesses((argv) => argValue(argv, '--user-data-dir') === userData)
  const server = await startArtifactServer()
  t.teardown(async () => {
    for (const p of await instances()) process.kill(p.pid, 'SIGKILL')
    await server.close()
  })
  const opts = { codeServer: { bindAddr: `127.0.0.1:${port}`, healthIntervalMs: 100, backoffMs: [200, 400], stopTimeoutMs: 5000 } }
  let agent: TestAgent = await startTestAgent(root, opts)
  t.teardown(() => agent.close())
  const post = async (action: string) => {
    const res = await agent.request(`/dev/codeserver/${action}`, { method: 'POST' })
    return { status: res.status, body: (await res.json()) as any }
  }
  const version = async () => (await fetch(`http://127.0.0.1:${port}/version`)).text()

  const early = await post('start')
  t.equal(early.body.code, 'CODESERVER_NOT_INSTALLED', 'start before install says what to do')
  t.equal(early.status, 409)

  for (const v of ['1.0', '2.0']) server.add(`cs-${v}.tgz`, standInTarball(v))
  const install = (v: string) =>
    agent.request('/runtimes', {
      method: 'POST',
      json: {
        name: 'code-server',
        version: v,
        url: server.url(`cs-${v}.tgz`),
        outbound: server.outbound,
        sha256: sha256(standInTarball(v)),
      },
    })
  // The stand-in tarball is rebuilt identically, so its hash is stable.
  t.equal((await install('1.0')).status, 200)

  // A workspace removed meanwhile is recreated before code-server starts (its terminal starts there).
  const workspace = path.join(root, 'home/dev/workspace')
  fs.rmSync(workspace, { recursive: true, force: true })
  const started = await post('start')
  t.match(started.body, {
    enabled: true,
    phase: 'Running',
    bindAddr: `127.0.0.1:${port}`,
    folder: workspace,
    adopted: false,
    version: '1.0',
  })
  const pid1: number = started.body.pid
  t.equal(fs.readlinkSync(`/proc/${pid1}/cwd`), workspace, 'starts in the workspace, which exists again')
  const reported = (await (await agent.request('/status')).json()) as any
  t.equal(reported.codeServer.folder, workspace, 'GET /status reports the folder code-server opens (process layout: under the root)')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
  const argv = fs.readFileSync(`/proc/${pid1}/cmdline`, 'utf8').split('\0')
  for (const [flag, value] of [
    ['--bind-addr', `127.0.0.1:${port}`],
    ['--auth', 'none'],
    ['--user-data-dir', userData],
  ])
    t.equal(argValue(argv, flag!), value, `${flag} ${value}`)
  t.ok(argv.includes('--disable-telemetry'))
  t.equal(argv.filter(Boolean).at(-1), path.join(root, 'home/dev/workspace'), 'opens the workspace')
  const environ = fs.readFileSync(`/proc/${pid1}/environ`, 'utf8').split('\0')
  t.ok(environ.includes(`PATH=${agent.ctx.devEnv.environment().PATH}`), 'runs with the dev environment (terminals inherit it)')
  t.ok(environ.includes(`HOME=${path.join(root, 'home/dev')}`))
  // No dev user in a directory root: it runs as the agent's user, and USER says so.
  t.equal(fs.statSync(`/proc/${pid1}`).uid, process.getuid!(), 'runs as the agent user')
  t.ok(environ.includes(`USER=${os.userInfo().username}`), 'USER names the user it runs as, not a dev user that does not exist')
  t.same((await post('start')).body.pid, pid1, 'start while running is a no-op')

  // Dies while enabled → restarted after the backoff.
  process.kill(pid1, 'SIGKILL')
  const crashed = await until('Crashed', () => {
    const s = agent.ctx.codeServer.state()
    return s.phase === 'Crashed' && s
  })
  t.ok(crashed.nextRestartAt, 'reports when it will restart')
  const back = await until('restart', () => {
    const s = agent.ctx.codeServer.state()
    return s.phase === 'Running' && s.pid !== pid1 && s
  })
  t.equal(back.restarts, 1)
  t.match(back.lastExit, { signal: 'SIGKILL' })

  const restarted = await post('restart')
  t.not(restarted.body.pid, back.pid, 'restart gives a new process')
  t.notOk(alive(back.pid!), 'the old one is gone')

  // Upgrade restarts it on the new version.
  t.equal((await install('2.0')).status, 200)
  await until(
    'upgrade restart',
    async () =>
      agent.ctx.codeServer.state().phase === 'Running' &&
      agent.ctx.codeServer.state().pid !== restarted.body.pid &&
      (await version().catch(() => '')) === '2.0',
  )
  t.equal(agent.ctx.codeServer.state().version, '2.0')
  const pid2 = agent.ctx.codeServer.state().pid!

  // The agent restarts: code-server keeps running and is adopted, not duplicated.
  await agent.close()
  t.ok(alive(pid2), 'code-server survives the agent')
  agent = await startTestAgent(root, opts)
  await until('adopted Running', () => agent.ctx.codeServer.state().phase === 'Running')
  t.match(agent.ctx.codeServer.state(), { pid: pid2, adopted: true, enabled: true })
  t.match((await post('start')).body, { pid: pid2 }, 'start does not duplicate an adopted instance')
  t.equal((await instances()).filter((p) => alive(p.pid)).length >= 1, true)
  t.same(
    [...new Set((await instances()).map((p) => p.pid))].filter((p) => p === pid2),
    [pid2],
  )

  // An adopted instance that dies is noticed (it is not our child) and restarted.
  process.kill(pid2, 'SIGKILL')
  const reborn = await until('restart of adopted', () => {
    const s = agent.ctx.codeServer.state()
    return s.phase === 'Running' && s.pid !== pid2 && s
  })
  t.equal(reborn.adopted, false)

  const stopped = await post('stop')
  t.match(stopped.body, { enabled: false, phase: 'Stopped' })
  t.notOk(alive(reborn.pid!), 'stopped process is gone')
  t.same(await instances(), [], 'no instance left')

  // Stopped is remembered across agent restarts.
  await agent.close()
  agent = await startTestAgent(root, opts)
  t.match(agent.ctx.codeServer.state(), { enabled: false, phase: 'Stopped' })
  const status = (await (await agent.request('/status')).json()) as any
  t.match(status.codeServer, { enabled: false, phase: 'Stopped', version: '2.0' })
})
