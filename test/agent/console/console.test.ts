import t from 'tap'
import type { Test } from 'tap'
import WebSocket from 'ws'
import { startTestAgent, type TestAgent } from '../helpers.ts'
import type { ConsoleServerMessage } from '../../../src/api/agent-game-types.ts'

async function agentWithGame(t: Test, env: Record<string, string> = {}): Promise<TestAgent> {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  const agent = await startTestAgent(t.testdir())
  process.env = saved
  t.teardown(async () => {
    await agent.request('/game/stop', { method: 'POST' }).catch(() => undefined)
    await agent.close()
  })
  return agent
}

interface Viewer {
  ws: WebSocket
  messages: ConsoleServerMessage[]
  text(): string
  waitFor(pred: (all: string) => boolean, what: string, ms?: number): Promise<void>
}

async function viewer(t: Test, agent: TestAgent, path: string): Promise<Viewer> {
  const ws = new WebSocket(agent.url.replace(/^http/, 'ws') + path, { headers: { authorization: `Bearer ${agent.token}` } })
  t.teardown(() => ws.terminate())
  const messages: ConsoleServerMessage[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (raw) => {
    messages.push(JSON.parse(String(raw)) as ConsoleServerMessage)
    for (const w of waiters) w()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const text = (): string =>
    messages.map((m) => (m.type === 'output' ? m.data : m.type === 'history' ? `${m.lines.join('\n')}\n` : '')).join('')
  return {
    ws,
    messages,
    text,
    waitFor(pred, what, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pred(text())) {
            waiters.delete(check)
            clearTimeout(timer)
            resolve()
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`never saw ${what}; got ${JSON.stringify(text().slice(-300))}`))
        }, ms)
        waiters.add(check)
        check()
      })
    },
  }
}

const send = (v: Viewer, msg: object): void => v.ws.send(JSON.stringify(msg))

t.test('game console: two viewers see the same output, input reaches the server, late viewers get history', async (t) => {
  const agent = await agentWithGame(t)
  const res = await agent.request('/game', {
    method: 'PUT',
    json: {
      server: { command: ['/bin/sh', '-c', 'echo "server ready"; while read l; do echo "console: $l"; done'], gracePeriodSeconds: 1 },
      running: true,
    },
  })
  t.equal(res.status, 200)
  const a = await viewer(t, agent, '/game/console')
  const b = await viewer(t, agent, '/game/console')
  await a.waitFor((s) => s.includes('server ready'), 'history or output with the ready line')
  send(a, { type: 'input', data: 'say hello\n' })
  await a.waitFor((s) => s.includes('console: say hello'), 'the echo in viewer A')
  await b.waitFor((s) => s.includes('console: say hello'), 'the echo in viewer B')
  const c = await viewer(t, agent, '/game/console')
  const history = c.messages.find((m) => m.type === 'history')
  t.ok(history && history.type === 'history' && history.lines.includes('console: say hello'), 'a late viewer gets the history')
  t.ok(c.messages.some((m) => m.type === 'state' && m.state === 'Running'))
  send(c, { type: 'resize', cols: 100, rows: 30 })
  await c.waitFor(() => c.messages.some((m) => m.type === 'info' && /resize has no effect/.test(m.message)), 'the resize answer')
  const status = (await (await agent.request('/status')).json()) as { game?: { state: string } }
  t.equal(status.game?.state, 'Running', 'the game state is in GET /status')
  const denied = new WebSocket(`${agent.url.replace(/^http/, 'ws')}/game/console`)
  const code = await new Promise<number | string>((resolve) => {
    denied.on('unexpected-response', (req, r) => {
      resolve(r.statusCode ?? 0)
      r.resume()
      req.destroy()
    })
    denied.on('open', () => resolve('open'))
  })
  t.equal(code, 401, 'no token, no console')
})

t.test('dev console: a login shell; shared sessions, input, resize', async (t) => {
  const agent = await agentWithGame(t)
  const a = await viewer(t, agent, '/dev/console?session=pair')
  const b = await viewer(t, agent, '/dev/console?session=pair')
  send(a, { type: 'input', data: 'echo "sum=$((6*7))"; pwd\n' })
  await a.waitFor((s) => s.includes('sum=42'), 'the shell answer in A')
  await b.waitFor((s) => s.includes('sum=42'), 'the shell answer in B (same session)')
  await a.waitFor((s) => s.includes(agent.ctx.paths.workspace), 'the shell starts in the workspace')
  send(b, { type: 'resize', cols: 123, rows: 45 })
  send(b, { type: 'input', data: 'stty size; echo "path=$PATH"\n' })
  await a.waitFor((s) => s.includes('45 123'), 'the new size')
  await a.waitFor((s) => s.includes(`path=${agent.ctx.devEnv.environment().PATH}`), 'the dev environment PATH')
  const other = await viewer(t, agent, '/dev/console')
  send(other, { type: 'input', data: 'echo private-$((1+1))\n' })
  await other.waitFor((s) => s.includes('private-2'), 'a private session')
  t.notOk(a.text().includes('private-2'), 'private sessions are not shared')
  const bad = new WebSocket(`${agent.url.replace(/^http/, 'ws')}/dev/console?session=../x`, {
    headers: { authorization: `Bearer ${agent.token}` },
  })
  const status = await new Promise<number | string>((resolve) => {
    bad.on('unexpected-response', (req, r) => {
      resolve(r.statusCode ?? 0)
      r.resume()
      req.destroy()
    })
    bad.on('open', () => resolve('open'))
  })
  t.equal(status, 400, 'a malformed session name is refused')
})

t.test('a viewer that stops reading is cut off; memory stays bounded under a log flood', async (t) => {
  const agent = await agentWithGame(t, {
    ZLH_AGENT_CONSOLE_MAX_BUFFERED_BYTES: String(256 * 1024),
    ZLH_AGENT_CONSOLE_BYTES_PER_WINDOW: String(512 * 1024),
    ZLH_AGENT_CONSOLE_WINDOW_MS: '100',
  })
  await agent.request('/game', {
    method: 'PUT',
    json: {
      server: {
        command: [
          '/bin/sh',
          '-c',
          'echo start; while true; do echo zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz; done',
        ],
        gracePeriodSeconds: 1,
      },
      running: false,
    },
  })
  const fast = await viewer(t, agent, '/game/console')
  const slow = await viewer(t, agent, '/game/console')
  ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 50)
  t.teardown(() => clearInterval(sampler))
  await agent.request('/game/start', { method: 'POST' })
  const cutOff = (): boolean => agent.logs.some((l) => l.includes('cut off a viewer that stopped reading'))
  const deadline = Date.now() + 20_000
  while (!cutOff() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.ok(cutOff(), 'the non-reading viewer was cut off')
  const seenBefore = fast.text().length
  await fast.waitFor((s) => s.length > seenBefore + 100_000, 'more output for the reading viewer after the cut')
  await agent.request('/game/stop', { method: 'POST' })
  clearInterval(sampler)
  const grewMiB = (peak - baseline) / 1024 / 1024
  t.ok(grewMiB < 150, `the agent's RSS grew by ${grewMiB.toFixed(1)} MiB during the flood (bound 150)`)
  t.ok(
    fast.messages.some((m) => m.type === 'throttled'),
    'the flood was throttled and viewers were told',
  )
})

t.test('closing the agent waits until every dev console shell has exited', async (t) => {
  const agent = await agentWithGame(t)
  const a = await viewer(t, agent, '/dev/console?session=closing')
  send(a, { type: 'input', data: 'echo "shell-pid=$$"\n' })
  await a.waitFor((s) => /shell-pid=\d+/.test(s), 'the shell pid')
  const pid = Number(/shell-pid=(\d+)/.exec(a.text())![1])
  t.doesNotThrow(() => process.kill(pid, 0), 'the shell runs')
  await agent.close()
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the shell is gone when close() resolves')
})
