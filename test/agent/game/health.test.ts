// The health probe loop and the idle clock on a fake clock with a fake probe: period, timeout,
// failure threshold, initial delay, one timer at a time, players and idleSince.
import t from 'tap'
import { FakeClock } from '../../../src/platform/clock.ts'
import { effectiveGameSpec } from '../../../src/api/game-spec.ts'
import type { ProbeAnswer, ProbeTarget } from '../../../src/platform/game-protocol/types.ts'
import { HealthProbeLoop, type HealthLoopHandlers } from '../../../agent/game/health.ts'
import { IdleClock, idleBlockedMessage, sleepingMotd } from '../../../agent/game/idle.ts'

type Step = 'ok' | 'fail' | 'hang' | ProbeAnswer

function fakeProbe(steps: Step[]) {
  const seen: ProbeTarget[] = []
  let aborted = 0
  const probe = (target: ProbeTarget, signal?: AbortSignal): Promise<ProbeAnswer> => {
    seen.push(target)
    const step = steps.shift() ?? 'fail'
    if (step === 'ok') return Promise.resolve({ latencyMs: 1 })
    if (step === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:25565'))
    if (step === 'hang')
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => {
          aborted++
          reject(new Error('aborted'))
        }),
      )
    return Promise.resolve(step)
  }
  return { probe, seen, aborted: () => aborted }
}

function recorder() {
  const events: string[] = []
  const answers: ProbeAnswer[] = []
  const handlers: HealthLoopHandlers = {
    onAnswer: (a) => {
      answers.push(a)
      events.push('answer')
    },
    onHealthChange: () => events.push('change'),
    onUnresponsive: (n, err) => events.push(`unresponsive ${n}: ${err}`),
  }
  return { events, answers, handlers }
}

const health = (over: Record<string, unknown> = {}) =>
  effectiveGameSpec({ server: { command: ['x'], port: 25565 }, game: 'minecraft', health: { periodSeconds: 10, ...over } }).health

/** Advances one period and lets the probe's promise settle. */
async function tick(clock: FakeClock, ms = 10_000): Promise<void> {
  clock.advance(ms)
  await clock.settle()
}

t.test(
  'failures before the first answer do not count during initialDelaySeconds; then failureThreshold in a row is unresponsive',
  async (t) => {
    const clock = new FakeClock()
    const startedAt = clock.now()
    const { probe, seen } = fakeProbe(['fail', 'fail', 'fail', 'fail', 'fail', 'fail'])
    const r = recorder()
    const loop = new HealthProbeLoop({
      clock,
      probe,
      health: health({ initialDelaySeconds: 30, failureThreshold: 3 }),
      startedAt,
      handlers: r.handlers,
    })
    loop.start()
    t.equal(clock.pendingTimers, 1, 'one timer: the first probe, a period from now')
    await tick(clock) // t=10 s
    await tick(clock) // t=20 s
    t.equal(loop.status().consecutiveFailures, 0, 'failures inside the initial delay with no answer yet do not count')
    t.equal(loop.status().ok, false)
    t.match(loop.status().lastError, /ECONNREFUSED/)
    await tick(clock) // t=30 s: counts
    await tick(clock) // 40
    t.equal(loop.status().consecutiveFailures, 2)
    t.same(r.events, [], 'not yet')
    await tick(clock) // 50
    t.same(r.events, ['unresponsive 3: connect ECONNREFUSED 127.0.0.1:25565'])
    t.equal(loop.stopped, true, 'the loop stops itself once it reported the hang')
    t.equal(clock.pendingTimers, 0, 'no timer left behind')
    await tick(clock, 60_000)
    t.equal(seen.length, 5, 'no probe after that')
    t.same(seen[0], { kind: 'minecraft', host: '127.0.0.1', port: 25565, timeoutMs: 5000 })
  },
)

t.test('once the game answered, failures count at once, even inside the initial delay; an answer resets the count', async (t) => {
  const clock = new FakeClock()
  const { probe } = fakeProbe(['ok', 'fail', 'ok', 'fail', 'fail'])
  const r = recorder()
  const loop = new HealthProbeLoop({
    clock,
    probe,
    health: health({ initialDelaySeconds: 300, failureThreshold: 2 }),
    startedAt: clock.now(),
    handlers: r.handlers,
  })
  loop.start()
  await tick(clock)
  t.equal(loop.status().ok, true)
  t.equal(loop.status().lastSuccessTime, new Date(clock.now()).toISOString())
  await tick(clock)
  t.equal(loop.status().consecutiveFailures, 1, 'counted although the initial delay is not over: the game answered once')
  await tick(clock)
  t.equal(loop.status().consecutiveFailures, 0, 'an answer resets the count')
  t.notOk(loop.status().lastError)
  await tick(clock)
  await tick(clock)
  t.same(r.events, ['change', 'answer', 'change', 'change', 'answer', 'change', 'unresponsive 2: connect ECONNREFUSED 127.0.0.1:25565'])
})

t.test('a probe that never answers is cut at timeoutSeconds on the clock, and only one probe or timer runs at a time', async (t) => {
  const clock = new FakeClock()
  const f = fakeProbe(['hang', 'hang'])
  const r = recorder()
  const loop = new HealthProbeLoop({
    clock,
    probe: f.probe,
    health: health({ initialDelaySeconds: 0, failureThreshold: 2, timeoutSeconds: 3, periodSeconds: 5 }),
    startedAt: clock.now(),
    handlers: r.handlers,
  })
  loop.start()
  await tick(clock, 5000)
  t.equal(f.seen.length, 1)
  t.equal(clock.pendingTimers, 1, 'while a probe runs: only its timeout, no next tick')
  await tick(clock, 3000)
  t.equal(f.aborted(), 1, 'the hung probe is aborted')
  t.equal(loop.status().lastError, 'no answer within 3000 ms')
  t.equal(clock.pendingTimers, 1, 'the next tick only')
  await tick(clock, 5000)
  await tick(clock, 3000)
  t.same(r.events, ['unresponsive 2: no answer within 3000 ms'])
  t.equal(clock.pendingTimers, 0)
})

t.test('stop(): an in-flight probe is aborted, its late answer ignored, no timer left', async (t) => {
  const clock = new FakeClock()
  const f = fakeProbe(['hang'])
  const r = recorder()
  const loop = new HealthProbeLoop({ clock, probe: f.probe, health: health(), startedAt: clock.now(), handlers: r.handlers })
  loop.start()
  await tick(clock)
  loop.stop()
  await clock.settle()
  t.equal(f.aborted(), 1)
  t.equal(clock.pendingTimers, 0)
  await tick(clock, 120_000)
  t.same(r.events, [])
})

t.test('players: idleSince is set while 0 are online and cleared on a join; observe() says when watchers should hear of it', async (t) => {
  const idle = new IdleClock()
  const at = 1_700_000_000_000
  const answer = (online: number): ProbeAnswer => ({ latencyMs: 1, players: { online, max: 20, motd: 'A world', version: '1.21.4' } })
  t.equal(idle.observe(answer(0), at), true, 'players known for the first time')
  t.equal(idle.idleSince, at)
  t.equal(idle.observe(answer(0), at + 10_000), false, 'nothing to tell on a probe that learnt nothing new')
  t.equal(idle.idleSince, at, 'idle since the first empty probe')
  t.equal(idle.players?.observedTime, new Date(at + 10_000).toISOString())
  const spec = effectiveGameSpec({ server: { command: ['x'] }, game: 'minecraft', idle: { stopAfterSeconds: 60 } })
  t.equal(idle.shouldSleep(spec, at + 59_999), false)
  t.equal(idle.shouldSleep(spec, at + 60_000), true)
  t.equal(idle.observe(answer(1), at + 20_000), true, 'a join changes online')
  t.equal(idle.idleSince, null)
  t.equal(idle.shouldSleep(spec, at + 600_000), false)
  t.equal(idle.observe(answer(0), at + 30_000), true, 'a leave changes online')
  t.equal(idle.idleSince, at + 30_000)
  t.equal(idle.observe({ latencyMs: 1 }, at + 40_000), true, 'players unknown again')
  t.equal(idle.idleSince, null)
  idle.observe(answer(0), at)
  idle.reset()
  t.equal(idle.players, null)
  t.equal(idle.idleSince, null)

  const container = effectiveGameSpec({ server: { command: ['x'] }, game: 'minecraft', idle: { stopAfterSeconds: 60, level: 'container' } })
  idle.observe(answer(0), at)
  t.equal(idle.shouldSleep(container, at + 3_600_000), false, "level container is the controller's: the agent only reports idleSince")
})

t.test('idle with a probe that reports no players never sleeps, and says why', async (t) => {
  const idle = new IdleClock()
  for (const probe of ['tcp', 'none'] as const) {
    const spec = effectiveGameSpec({ server: { command: ['x'] }, health: { probe }, idle: { stopAfterSeconds: 5 } })
    idle.observe({ latencyMs: 1, players: { online: 0, max: 1 } }, 0)
    t.equal(idle.shouldSleep(spec, 3_600_000), false, probe)
    t.match(idleBlockedMessage(spec), new RegExp(`health.probe is ${probe}, which reports no players: the server never sleeps`))
  }
  t.equal(idleBlockedMessage(effectiveGameSpec({ server: { command: ['x'] }, game: 'minecraft', idle: { stopAfterSeconds: 5 } })), null)
  t.equal(idleBlockedMessage(effectiveGameSpec({ server: { command: ['x'] }, health: { probe: 'tcp' } })), null, 'no idle, nothing to say')
})

t.test('the sleeping MOTD: the game own, then the state; short', async (t) => {
  t.equal(sleepingMotd('My §aworld', 'onConnect'), 'My §aworld — sleeping, join to wake')
  t.equal(sleepingMotd(null, 'never'), 'A Minecraft server — sleeping')
  t.ok(sleepingMotd('x'.repeat(500), 'onConnect').length < 100)
})
