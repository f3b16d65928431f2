// Scheduled restarts (controller/steps/schedule.ts) through the step driver, with the FakeClock:
// status.nextScheduledRestart from croner in spec.schedule.timeZone; the console warning
// warningSeconds before (once); the graceful restart at the time, Event ScheduledRestart; requeues at
// those instants; a sleeping game not restarted; a bad expression or time zone reported by field.
import t, { type Test } from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import pino from 'pino'
import type { GameServerStatus } from '../../src/api/index.ts'
import { FakeClock, type ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import { GAMESERVER, type GameServer } from '../../controller/kinds.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { cronOf } from '../../controller/steps/schedule.ts'
import { runtime } from './steps/stub-agent.ts'
import { shareStubToken, startWorld, type StepWorld } from './steps/fixtures.ts'

const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }
const watches = { ensure: () => {}, stop: () => {} } as unknown as AgentWatches
const merge = 'application/merge-patch+json'
const condition = (status: { conditions?: Array<{ type: string }> } | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type)

async function scheduledWorld(t: Test, startIso: string, schedule: Record<string, unknown>): Promise<StepWorld> {
  const w = await startWorld(t, { clock: new FakeClock(Date.parse(startIso)) })
  await shareStubToken(w)
  w.agent.state.status.runtimes = [runtime('node', '22')]
  const listener = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => listener.close(() => resolve())))
  const port = (listener.address() as AddressInfo).port
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { server: { port }, schedule } }, merge)
  return w
}

async function drive(w: StepWorld): Promise<{ requeueAfter: number; status: GameServerStatus }> {
  const gs = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  const result = await driveServer(w.deps, watches, gs, ctx, gameServerKind)
  const after = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  return { ...result, status: after.status as GameServerStatus }
}

t.test(
  'warning warningSeconds before (once, {seconds} replaced), graceful restart at the time, next computed; requeued at each instant',
  async (t) => {
    const w = await scheduledWorld(t, '2026-03-01T03:58:30Z', {
      restart: '0 4 * * *',
      warningSeconds: 60,
      warningCommand: 'say restart in {seconds} s',
    })
    let r = await drive(w)
    t.equal(r.status.nextScheduledRestart, '2026-03-01T04:00:00.000Z')
    t.match(condition(r.status, 'Scheduled'), {
      status: 'True',
      reason: 'ScheduleValid',
      message: 'next restart at 2026-03-01T04:00:00.000Z',
    })
    t.equal(r.requeueAfter, 30_250, 'looked at again when the warning is due')
    t.equal(w.agent.count('POST /game/command'), 0)

    w.clock.advance(30_250)
    r = await drive(w)
    const commands = w.agent.requests.filter((q) => q.path === '/game/command')
    t.same(
      commands.map((q) => q.body),
      [{ line: 'say restart in 60 s' }],
    )
    t.match(condition(r.status, 'Scheduled'), { reason: 'WarningSent' })
    t.equal(r.requeueAfter, 60_000, 'looked at again when the restart is due')
    await drive(w)
    t.equal(w.agent.count('POST /game/command'), 1, 'warned once')
    t.equal(w.agent.count('POST /game/restart'), 0)

    w.clock.advance(60_000)
    r = await drive(w)
    t.equal(w.agent.count('POST /game/restart'), 1, 'restarted through the agent')
    t.match(
      w.events.filter((e) => e.reason === 'ScheduledRestart'),
      [{ type: 'Normal', message: /due 2026-03-01T04:00:00.000Z\); next at 2026-03-02T04:00:00.000Z/ }],
    )
    t.equal(r.status.nextScheduledRestart, '2026-03-02T04:00:00.000Z')
    t.match(condition(r.status, 'Scheduled'), { reason: 'ScheduleValid' })
    await drive(w)
    t.equal(w.agent.count('POST /game/restart'), 1, 'not restarted twice')
  },
)

t.test('the expression is read in spec.schedule.timeZone', async (t) => {
  const w = await scheduledWorld(t, '2026-07-01T00:00:00Z', { restart: '30 4 * * 1', timeZone: 'Europe/Berlin' })
  const r = await drive(w)
  t.equal(r.status.nextScheduledRestart, '2026-07-06T02:30:00.000Z', 'Monday 04:30 CEST')
})

t.test('a sleeping game is not warned or restarted; the next time is just computed again', async (t) => {
  const w = await scheduledWorld(t, '2026-03-01T03:59:30Z', { restart: '0 4 * * *' })
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { idle: { stopAfterSeconds: 600 } } }, merge)
  await drive(w)
  w.agent.state.game = {
    ...w.agent.state.game,
    state: 'Sleeping',
    sleep: { since: '2026-03-01T03:00:00Z', wake: 'onConnect', reason: 'idle' },
  }
  w.clock.advance(31_000)
  const r = await drive(w)
  t.equal(w.agent.count('POST /game/restart'), 0)
  t.equal(r.status.nextScheduledRestart, '2026-03-02T04:00:00.000Z')
  t.equal(r.status.phase, 'Sleeping')
})

t.test(
  'a bad cron expression or time zone: Scheduled False naming the field, one Warning Event, the server still reconciled',
  async (t) => {
    const w = await scheduledWorld(t, '2026-03-01T00:00:00Z', { restart: '61 4 * * *' })
    let r = await drive(w)
    t.match(condition(r.status, 'Scheduled'), {
      status: 'False',
      reason: 'InvalidSchedule',
      message: /^spec\.schedule\.restart "61 4 \* \* \*"/,
    })
    t.equal(r.status.nextScheduledRestart, undefined)
    t.equal(r.status.phase, 'Running', 'the rest of the reconcile went on')
    await drive(w)
    t.equal(w.events.filter((e) => e.reason === 'InvalidSchedule').length, 1, 'one Event per new error')

    await w.env.client.patch(
      GAMESERVER,
      'squid',
      'default',
      { spec: { schedule: { restart: '0 4 * * *', timeZone: 'Mars/Olympus' } } },
      merge,
    )
    r = await drive(w)
    t.match(condition(r.status, 'Scheduled'), {
      status: 'False',
      message: /^spec\.schedule\.timeZone "Mars\/Olympus" is not an IANA time zone/,
    })

    await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { schedule: { restart: '0 4 31 2 *', timeZone: null } } }, merge)
    r = await drive(w)
    t.match(condition(r.status, 'Scheduled'), { status: 'False', message: /never matches a date/ })

    await w.env.client.patch(GAMESERVER, 'squid', 'default', { spec: { schedule: null } }, merge)
    r = await drive(w)
    t.equal(condition(r.status, 'Scheduled'), undefined, 'no schedule, no condition')
  },
)

t.test('cronOf: five fields only (a six-field expression would read seconds)', async (t) => {
  t.match(cronOf({ restart: '0 0 4 * * *' }), { error: /five-field/ })
  t.ok('cron' in cronOf({ restart: '*/15 * * * *' }))
})
