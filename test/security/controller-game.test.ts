// Security regressions of the controller's game-health, players and sleep code (issue 21): what a
// game (and its agent) reports and what anyone with patch rights writes into annotations is
// untrusted input at the controller's edge.
//  - A players report a hostile game invents (names of 10 000 characters, 1 000 sample entries, a
//    megabyte MOTD, negative or non-numeric counts, a non-time observedTime) is bounded to the CRD's
//    limits: the status write succeeds and the rest of the status stays current (an unbounded copy
//    would make every status write of that server fail with 422).
//  - A sleep reason the agent reports is bounded the same way.
//  - A wake annotation far in the future (year 9999) neither wakes a sleeping server (it would wake it
//    after every sleep) nor keeps a DevServer's idle clock from ever running; a non-time value is
//    ignored.
// Real parts: the embedded API server (its CRD validation is what refuses an oversized status), the
// step driver; the agent and the container backend are the STUB ones of test/controller/steps.
import t, { type Test } from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import pino from 'pino'
import { LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION, type DevServerStatus, type GameServerStatus } from '../../src/api/index.ts'
import { patchStatus, type ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { devServerKind } from '../../controller/devserver.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import { DEVSERVER, GAMESERVER, type DevServer, type GameServer } from '../../controller/kinds.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { codeServerState, runtime } from '../controller/steps/stub-agent.ts'
import { shareStubToken, startWorld, type StepWorld } from '../controller/steps/fixtures.ts'

const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }
const watches = { ensure: () => {}, stop: () => {} } as unknown as AgentWatches
const merge = 'application/merge-patch+json'

async function gameWorld(t: Test): Promise<StepWorld> {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.status.runtimes = [runtime('node', '22')]
  const listener = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => listener.close(() => resolve())))
  const port = (listener.address() as AddressInfo).port
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { server: { port } } }, merge)
  return w
}

async function driveGame(w: StepWorld): Promise<GameServerStatus> {
  const gs = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  await driveServer(w.deps, watches, gs, ctx, gameServerKind)
  return (await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')).status as GameServerStatus
}

t.test('a hostile players report is bounded to the CRD limits and the status write succeeds', async (t) => {
  const w = await gameWorld(t)
  await driveGame(w)
  const long = 'x'.repeat(10_000)
  w.agent.state.game = {
    ...w.agent.state.game,
    state: 'Running',
    restarts: 3,
    players: {
      online: 7.9,
      max: -4,
      sample: Array.from({ length: 1000 }, (_, i) => ({ name: `${long}${i}`, id: long })),
      version: long,
      motd: 'm'.repeat(1_000_000),
      observedTime: 'not a time',
    },
  } as never
  const status = await driveGame(w)
  t.equal(status.restarts, 3, 'the rest of the status was written')
  t.equal(status.players?.online, 7)
  t.equal(status.players?.max, 0)
  t.equal(status.players?.sample?.length, 12)
  t.ok(status.players?.sample?.every((p) => p.name?.length === 64 && p.id?.length === 64))
  t.equal(status.players?.version?.length, 256)
  t.equal(status.players?.motd?.length, 1024)
  t.equal(status.players?.observedTime, new Date(w.clock.now()).toISOString(), 'a non-time observedTime is when the controller read it')

  w.agent.state.game = { ...w.agent.state.game, players: { online: 'many', max: 10 } } as never
  t.equal((await driveGame(w)).players, undefined, 'a report without counts is unknown')
})

t.test('a hostile sleep reason from the agent is bounded; a wake request from the far future does not wake the server', async (t) => {
  const w = await gameWorld(t)
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { idle: { stopAfterSeconds: 60 } } }, merge)
  await driveGame(w)
  const since = new Date(w.clock.now() - 60_000).toISOString()
  w.agent.state.game = { ...w.agent.state.game, state: 'Sleeping', sleep: { since, wake: 'onConnect', reason: 'r'.repeat(100_000) } }
  let status = await driveGame(w)
  t.equal(status.phase, 'Sleeping')
  t.equal(status.sleep?.reason?.length, 1024)

  for (const value of ['9999-12-31T23:59:59Z', 'soon', '']) {
    await w.env.client.patch(GAMESERVER, 'squid', 'default', { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: value } } }, merge)
    status = await driveGame(w)
    t.equal(w.agent.count('POST /game/wake'), 0, `${JSON.stringify(value)} does not wake it`)
    t.equal(status.phase, 'Sleeping')
  }
})

t.test('a container asleep is not woken by a far-future wake request, so it cannot be kept in a wake loop', async (t) => {
  const w = await gameWorld(t)
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { idle: { stopAfterSeconds: 60, level: 'container' } } }, merge)
  await driveGame(w)
  await patchStatus(w.env.client, GAMESERVER, 'squid', 'default', {
    phase: 'Sleeping',
    sleep: { level: 'container', since: new Date(w.clock.now()).toISOString(), reason: 'idle' },
  })
  await w.env.client.patch(
    GAMESERVER,
    'squid',
    'default',
    { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: '9999-12-31T23:59:59Z' } } },
    merge,
  )
  const calls = w.backend.calls.length
  const status = await driveGame(w)
  t.equal(status.phase, 'Sleeping')
  t.notOk(w.backend.calls.slice(calls).includes('start'), 'the container is not started')
})

t.test("far-future activity or wake annotations do not keep a DevServer's idle clock from running", async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.status.runtimes = [runtime('node', '22'), runtime('code-server', '4.0.0')]
  w.agent.state.status.codeServer = codeServerState('Running', true)
  await w.env.client.patch(
    DEVSERVER,
    'octo',
    'default',
    {
      spec: { idle: { stopAfterSeconds: 30 } },
      metadata: {
        annotations: { [LAST_ACTIVITY_ANNOTATION]: '9999-12-31T23:59:59Z', [WAKE_REQUESTED_ANNOTATION]: '9999-01-01T00:00:00Z' },
      },
    },
    merge,
  )
  const drive = async (): Promise<DevServerStatus> => {
    const ds = await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')
    await driveServer(w.deps, watches, ds, ctx, devServerKind)
    return (await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')).status as DevServerStatus
  }
  t.equal((await drive()).phase, 'Running')
  w.clock.advance(31_000)
  t.equal((await drive()).phase, 'Sleeping', 'asleep after stopAfterSeconds despite the annotations')
})

t.test("a condition message built from the agent's words is cut to metav1.Condition's 32 KiB; the write succeeds", async (t) => {
  const w = await gameWorld(t)
  await driveGame(w)
  w.agent.state.game = { ...w.agent.state.game, state: 'Error', configured: true, message: 'é'.repeat(50_000) }
  const status = await driveGame(w)
  t.equal(status.phase, 'Error')
  const ready = status.conditions?.find((c) => c.type === 'Ready')
  t.ok(ready !== undefined && Buffer.byteLength(ready.message) <= 32_768, 'bounded')
  t.match(ready?.message, /…\(cut\)$/)
})
