import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { startTestAgent } from '../helpers.ts'
import { processStartTime } from '../../../src/platform/process-identity.ts'
import type { GameInfo } from '../../../src/api/agent-game-types.ts'
import { until } from './helpers.ts'

const cli = new URL('../../../src/cli/main.ts', import.meta.url).pathname

t.test('game routes: validation, defaults, start/stop, state in /status and /events', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(async () => {
    await agent.request('/game/stop', { method: 'POST' })
    await agent.close()
  })
  let res = await agent.request('/game/start', { method: 'POST' })
  t.equal(res.status, 409)
  t.equal(((await res.json()) as { code: string }).code, 'GAME_NOT_CONFIGURED')
  res = await agent.request('/game', { method: 'PUT', json: { server: { command: [] } } })
  t.equal(res.status, 400, 'an empty command is refused at the edge')
  res = await agent.request('/game', { method: 'PUT', json: { server: { command: ['x'], port: 70000 } } })
  t.equal(res.status, 400, 'a port out of range is refused')
  res = await agent.request('/game', { method: 'PUT', json: { server: { command: ['x'], workingDir: '../../etc' } } })
  t.equal(res.status, 400, 'a working directory outside the root is refused')
  t.equal(((await res.json()) as { code: string }).code, 'GAME_SPEC_INVALID')
  res = await agent.request('/game', { method: 'PUT', json: { server: { command: ['x'] }, supervision: { restartPolicy: 'Sometimes' } } })
  t.equal(res.status, 400)
  const openapi = (await (await agent.request('/openapi.json')).json()) as { paths: Record<string, unknown> }
  for (const p of [
    '/game',
    '/game/start',
    '/game/stop',
    '/game/restart',
    '/game/console',
    '/dev/console',
    '/files/{*}',
    '/uploads/{*}',
    '/mods',
    '/mods/{name}',
  ]) {
    t.ok(openapi.paths[p], `OpenAPI documents ${p}`)
  }

  // Watch the state stream while the game starts.
  const events = await fetch(`${agent.url}/events`, { headers: { authorization: `Bearer ${agent.token}` } })
  const reader = events.body!.getReader()
  const seen: string[] = []
  const watching = (async () => {
    let buf = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buf += Buffer.from(value).toString('utf8')
      for (const m of buf.matchAll(/"component":"game","state":\{"state":"(\w+)"/g)) seen.push(m[1]!)
      if (seen.includes('Running')) return
    }
  })()
  res = await agent.request('/game', {
    method: 'PUT',
    json: { server: { command: ['/bin/sh', '-c', 'while read l; do :; done'], stopCommand: 'quit', gracePeriodSeconds: 1 }, running: true },
  })
  const info = (await res.json()) as GameInfo
  t.equal(info.state, 'Running')
  t.same(
    info.spec?.supervision,
    { restartPolicy: 'Always', backoffSeconds: [30, 60, 120], resetAfterSeconds: 30, maxConsecutiveFailures: 5 },
    'CRD defaults filled in',
  )
  t.equal(info.spec?.server.port, 25565)
  await Promise.race([watching, new Promise((_, reject) => setTimeout(() => reject(new Error(`no Running event; saw ${seen}`)), 10_000))])
  await reader.cancel()
  t.ok(seen.includes('Starting') && seen.includes('Running'), `the event stream carried the game states (${seen.join(' → ')})`)
  const status = (await (await agent.request('/status')).json()) as { game: GameInfo }
  t.equal(status.game.state, 'Running')
  t.equal(status.game.pid, info.pid)
  res = await agent.request('/game/stop', { method: 'POST' })
  const stopped = (await res.json()) as GameInfo
  t.equal(stopped.state, 'Stopped')
  t.equal(stopped.lastStop?.endedBy, 'SIGTERM', 'a stop command the game ignores is followed by SIGTERM')
})

interface AgentProcess {
  child: ChildProcess
  url: string
}

async function spawnAgent(root: string, tokenFile: string): Promise<AgentProcess> {
  const child = spawn(process.execPath, [cli, 'agent', '--root', root, '--listen', '127.0.0.1:0', '--token-file', tokenFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const ev = JSON.parse(line)
        if (ev.msg === 'agent listening') resolve(ev.url)
      } catch {
        /* not JSON */
      }
    })
    child.once('exit', (code) => reject(new Error(`agent exited (${code}) before listening`)))
  })
  return { child, url }
}

t.test('the real agent process: SIGKILLed, the game lives on, a new agent re-attaches and records the crash', async (t) => {
  const root = t.testdir()
  const tokenFile = path.join(root, '..', `${path.basename(root)}.token`)
  const token = randomBytes(24).toString('hex')
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  t.teardown(() => fs.rmSync(tokenFile, { force: true }))
  const call = async (a: AgentProcess, p: string, init: RequestInit & { json?: unknown } = {}): Promise<GameInfo> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (init.json !== undefined) headers['content-type'] = 'application/json'
    const r = await fetch(a.url + p, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body })
    return (await r.json()) as GameInfo
  }
  const crashFile = path.join(root, 'crash-now')
  const first = await spawnAgent(root, tokenFile)
  t.teardown(() => {
    first.child.kill('SIGKILL')
  })
  const running = await call(first, '/game', {
    method: 'PUT',
    json: {
      server: {
        command: [
          '/bin/sh',
          '-c',
          `echo up; while [ ! -f ${crashFile} ]; do sleep 0.05; done; echo "Exception in thread main java.lang.UnsupportedClassVersionError: Main has been compiled by a more recent version of the Java Runtime"; exit 1`,
        ],
      },
      supervision: { restartPolicy: 'Never' },
      running: true,
    },
  })
  t.equal(running.state, 'Running')
  const pid = running.pid!
  t.teardown(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  first.child.kill('SIGKILL')
  await new Promise((r) => first.child.once('exit', r))
  t.ok(processStartTime(pid), 'the game outlived the SIGKILLed agent')
  const second = await spawnAgent(root, tokenFile)
  t.teardown(() => {
    second.child.kill('SIGTERM')
  })
  const adopted = await call(second, '/game')
  t.equal(adopted.state, 'Running')
  t.equal(adopted.pid, pid)
  t.equal(adopted.adopted, true)
  fs.writeFileSync(crashFile, '')
  let after: GameInfo | null = null
  await until(
    async () => {
      after = await call(second, '/game')
      return after.state === 'Crashed'
    },
    15_000,
    'the crash',
  )
  const crash = (after as unknown as GameInfo).lastCrash
  t.equal(crash?.classification, 'java_version_mismatch')
  t.equal(crash?.exitCode, 1)
  t.ok(crash?.logTail.includes('up'))
})

t.test('a graceful agent shutdown leaves the game running for the next agent', async (t) => {
  const root = t.testdir()
  const a = await startTestAgent(root)
  const running = (await (
    await a.request('/game', {
      method: 'PUT',
      json: { server: { command: ['/bin/sh', '-c', 'echo hi; while read l; do :; done'], gracePeriodSeconds: 1 }, running: true },
    })
  ).json()) as GameInfo
  const pid = running.pid!
  t.teardown(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  await a.close()
  t.ok(processStartTime(pid), 'close() did not stop the game')
  const b = await startTestAgent(root)
  t.teardown(() => b.close())
  const adopted = (await (await b.request('/game')).json()) as GameInfo
  t.equal(adopted.pid, pid)
  t.equal(adopted.adopted, true)
  t.equal(adopted.state, 'Running')
  const stopped = (await (await b.request('/game/stop', { method: 'POST' })).json()) as GameInfo
  t.equal(stopped.lastStop?.endedBy, 'SIGTERM', 'the adopted game is stopped like any other')
  t.equal(processStartTime(pid), null)
})
