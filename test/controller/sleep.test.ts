// Sleep and wake, the controller's side (controller/steps/sleep.ts, game-players.ts), through the
// step driver: the embedded API server holds the objects, the STUB agent and STUB container backend
// (steps/stub-agent.ts) stand in for the container, the FakeClock is the idle clock.
//  - players and the process-level Sleeping state copied to status, Events Sleeping and Woke;
//  - container level: idle past stopAfterSeconds → game stopped through the agent, container stopped
//    through the provider, status.sleep; nothing provisioned while asleep; the wake annotation starts it;
//  - a DevServer with no IDE traffic sleeps and wakes the same way, status.ide kept;
//  - spec.idle with a probe that reports no players: SleepReady False, one Warning, never asleep.
import t, { type Test } from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import pino from 'pino'
import { LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION, type DevServerStatus, type GameServerStatus } from '../../src/api/index.ts'
import { FakeClock, patchStatus, type ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { devServerKind } from '../../controller/devserver.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import { DEVSERVER, GAMESERVER, type DevServer, type GameServer } from '../../controller/kinds.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { codeServerState, runtime } from './steps/stub-agent.ts'
import { shareStubToken, startWorld, type StepWorld } from './steps/fixtures.ts'

const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }
const watches = { ensure: () => {}, stop: () => {} } as unknown as AgentWatches
const merge = 'application/merge-patch+json'
const condition = (status: { conditions?: Array<{ type: string }> } | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type)

/** A port that answers, as the game's would (phase Running needs it). */
async function gamePort(t: Test): Promise<number> {
  const listener = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => listener.close(() => resolve())))
  return (listener.address() as AddressInfo).port
}

async function driveGame(w: StepWorld): Promise<{ requeueAfter: number; gs: GameServer }> {
  const gs = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  const result = await driveServer(w.deps, watches, gs, ctx, gameServerKind)
  return { ...result, gs: await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default') }
}

async function driveDev(w: StepWorld): Promise<{ requeueAfter: number; ds: DevServer }> {
  const ds = await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')
  const result = await driveServer(w.deps, watches, ds, ctx, devServerKind)
  return { ...result, ds: await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default') }
}

async function gameWorld(t: Test, spec: Record<string, unknown>): Promise<StepWorld> {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.status.runtimes = [runtime('node', '22')]
  const port = await gamePort(t)
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { server: { port }, ...spec } }, merge)
  return w
}

const annotate = (w: StepWorld, kind: typeof GAMESERVER, name: string, annotations: Record<string, string>) =>
  w.env.client.patch(kind, name, 'default', { metadata: { annotations } }, merge)

t.test('players are copied to status (sample at most 12) and the metric; removed when the agent reports none', async (t) => {
  const w = await gameWorld(t, {})
  const sample = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, id: `id-${i}` }))
  await driveGame(w)
  w.agent.state.game = {
    ...w.agent.state.game,
    state: 'Running',
    players: { online: 20, max: 50, sample, version: '1.21.4', motd: 'hello', observedTime: '2026-01-01T00:00:00Z' },
  }
  let { gs } = await driveGame(w)
  const status = gs.status as GameServerStatus
  t.match(status.players, { online: 20, max: 50, version: '1.21.4', motd: 'hello', observedTime: '2026-01-01T00:00:00.000Z' })
  t.equal(status.players?.sample?.length, 12, 'at most 12 of the sample')
  t.equal(status.phase, 'Running')
  t.match(await w.deps.metrics.players.get(), { values: [{ labels: { namespace: 'default', name: 'squid' }, value: 20 }] })

  // A later report without motd removes it (a nested merge patch), and null removes players.
  w.agent.state.game = { ...w.agent.state.game, players: { online: 1, max: 50, observedTime: '2026-01-01T00:01:00Z' } }
  gs = (await driveGame(w)).gs
  t.same((gs.status as GameServerStatus).players, { online: 1, max: 50, observedTime: '2026-01-01T00:01:00.000Z' })
  w.agent.state.game = { ...w.agent.state.game, players: null }
  gs = (await driveGame(w)).gs
  t.equal((gs.status as GameServerStatus).players, undefined)
  t.same((await w.deps.metrics.players.get()).values, [], 'no series while unknown')
})

t.test(
  'process level: the agent sleeps the game → phase Sleeping, status.sleep, Event; the wake annotation calls POST /game/wake',
  async (t) => {
    const w = await gameWorld(t, { idle: { stopAfterSeconds: 60 } })
    const iso = (fromNow: number) => new Date(w.clock.now() + fromNow).toISOString()
    await driveGame(w)
    w.agent.state.game = {
      ...w.agent.state.game,
      state: 'Sleeping',
      sleep: { since: iso(-600_000), wake: 'onConnect', reason: 'no players for 60 s' },
    }
    let { gs } = await driveGame(w)
    let status = gs.status as GameServerStatus
    t.equal(status.phase, 'Sleeping')
    t.same(status.sleep, { level: 'process', since: iso(-600_000), reason: 'no players for 60 s' })
    t.match(condition(status, 'Ready'), { status: 'False', reason: 'Sleeping', message: /a player's login or a wake request wakes it/ })
    t.match(condition(status, 'SleepReady'), { status: 'True', reason: 'PlayersProbed' })
    t.match(
      w.events.filter((e) => e.reason === 'Sleeping'),
      [{ type: 'Normal', message: /no players for 60 s/ }],
    )
    t.equal(w.agent.count('POST /game/wake'), 0, 'asleep: not woken by a reconcile')
    t.notOk(
      w.agent.requests.some(
        (r) => r.method === 'PUT' && (r.body as { running?: boolean }).running === true && w.agent.state.game.state !== 'Sleeping',
      ),
    )

    // An older request does not wake it; a newer one does.
    await annotate(w, GAMESERVER, 'squid', { [WAKE_REQUESTED_ANNOTATION]: iso(-700_000) })
    await driveGame(w)
    t.equal(w.agent.count('POST /game/wake'), 0, 'a request older than the sleep is spent')
    await annotate(w, GAMESERVER, 'squid', { [WAKE_REQUESTED_ANNOTATION]: iso(-300_000) })
    gs = (await driveGame(w)).gs
    status = gs.status as GameServerStatus
    t.equal(w.agent.count('POST /game/wake'), 1)
    t.equal(status.sleep, undefined, 'status.sleep removed when awake')
    t.equal(status.phase, 'Starting')
    t.match(
      w.events.filter((e) => e.reason === 'Woke'),
      [
        {
          message: `the game is starting again: woken by a wake request at ${iso(-300_000)} (annotation ${WAKE_REQUESTED_ANNOTATION}: a player's login, the IDE URL opened, or a person)`,
        },
      ],
    )
    t.equal(gs.spec.running, true, 'spec.running as written (its default): sleep is status only')
  },
)

t.test(
  'container level: idle past stopAfterSeconds → game and container stopped; asleep nothing starts; the wake annotation starts it',
  async (t) => {
    const w = await gameWorld(t, { idle: { stopAfterSeconds: 60, level: 'container' }, schedule: { restart: '0 4 * * *' } })
    await driveGame(w)
    // The idle clock counts from when SleepReady became True (that first reconcile) at the earliest.
    w.clock.advance(30_000)
    w.agent.state.game = {
      ...w.agent.state.game,
      state: 'Running',
      players: { online: 0, max: 20, observedTime: new Date(w.clock.now()).toISOString() },
      idleSince: new Date(w.clock.now() - 3600_000).toISOString(),
    }
    let r = await driveGame(w)
    t.equal(r.gs.status?.phase, 'Running')
    t.equal(r.requeueAfter, 30_250, 'idle for an hour by the agent, but counted from SleepReady: looked at again when that deadline passes')
    t.notOk(w.backend.calls.includes('stop'))

    w.clock.advance(30_250)
    r = await driveGame(w)
    let status = r.gs.status as GameServerStatus
    t.equal(w.agent.count('POST /game/stop'), 1, 'the game stopped gracefully through the agent')
    t.equal(w.backend.calls.at(-1), 'stop', 'then the container through the provider')
    t.notOk(w.backend.calls.includes('delete'), 'stopped, not deleted')
    t.equal(status.phase, 'Sleeping')
    t.same(status.sleep, {
      level: 'container',
      since: new Date(w.clock.now()).toISOString(),
      reason: 'no players for 60 s (spec.idle.stopAfterSeconds)',
    })
    t.match(condition(status, 'Ready'), { status: 'False', reason: 'Sleeping' })
    t.match(
      w.events.filter((e) => e.reason === 'Sleeping'),
      [{ message: /container 100 stopped: no players for 60 s/ }],
    )
    t.equal(r.gs.spec.running, true, 'spec.running untouched')
    t.equal(status.players, undefined, 'no players while asleep')
    t.same((await w.deps.metrics.players.get()).values, [], 'nor a players series')
    t.equal(status.nextScheduledRestart, '2023-11-15T04:00:00.000Z', 'the schedule still computed (nothing restarted)')

    // Asleep: a reconcile (e.g. an apply of the same manifest) provisions and starts nothing.
    const calls = w.backend.calls.length
    const requests = w.agent.requests.length
    r = await driveGame(w)
    t.equal(r.gs.status?.phase, 'Sleeping')
    t.same(w.backend.calls.slice(calls), ['observe'], 'only looked at, not ensured or started')
    t.equal(w.agent.requests.length, requests, 'the agent is not called')

    // A wake request from before the sleep is spent; a later one wakes it.
    await annotate(w, GAMESERVER, 'squid', { [WAKE_REQUESTED_ANNOTATION]: new Date(w.clock.now() - 1000).toISOString() })
    r = await driveGame(w)
    t.equal(r.gs.status?.phase, 'Sleeping')
    w.agent.state.game = { ...w.agent.state.game, idleSince: null, players: null }
    await annotate(w, GAMESERVER, 'squid', { [WAKE_REQUESTED_ANNOTATION]: new Date(w.clock.now() + 1000).toISOString() })
    r = await driveGame(w)
    status = r.gs.status as GameServerStatus
    t.equal(status.sleep, undefined, 'status.sleep cleared')
    t.ok(w.backend.calls.slice(calls).includes('start'), 'the container started through the provider')
    t.not(status.phase, 'Sleeping')
    t.match(
      w.events.filter((e) => e.reason === 'Woke'),
      [{ message: /wake request at/ }],
    )
  },
)

t.test('container level asleep, then spec.running false: Stopped, sleep cleared; spec.idle removed wakes it', async (t) => {
  const w = await gameWorld(t, { idle: { stopAfterSeconds: 60, level: 'container' } })
  await driveGame(w)
  const asleep = { level: 'container', since: new Date(w.clock.now()).toISOString(), reason: 'no players for 60 s' }
  await patchStatus(w.env.client, GAMESERVER, 'squid', 'default', { phase: 'Sleeping', sleep: asleep })
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { idle: null } }, merge)
  let r = await driveGame(w)
  t.equal(r.gs.status?.sleep, undefined)
  t.match(
    w.events.filter((e) => e.reason === 'Woke'),
    [{ message: /spec.idle no longer asks for this sleep/ }],
  )

  await patchStatus(w.env.client, GAMESERVER, 'squid', 'default', { phase: 'Sleeping', sleep: asleep })
  await w.env.client.patch(
    GAMESERVER,
    'squid',
    'default',
    { spec: { running: false, idle: { stopAfterSeconds: 60, level: 'container' } } },
    merge,
  )
  r = await driveGame(w)
  t.equal(r.gs.status?.sleep, undefined, 'sleep cleared')
  t.equal(r.gs.status?.phase, 'Stopped')
})

t.test('spec.idle with a tcp probe: SleepReady False naming the fix, one Warning Event, never asleep', async (t) => {
  const w = await gameWorld(t, { health: { probe: 'tcp' }, idle: { stopAfterSeconds: 5, level: 'container' } })
  w.agent.state.game = { ...w.agent.state.game, state: 'Running', idleSince: new Date(w.clock.now() - 3600_000).toISOString() }
  await driveGame(w)
  const r = await driveGame(w)
  t.match(condition(r.gs.status, 'SleepReady'), {
    status: 'False',
    reason: 'NoPlayerProbe',
    message: /spec.health.probe is tcp; set it to minecraft or a2s/,
  })
  t.equal(w.events.filter((e) => e.reason === 'IdleNeedsPlayerProbe').length, 1, 'one Warning, not one per reconcile')
  t.equal(r.gs.status?.phase, 'Running')
  t.notOk(w.backend.calls.includes('stop'))
})

t.test('a DevServer with no IDE traffic for stopAfterSeconds sleeps (status.ide kept) and the wake annotation wakes it', async (t) => {
  // The idle clock reads Ready's transition time, stamped with the wall clock: the fake one starts there.
  const w = await startWorld(t, { clock: new FakeClock(Date.now()) })
  await shareStubToken(w)
  w.agent.state.status.runtimes = [runtime('node', '22'), runtime('code-server', '4.0.0')]
  w.agent.state.status.codeServer = codeServerState('Running', true)
  await w.env.client.patch(DEVSERVER, 'octo', 'default', { spec: { idle: { stopAfterSeconds: 30 } } }, merge)
  let r = await driveDev(w)
  t.equal(r.ds.status?.phase, 'Running')
  // (Ready was stamped a moment after the fake clock started: the deadline is that much later.)
  t.ok(r.requeueAfter > 25_000 && r.requeueAfter <= 40_000, `requeued at the idle deadline (${r.requeueAfter} ms)`)

  // IDE traffic 20 s later moves the deadline.
  w.clock.advance(20_000)
  await w.env.client.patch(
    DEVSERVER,
    'octo',
    'default',
    { metadata: { annotations: { [LAST_ACTIVITY_ANNOTATION]: new Date(w.clock.now()).toISOString() } } },
    merge,
  )
  r = await driveDev(w)
  t.equal(r.ds.status?.phase, 'Running')
  t.ok(r.requeueAfter > 29_000 && r.requeueAfter <= 30_250, `the deadline moved with the traffic (${r.requeueAfter} ms)`)

  w.clock.advance(30_250)
  r = await driveDev(w)
  const status = r.ds.status as DevServerStatus
  t.equal(status.phase, 'Sleeping')
  t.match(status.sleep, { level: 'container', reason: 'no IDE traffic for 30 s (spec.idle.stopAfterSeconds)' })
  t.match(status.ide, { host: 'dev-100.ide.test' }, 'status.ide kept: the gateway still knows the host')
  t.equal(w.agent.count('POST /dev/codeserver/stop'), 1, 'code-server stopped through the agent')
  t.equal(w.backend.calls.at(-1), 'stop', 'the container stopped through the provider')
  t.match(condition(status, 'CodeServerReady'), { status: 'False', reason: 'Sleeping' })

  await w.env.client.patch(
    DEVSERVER,
    'octo',
    'default',
    { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: new Date(w.clock.now() + 1000).toISOString() } } },
    merge,
  )
  w.agent.state.status.codeServer = codeServerState('Stopped', false)
  r = await driveDev(w)
  t.equal(r.ds.status?.sleep, undefined)
  t.equal(r.ds.status?.phase, 'Running', 'started again: code-server started, Ready')
  t.match(
    w.events.filter((e) => e.reason === 'Woke'),
    [{ message: /wake request/ }],
  )
})

t.test('process level: spec.idle removed while the game sleeps wakes it through the agent', async (t) => {
  const w = await gameWorld(t, { idle: { stopAfterSeconds: 60 } })
  await driveGame(w)
  const since = new Date(w.clock.now() - 60_000).toISOString()
  w.agent.state.game = { ...w.agent.state.game, state: 'Sleeping', sleep: { since, wake: 'onConnect', reason: 'idle' } }
  t.equal((await driveGame(w)).gs.status?.phase, 'Sleeping')
  t.equal(w.agent.count('POST /game/wake'), 0)
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { idle: null } }, merge)
  const { gs } = await driveGame(w)
  t.equal(w.agent.count('POST /game/wake'), 1)
  t.equal(gs.status?.sleep, undefined)
  t.match(
    w.events.filter((e) => e.reason === 'Woke'),
    [{ message: /spec.idle no longer asks for this sleep/ }],
  )
  t.equal(condition(gs.status, 'SleepReady'), undefined, 'no spec.idle, no SleepReady')
})
