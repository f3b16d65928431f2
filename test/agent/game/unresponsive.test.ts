// A hung game (its process lives but answers nothing: SIGSTOP) is caught by the health probe,
// stopped through the whole escalation (stop command, SIGTERM, SIGKILL: only SIGKILL ends a stopped
// process that also ignores SIGTERM), recorded as an `unresponsive` crash and restarted through the
// crash backoff. Real processes (a minecraft-protocol game), the real minecraft probe, loopback only.
// (A tcp probe cannot see this hang: the kernel still completes the connection of a stopped listener.)
import t from 'tap'
import type { GameSpecRequest } from '../../../src/api/agent-game-types.ts'
import { FakeClock } from '../../../src/platform/clock.ts'
import type { ProbeAnswer } from '../../../src/platform/game-protocol/types.ts'
import { freePort, newSupervisor, waitForStatus } from './helpers.ts'

const hangGame = new URL('./fixtures/hang-game.cjs', import.meta.url).pathname
const mcGame = new URL('./fixtures/mc-game.mjs', import.meta.url).pathname

/** Moves the fake clock a second at a time until `p` settles (a stop's grace periods run on it). */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let settled = false
  void p.then(
    () => (settled = true),
    () => (settled = true),
  )
  for (let i = 0; i < 600 && !settled; i++) {
    await clock.settle()
    if (!settled) clock.advance(1_000)
  }
  return await p
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('a SIGSTOPped game is caught by its minecraft probe, killed, recorded unresponsive and restarted', async (t) => {
  const port = await freePort()
  const { sup } = newSupervisor(t)
  await sup.init()
  const spec: GameSpecRequest = {
    server: {
      command: [process.execPath, mcGame],
      port,
      gracePeriodSeconds: 1,
      env: [
        { name: 'IGNORE_SIGTERM', value: '1' },
        { name: 'IGNORE_STOP', value: '1' },
      ],
    },
    supervision: { restartPolicy: 'OnFailure', backoffSeconds: [1], maxConsecutiveFailures: 5 },
    game: 'minecraft',
    health: { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2, initialDelaySeconds: 60 },
    running: true,
  }
  await sup.applySpec(spec)
  const running = await waitForStatus(sup, (s) => s.state === 'Running' && s.health?.ok === true, 30_000, 'the first answer')
  t.equal(running.health?.probe, 'minecraft')
  t.equal(running.health?.consecutiveFailures, 0)
  const pid = running.pid!

  process.kill(pid, 'SIGSTOP')
  const crashed = await waitForStatus(sup, (s) => s.lastCrash !== null, 30_000, 'the unresponsive crash')
  t.equal(crashed.lastCrash?.classification, 'unresponsive')
  t.match(crashed.lastCrash?.evidence, /^health probe minecraft failed 2 times: /)
  t.equal(crashed.lastCrash?.signal, 'SIGKILL', 'the escalation reached SIGKILL: the game ignores its stop command and SIGTERM')
  t.equal(crashed.consecutiveFailures, 1)
  t.notOk(isAlive(pid), 'the hung process is gone')
  t.equal(crashed.health?.ok, false, 'the probe record of the hung run stays readable')

  const restarted = await waitForStatus(sup, (s) => s.state === 'Running' && s.pid !== null && s.pid !== pid, 20_000, 'the restart')
  t.equal(restarted.restarts, 1, 'restarted through the crash backoff')
  const answered = await waitForStatus(sup, (s) => s.state === 'Running' && s.health?.ok === true, 30_000, 'the new run answering')
  t.equal(answered.lastCrash?.classification, 'unresponsive', 'lastCrash kept')
  await sup.stop()
  t.equal(sup.status().state, 'Stopped')
})

t.test('probe timers only while a game runs: none for probe none, one loop per run, none after a stop (fake clock)', async (t) => {
  const port = await freePort()
  const clock = new FakeClock()
  let probes = 0
  const probe = async (): Promise<ProbeAnswer> => {
    probes++
    return { latencyMs: 1 }
  }
  const { sup } = newSupervisor(t, { clock, probe })
  await sup.init()
  const server = { command: [process.execPath, hangGame], port, gracePeriodSeconds: 1 }
  await sup.applySpec({ server, health: { probe: 'none' }, running: true })
  await waitForStatus(sup, (x) => x.state === 'Running', 20_000, 'Running')
  t.equal(clock.pendingTimers, 0, 'probe none: no timer at all')
  clock.advance(600_000)
  await clock.settle()
  t.equal(probes, 0)
  t.equal(sup.status().health, null)

  // A spec change with a probe applies at the next start.
  await sup.applySpec({ server, health: { probe: 'tcp', periodSeconds: 5 } })
  await drive(clock, sup.restart())
  t.equal(clock.pendingTimers, 1, 'one probe timer for the run')
  clock.advance(5_000)
  await clock.settle()
  t.equal(probes, 1)
  t.equal(sup.status().health?.ok, true)
  t.equal(clock.pendingTimers, 1, 'still one timer')
  await drive(clock, sup.stop()) // the stop command's grace (the game ignores it), then SIGTERM's
  t.equal(sup.status().state, 'Stopped')
  t.equal(clock.pendingTimers, 0, 'no probe timer once no game runs')
  clock.advance(60_000)
  await clock.settle()
  t.equal(probes, 1)
})
