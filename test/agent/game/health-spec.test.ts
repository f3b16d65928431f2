// Spec changes and the probe: health and idle apply to a running game at once (no restart pending),
// server changes still wait for a restart; a spec an older agent saved (no health, no idle) is read
// with the defaults filled in, also when the agent re-attaches to a running game. Fake clock, fake probe.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { FakeClock } from '../../../src/platform/clock.ts'
import type { ProbeAnswer, ProbeTarget } from '../../../src/platform/game-protocol/types.ts'
import { GameSupervisor } from '../../../agent/game/supervisor.ts'
import { freePort, killGame, newSupervisor, waitForStatus } from './helpers.ts'

const hangGame = new URL('./fixtures/hang-game.cjs', import.meta.url).pathname

function probeSpy() {
  const targets: ProbeTarget[] = []
  const probe = async (target: ProbeTarget): Promise<ProbeAnswer> => {
    targets.push(target)
    return { latencyMs: 1 }
  }
  return { targets, probe }
}

t.test('a health change applies to the running game at once; a server change waits for a restart', async (t) => {
  const port = await freePort()
  const clock = new FakeClock()
  const spy = probeSpy()
  const { sup } = newSupervisor(t, { clock, probe: spy.probe })
  await sup.init()
  const server = { command: [process.execPath, hangGame], port, gracePeriodSeconds: 1 }
  await sup.applySpec({ server, health: { probe: 'tcp', periodSeconds: 10 }, running: true })
  await waitForStatus(sup, (s) => s.state === 'Running', 20_000, 'Running')
  clock.advance(10_000)
  await clock.settle()
  t.equal(spy.targets.at(-1)?.kind, 'tcp')

  const changed = await sup.applySpec({ server, health: { probe: 'a2s', port: 27015, periodSeconds: 5 }, idle: { stopAfterSeconds: 60 } })
  t.equal(changed.restartPending, false, 'health and idle need no restart')
  t.equal(clock.pendingTimers, 1, 'one probe loop, the new one')
  clock.advance(5_000)
  await clock.settle()
  t.same(spy.targets.at(-1), { kind: 'a2s', host: '127.0.0.1', port: 27015, timeoutMs: 5000 }, 'the new probe at once')

  const moved = await sup.applySpec({ server: { ...server, args: ['--x'] }, health: { probe: 'a2s', port: 27015, periodSeconds: 5 } })
  t.equal(moved.restartPending, true, 'a server change waits for the next start')
})

t.test('a spec saved by an older agent (no health, no idle) is read with the defaults, also on re-attach', async (t) => {
  const port = await freePort()
  const clock = new FakeClock()
  const spy = probeSpy()
  const { sup, opts } = newSupervisor(t, { clock, probe: spy.probe })
  await sup.init()
  await sup.applySpec({ server: { command: [process.execPath, hangGame], port, gracePeriodSeconds: 1 }, running: true })
  const running = await waitForStatus(sup, (s) => s.state === 'Running', 20_000, 'Running')
  t.equal(clock.pendingTimers, 1, 'the probe timer')
  sup.detach()
  t.equal(clock.pendingTimers, 0, 'agent shutdown: the probe stops, the game runs on')
  const specFile = path.join(opts.stateDir, 'spec.json')
  const saved = JSON.parse(readFileSync(specFile, 'utf8')) as { spec: Record<string, unknown> }
  delete saved.spec.health
  delete saved.spec.idle
  writeFileSync(specFile, JSON.stringify(saved))

  const again = new GameSupervisor({ ...opts, clock, probe: spy.probe })
  t.teardown(() => killGame(again))
  await again.init()
  t.equal(again.status().state, 'Running', 're-attached')
  t.equal(again.status().pid, running.pid)
  t.same(again.currentSpec?.health, {
    probe: 'tcp',
    port,
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    initialDelaySeconds: 300,
  })
  t.equal(again.currentSpec?.idle, null)
  clock.advance(10_000)
  await clock.settle()
  t.equal(spy.targets.at(-1)?.kind, 'tcp', 'the adopted game is probed')
})
