// Steps run and observe of a GameServer (controller/steps/run-game.ts, observe-game.ts) against
// the STUB agent: the game spec pushed and started once its runtime is current, a pending change
// applied with a restart, spec.running false stopping it; status, Ready and Events from GET /game,
// and the next look timed by the FakeClock (a restart in backoff is looked at when it is due).
import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { effectiveGameSpec, type GameInfo, type GameServerStatus } from '../../../src/api/index.ts'
import type { GameServer } from '../../../controller/kinds.ts'
import { observeGame } from '../../../controller/steps/observe-game.ts'
import { runGame } from '../../../controller/steps/run-game.ts'
import { runtime } from './stub-agent.ts'
import { installedOf, startWorld } from './fixtures.ts'

t.test(
  'a configured-nowhere game with its runtime current: spec pushed with running, Starting Event; Starting until its port answers, then Running',
  async (t) => {
    const w = await startWorld(t)
    w.agent.state.status.runtimes = [runtime('node', '22')]
    const s = installedOf<GameServer, GameServerStatus>(w, w.gameServer)
    const ran = await runGame(s)
    const put = w.agent.requests.find((r) => r.method === 'PUT' && r.path === '/game')
    t.match(put?.body, { server: { command: ['node', 'server.js'], port: 25565 }, running: true })
    t.equal(ran.info.state, 'Running')
    t.match(w.events, [{ reason: 'Starting' }])

    // Nothing listens on the game's port here: the game runs, but Ready waits for the port.
    const lookAgain = await observeGame(s, {
      ...ran,
      wanted: { ...ran.wanted, server: { ...ran.wanted.server, port: 9 } },
      info: { ...ran.info, spec: null },
    })
    t.equal(s.out.status.phase, 'Starting')
    t.match(s.out.conds.get('Ready'), { status: 'False', reason: 'Starting', message: /waiting for port 9 to answer/ })
    t.equal(lookAgain, 500)

    const listener = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => listener.close(() => resolve())))
    const port = (listener.address() as AddressInfo).port
    const open = await observeGame(s, { ...ran, info: { ...ran.info, spec: { ...ran.wanted, server: { ...ran.wanted.server, port } } } })
    t.equal(s.out.status.phase, 'Running')
    t.match(s.out.conds.get('Ready'), { status: 'True', reason: 'Running', message: `the game answers on 127.0.0.1:${port}` })
    t.equal(open, 60_000, 'a running game is looked at rarely (its agent stream wakes the reconcile)')
  },
)

t.test('no runtime yet: the spec is pushed without starting; a pending change on a running game is a restart', async (t) => {
  const w = await startWorld(t)
  const s = installedOf<GameServer, GameServerStatus>(w, w.gameServer)
  await runGame(s)
  t.notOk(Object.hasOwn(w.agent.requests.find((r) => r.method === 'PUT')?.body as object, 'running'), 'not started without a runtime')

  w.agent.state.status.runtimes = [runtime('node', '22')]
  w.agent.state.game = { ...w.agent.state.game, state: 'Running', restartPending: true }
  await runGame(installedOf<GameServer, GameServerStatus>(w, w.gameServer))
  t.equal(w.agent.count('POST /game/restart'), 1)
  t.match(w.events.at(-1), { reason: 'Restarting' })
})

t.test('spec.running false stops the game gracefully: phase Stopping written first, then a Stopped Event', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('node', '22')]
  w.agent.state.game = { ...w.agent.state.game, state: 'Running', configured: true }
  const stopped = await w.env.client.patch<GameServer>(
    { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' },
    'squid',
    'default',
    { spec: { running: false } },
    'application/merge-patch+json',
  )
  const s = installedOf<GameServer, GameServerStatus>(w, stopped)
  const ran = await runGame(s)
  t.match(w.agent.requests.find((r) => r.method === 'PUT')?.body, { running: false })
  const written = await w.env.client.get<GameServer>({ apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' }, 'squid', 'default')
  t.equal(written.status?.phase, 'Stopping', 'Stopping was written before the stop call')
  t.match(w.events, [{ reason: 'Stopped' }])
  await observeGame(s, ran)
  t.equal(s.out.status.phase, 'Stopped')
  t.match(s.out.conds.get('Ready'), { reason: 'Stopped' })
})

t.test('a crash in backoff: lastCrash, a Crashed Event once, Ready reason Backoff, next look when the restart is due', async (t) => {
  const w = await startWorld(t)
  const s = installedOf<GameServer, GameServerStatus>(w, w.gameServer)
  const due = new Date(w.clock.now() + 10_000).toISOString()
  const info = {
    ...w.agent.state.game,
    state: 'Crashed',
    configured: true,
    restarts: 1,
    nextRestartTime: due,
    lastCrash: {
      time: '2026-01-01T00:00:00Z',
      exitCode: 1,
      signal: null,
      uptimeSeconds: 3.4,
      classification: 'nonzero_exit',
      logTail: ['boom'],
    },
  } as GameInfo
  const wanted = effectiveGameSpec({ server: { command: ['node', 'server.js'], port: 25565 } })
  const lookAgain = await observeGame(s, { info, wanted, runtimesPresent: true })
  t.equal(s.out.status.phase, 'Backoff')
  t.match(s.out.status.lastCrash, { exitCode: 1, classification: 'nonzero_exit', logTail: ['boom'] })
  t.match(s.out.conds.get('Ready'), {
    status: 'False',
    reason: 'Backoff',
    message: /the game crashed \(nonzero_exit, exit code 1, after 3 s\); next restart at/,
  })
  t.match(
    w.events.map((e) => e.reason),
    ['Crashed', 'Restarted'],
  )
  t.equal(lookAgain, 10_300, 'looked at again just after the restart is due (FakeClock)')
})

t.test('a hung game caught by the health probe: lastCrash unresponsive, an Unresponsive Event saying the probe failed', async (t) => {
  const w = await startWorld(t)
  const s = installedOf<GameServer, GameServerStatus>(w, w.gameServer)
  const info = {
    ...w.agent.state.game,
    state: 'Crashed',
    configured: true,
    restarts: 1,
    nextRestartTime: new Date(w.clock.now() + 30_000).toISOString(),
    lastCrash: {
      time: '2026-01-01T00:00:00Z',
      exitCode: null,
      signal: 'SIGKILL',
      uptimeSeconds: 400,
      classification: 'unresponsive',
      evidence: 'health probe minecraft failed 3 times: timeout after 5000 ms',
      logTail: [],
    },
  } as GameInfo
  const wanted = effectiveGameSpec({ server: { command: ['node', 'server.js'], port: 25565 }, game: 'minecraft' })
  await observeGame(s, { info, wanted, runtimesPresent: true })
  t.match(s.out.status.lastCrash, { classification: 'unresponsive', signal: 'SIGKILL' })
  t.match(
    w.events.filter((e) => e.reason === 'Unresponsive'),
    [{ type: 'Warning', message: /stopped answering: its health probe failed \(health probe minecraft failed 3 times/ }],
  )
  t.equal(w.events.filter((e) => e.reason === 'Crashed').length, 0, 'one Event for it, not also Crashed')
  t.match(s.out.conds.get('Ready'), { reason: 'Backoff', message: /health probe failed/ })
})

t.test('PUT /game carries game, health and idle; pushed only when the effective spec differs', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('node', '22')]
  const gs = await w.env.client.patch<GameServer>(
    { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' },
    'squid',
    'default',
    { spec: { health: { periodSeconds: 5 }, idle: { stopAfterSeconds: 600, level: 'container' } } },
    'application/merge-patch+json',
  )
  await runGame(installedOf<GameServer, GameServerStatus>(w, gs))
  const puts = () => w.agent.requests.filter((r) => r.method === 'PUT' && r.path === '/game')
  t.match(puts()[0]?.body, {
    game: 'minecraft',
    health: { periodSeconds: 5 },
    idle: { stopAfterSeconds: 600, level: 'container' },
    running: true,
  })
  t.match(w.agent.state.game.spec, { health: { probe: 'minecraft', periodSeconds: 5 }, idle: { wake: 'onConnect', level: 'container' } })
  await runGame(installedOf<GameServer, GameServerStatus>(w, gs))
  t.equal(puts().length, 1, 'the agent reports the same effective spec: nothing pushed again')

  const changed = await w.env.client.patch<GameServer>(
    { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' },
    'squid',
    'default',
    { spec: { idle: { stopAfterSeconds: 900 } } },
    'application/merge-patch+json',
  )
  await runGame(installedOf<GameServer, GameServerStatus>(w, changed))
  t.equal(puts().length, 2, 'a changed spec.idle is pushed')
})
