// The agent's health, sleep and command routes under hostile input: every new field of PUT /game
// (game, health, idle) refused at the edge when out of the CRD's bounds or unknown, POST
// /game/command refusing line breaks, NUL, overlong and missing lines, and both new routes closed
// without the bearer token. Raw HTTP, so nothing is normalised by a client on the way.
import t from 'tap'
import { startTestAgent } from '../agent/helpers.ts'
import { rawRequest } from './raw-http.ts'

t.test('PUT /game: hostile game/health/idle bodies are 400 and change nothing', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const server = { command: ['x'] }
  const bodies: Array<[string, unknown]> = [
    ['an unknown probe', { server, health: { probe: 'icmp' } }],
    ['a zero period', { server, health: { periodSeconds: 0 } }],
    ['a period beyond an hour', { server, health: { periodSeconds: 3601 } }],
    ['a timeout beyond 60 s', { server, health: { timeoutSeconds: 61 } }],
    ['a zero failure threshold', { server, health: { failureThreshold: 0 } }],
    ['a negative initial delay', { server, health: { initialDelaySeconds: -1 } }],
    ['a fractional period', { server, health: { periodSeconds: 1.5 } }],
    ['a probe port out of range', { server, health: { port: 65536 } }],
    ['a string for health', { server, health: 'minecraft' }],
    ['an unknown health field', { server, health: { command: ['rm', '-rf', '/'] } }],
    ['idle without stopAfterSeconds', { server, idle: { wake: 'onConnect' } }],
    ['idle shorter than 5 s', { server, idle: { stopAfterSeconds: 4 } }],
    ['idle longer than 30 days', { server, idle: { stopAfterSeconds: 2592001 } }],
    ['an unknown wake', { server, idle: { stopAfterSeconds: 60, wake: 'always' } }],
    ['an unknown level', { server, idle: { stopAfterSeconds: 60, level: 'vm' } }],
    ['an unknown idle field', { server, idle: { stopAfterSeconds: 60, script: 'x' } }],
    ['a game name with spaces', { server, game: 'Mine Craft' }],
    ['a game name with a NUL', { server, game: 'mine\u0000craft' }],
    ['an overlong game name', { server, game: 'm'.repeat(64) }],
    ['an array for idle', { server, idle: [60] }],
  ]
  for (const [what, body] of bodies) {
    const res = await rawRequest(agent.port, '/game', {
      method: 'PUT',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    t.equal(res.status, 400, `${what}: 400 (${res.body.slice(0, 160)})`)
  }
  const info = (await (await agent.request('/game')).json()) as { configured: boolean }
  t.equal(info.configured, false, 'no refused body was stored')
})

t.test('POST /game/command: line breaks, NUL, overlong, empty, missing or extra fields are 400', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const bodies: Array<[string, string]> = [
    ['a newline', JSON.stringify({ line: 'say hi\nop mallory' })],
    ['a carriage return', JSON.stringify({ line: 'say hi\rop mallory' })],
    ['a NUL', JSON.stringify({ line: 'say\u0000hi' })],
    ['4097 characters', JSON.stringify({ line: 'a'.repeat(4097) })],
    ['an empty line', JSON.stringify({ line: '' })],
    ['no line', JSON.stringify({})],
    ['a number', JSON.stringify({ line: 42 })],
    ['an extra field', JSON.stringify({ line: 'list', raw: true })],
    ['broken JSON', '{"line": "list"'],
  ]
  for (const [what, body] of bodies) {
    const res = await rawRequest(agent.port, '/game/command', {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
      body,
    })
    t.equal(res.status, 400, `${what}: 400 (${res.body.slice(0, 160)})`)
  }
  const ok = await agent.request('/game/command', { method: 'POST', json: { line: 'a'.repeat(4096) } })
  t.equal(ok.status, 409, 'the longest allowed line passes the edge (and finds no game)')
  t.equal(((await ok.json()) as { code: string }).code, 'GAME_NOT_RUNNING')
})

t.test('POST /game/wake and /game/command need the bearer token', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  for (const target of ['/game/wake', '/game/command']) {
    for (const authorization of [undefined, 'Bearer ', `Bearer ${agent.token}x`, `Basic ${agent.token}`]) {
      const res = await rawRequest(agent.port, target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
        body: JSON.stringify({ line: 'stop' }),
      })
      t.equal(
        res.status,
        401,
        `${target} with ${authorization === undefined ? 'no' : JSON.stringify(authorization.slice(0, 7))} authorization`,
      )
    }
  }
})
