// POST /game/command and POST /game/wake through the agent's HTTP API and the typed agent client:
// a command reaches the game's stdin as one line; both answer 409 with their
// codes when there is no running (or sleeping) game; PUT /game stores game/health/idle with defaults.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { AgentGameClient } from '../../../src/agent-client/game.ts'
import type { GameInfo } from '../../../src/api/agent-game-types.ts'
import { startTestAgent } from '../helpers.ts'
import { until } from './helpers.ts'

t.test('command and wake: 409s, a command reaching the game, and the spec with its health and idle defaults', async (t) => {
  const dir = t.testdir()
  const agent = await startTestAgent(path.join(dir, 'agent'))
  const client = new AgentGameClient({ baseUrl: agent.url, token: agent.token })
  t.teardown(async () => {
    await agent.request('/game/stop', { method: 'POST' })
    await agent.close()
  })
  await t.rejects(client.wakeGame(), { code: 'AGENT_GAME_NOT_SLEEPING', statusCode: 409 }, 'nothing to wake before any spec')
  await t.rejects(client.sendCommand('list'), { code: 'GAME_NOT_RUNNING', statusCode: 409 })

  const out = path.join(dir, 'typed.txt')
  const info = await client.putGame({
    server: { command: ['/bin/sh', '-c', `while read line; do echo "$line" >> ${out}; done`], port: 25601, gracePeriodSeconds: 1 },
    game: 'minecraft',
    health: { probe: 'none' },
    idle: { stopAfterSeconds: 600 },
    running: true,
  })
  t.equal(info.state, 'Running')
  t.same(info.spec?.health, {
    probe: 'none',
    port: 25601,
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    initialDelaySeconds: 300,
  })
  t.same(info.spec?.idle, { stopAfterSeconds: 600, wake: 'onConnect', level: 'process' })
  t.match(info.message, /health.probe is none, which reports no players: the server never sleeps/, 'says why it never sleeps')
  t.equal(info.health, null)
  t.equal(info.sleep, null)

  await client.sendCommand('say hello')
  await client.sendCommand('list')
  await until(
    () => {
      try {
        return readFileSync(out, 'utf8') === 'say hello\nlist\n'
      } catch {
        return false
      }
    },
    10_000,
    'the lines in the game',
  )
  t.pass('each command arrived as one line on the game stdin')
  await t.rejects(client.wakeGame(), { code: 'AGENT_GAME_NOT_SLEEPING' }, 'a running game is not woken')
  const res = await agent.request('/game/wake', { method: 'POST' })
  t.equal(res.status, 409)
  const body = (await res.json()) as { code: string; message: string }
  t.equal(body.code, 'AGENT_GAME_NOT_SLEEPING')
  t.match(body.message, /Running/, 'says the state it is in')
  const game = (await (await agent.request('/game')).json()) as GameInfo
  t.equal(game.state, 'Running')
})
