import t from 'tap'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, rmSync } from 'node:fs'
import { oomCounterFile } from '../../../agent/game/cgroup-oom.ts'
import path from 'node:path'
import { FakeClock } from '../../../src/platform/clock.ts'
import { processStartTime } from '../../../src/platform/process-identity.ts'
import { killGame, newSupervisor, shSpec, until, waitForStatus } from './helpers.ts'
import { GameSupervisor } from '../../../agent/game/supervisor.ts'

const crashedWithRestart = (s: { state: string; nextRestartTime: string | null }): boolean =>
  s.state === 'Crashed' && s.nextRestartTime !== null

t.test('a program that exits at once: backoff 30/60/120/120 on the fake clock, then Error', async (t) => {
  const clock = new FakeClock()
  const { sup } = newSupervisor(t, { clock })
  await sup.init()
  await sup.applySpec(shSpec('echo "boom on $SERVER_PORT"; exit 3', { port: 25599 }, { maxConsecutiveFailures: 5 }))
  t.equal(sup.status().state, 'Stopped', 'a spec alone does not start the server')
  await sup.start()
  const delays: number[] = []
  for (let i = 0; i < 4; i++) {
    const s = await waitForStatus(sup, crashedWithRestart, 15_000, `crash ${i + 1}`)
    delays.push((Date.parse(s.nextRestartTime!) - clock.now()) / 1000)
    t.equal(s.consecutiveFailures, i + 1)
    if (i === 0) {
      t.equal(s.lastCrash?.exitCode, 3)
      t.equal(s.lastCrash?.signal, null)
      t.equal(s.lastCrash?.classification, 'nonzero_exit')
      t.same(s.lastCrash?.logTail, ['boom on 25599'], "the crash carries this run's output, SERVER_PORT included")
    }
    clock.advance(Date.parse(s.nextRestartTime!) - clock.now() - 1)
    t.equal(sup.status().state, 'Crashed', 'no restart before the backoff is over')
    clock.advance(1)
    await waitForStatus(sup, (x) => x.state !== 'Crashed', 15_000, 'restart')
  }
  t.same(delays, [30, 60, 120, 120], 'backoff steps from the spec, the last one repeating')
  const err = await waitForStatus(sup, (s) => s.state === 'Error', 15_000, 'Error')
  t.equal(err.consecutiveFailures, 5)
  t.equal(err.nextRestartTime, null)
  t.match(err.message, /5 times in a row/)
  t.equal(err.restarts, 4)
  clock.advance(3_600_000)
  t.equal(sup.status().state, 'Error', 'no more restarts in Error')

  // A changed spec leaves Error; so does an explicit start.
  await sup.applySpec(shSpec('exit 4', {}, { maxConsecutiveFailures: 1 }))
  t.equal(sup.status().state, 'Stopped', 'a spec change clears Error')
  await sup.start()
  await waitForStatus(sup, (s) => s.state === 'Error', 15_000, 'Error after one failure')
  await sup.start()
  t.not(sup.status().state, 'Error', 'an explicit start leaves Error')
  await waitForStatus(sup, (s) => s.state === 'Error')
})

t.test('a run of at least resetAfterSeconds resets the backoff to its first step', async (t) => {
  const clock = new FakeClock()
  const { sup, dir } = newSupervisor(t, { clock })
  const gate = path.join(dir, 'gate')
  writeFileSync(gate, '')
  await sup.init()
  // Exits at once while the gate file exists, otherwise waits for it to appear.
  await sup.applySpec(
    shSpec(`while [ ! -f ${gate} ]; do sleep 0.02; done; exit 1`, {}, { resetAfterSeconds: 30, maxConsecutiveFailures: 10 }),
  )
  await sup.start()
  let s = await waitForStatus(sup, crashedWithRestart)
  t.equal(Date.parse(s.nextRestartTime!) - clock.now(), 30_000)
  clock.advance(30_000)
  s = await waitForStatus(sup, (x) => crashedWithRestart(x) && x.consecutiveFailures === 2)
  t.equal(Date.parse(s.nextRestartTime!) - clock.now(), 60_000, 'second crash: 60 s')
  rmSync(gate)
  clock.advance(60_000)
  await waitForStatus(sup, (x) => x.state === 'Running')
  clock.advance(31_000) // the run lasts 31 s on the supervisor's clock
  writeFileSync(gate, '')
  s = await waitForStatus(sup, (x) => crashedWithRestart(x) && x.lastCrash?.uptimeSeconds === 31)
  t.equal(s.consecutiveFailures, 1, 'the long run reset the failure count')
  t.equal(Date.parse(s.nextRestartTime!) - clock.now(), 30_000, 'and the backoff is back to its first step')
})

t.test('restart policies: OnFailure leaves a clean exit stopped, Never leaves a failure crashed', async (t) => {
  const clock = new FakeClock()
  const { sup } = newSupervisor(t, { clock })
  await sup.init()
  await sup.applySpec({ ...shSpec('exit 0', {}, { restartPolicy: 'OnFailure' }), running: true })
  let s = await waitForStatus(sup, (x) => x.lastCrash !== null && x.state === 'Stopped')
  t.equal(s.lastCrash?.classification, 'unexpected_exit')
  t.equal(s.nextRestartTime, null)
  await sup.applySpec({ ...shSpec('exit 1', {}, { restartPolicy: 'OnFailure' }), running: true })
  s = await waitForStatus(sup, crashedWithRestart)
  t.pass('OnFailure restarts a failure')
  await sup.applySpec({
    ...shSpec('echo "Error: Unable to access jarfile server.jar"; exit 1', {}, { restartPolicy: 'Never' }),
    running: false,
  })
  await sup.start()
  s = await waitForStatus(sup, (x) => x.state === 'Crashed' && x.lastCrash?.classification === 'missing_dependency')
  t.equal(s.nextRestartTime, null, 'Never: crashed, no restart scheduled')
  clock.advance(600_000)
  t.equal(sup.status().state, 'Crashed')
})

t.test('a command that does not exist is a missing_dependency crash', async (t) => {
  const { sup } = newSupervisor(t, { clock: new FakeClock() })
  await sup.init()
  await sup.applySpec({ server: { command: ['no-such-game-binary-zlh'] }, supervision: { restartPolicy: 'Never' } })
  await sup.start()
  const s = await waitForStatus(sup, (x) => x.state === 'Crashed')
  t.equal(s.lastCrash?.classification, 'missing_dependency')
  t.match(s.lastCrash?.evidence, /ENOENT/)
})

t.test('graceful stop: the stop command ends a well-behaved server', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec(
    shSpec('echo ready; while read line; do [ "$line" = "quit-now" ] && { echo bye; exit 0; }; done', {
      stopCommand: 'quit-now',
      gracePeriodSeconds: 20,
    }),
  )
  await sup.start()
  await until(() => sup.ring.tail().includes('ready'), 15_000, 'ready line')
  const s = await sup.stop()
  t.equal(s.state, 'Stopped')
  t.equal(s.lastStop?.endedBy, 'stopCommand')
  t.equal(s.lastCrash, null, 'a requested stop is no crash')
})

t.test('graceful stop: SIGTERM after the grace period, and the whole process group goes', async (t) => {
  const { sup, dir } = newSupervisor(t)
  const childPidFile = path.join(dir, 'child.pid')
  await sup.init()
  await sup.applySpec(shSpec(`sleep 300 & echo $! > ${childPidFile}; echo up; wait`, { gracePeriodSeconds: 1 }))
  await sup.start()
  await until(() => existsSync(childPidFile) && readFileSync(childPidFile, 'utf8').trim() !== '', 15_000, 'grandchild pid')
  const grandchild = Number(readFileSync(childPidFile, 'utf8'))
  t.ok(processStartTime(grandchild), 'the grandchild runs')
  const s = await sup.stop()
  t.equal(s.lastStop?.endedBy, 'SIGTERM')
  await until(() => processStartTime(grandchild) === null, 5_000, 'grandchild gone')
  t.pass('SIGTERM reached the whole process group')
})

t.test('graceful stop: a server ignoring the stop command and SIGTERM ends by SIGKILL', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec(shSpec('trap "" TERM; echo stubborn; while true; do sleep 0.1; done', { gracePeriodSeconds: 1 }))
  await sup.start()
  await until(() => sup.ring.tail().includes('stubborn'), 15_000, 'started')
  const before = Date.now()
  const s = await sup.stop()
  t.equal(s.lastStop?.endedBy, 'SIGKILL')
  t.ok(Date.now() - before >= 1900, 'it waited the grace period twice (stop command, then SIGTERM)')
  t.equal(s.state, 'Stopped')
  t.equal(s.pid, null)
})

t.test('spec env and the console input reach the process; a spec change while running is pending', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec({
    ...shSpec('echo "x=$X port=$SERVER_PORT"; while read l; do echo "got $l"; done', {
      env: [{ name: 'X', value: 'forty two' }],
      port: 4242,
    }),
    running: true,
  })
  await until(() => sup.ring.tail().includes('x=forty two port=4242'), 15_000, 'env line')
  await until(() => sup.writeInput('hello\n'), 5_000, 'console link')
  await until(() => sup.ring.tail().includes('got hello'), 5_000, 'echoed input')
  const s = await sup.applySpec(shSpec('exit 0', { port: 4343 }))
  t.equal(s.restartPending, true, 'a changed spec waits for the next restart')
  t.equal(s.state, 'Running')
  await sup.stop()
})

t.test('a real kernel OOM kill under the supervisor is classified from the cgroup counter', async (t) => {
  const own = oomCounterFile('self')
  if (!own) return t.skip('no readable memory cgroup on this machine', () => {})
  const v2 = own.endsWith('memory.events')
  const cg = path.join(path.dirname(own), `zlh-sup-oom-${process.pid}`)
  try {
    mkdirSync(cg)
    writeFileSync(path.join(cg, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(256 * 1024 * 1024))
  } catch (err) {
    return t.skip(`cannot create a child memory cgroup here (${(err as Error).message})`, () => {})
  }
  const { sup } = newSupervisor(t, { cgroupDir: cg })
  // Registered after the supervisor's teardown, so it runs once the wrapper has left the cgroup.
  t.teardown(async () => {
    await until(
      () => {
        try {
          rmdirSync(cg)
          return true
        } catch {
          return false
        }
      },
      10_000,
      'cgroup removal',
    )
  })
  await sup.init()
  await sup.applySpec(
    shSpec(
      `echo 1000 > /proc/self/oom_score_adj; echo allocating; exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(8<<20,1))"`,
      {},
      { restartPolicy: 'Never' },
    ),
  )
  await sup.start()
  const s = await waitForStatus(sup, (x) => x.state === 'Crashed', 30_000, 'the OOM kill')
  t.equal(s.lastCrash?.signal, 'SIGKILL')
  t.equal(s.lastCrash?.classification, 'oom', `classified oom (${s.lastCrash?.evidence})`)
  t.match(s.lastCrash?.evidence, /oom_kill/)
})

t.test('the stop command typed on the console is a requested stop, not a crash', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec({
    ...shSpec('echo ready; while read l; do [ "$l" = "stop" ] && exit 0; done', { gracePeriodSeconds: 5 }),
    running: true,
  })
  await until(() => sup.ring.tail().includes('ready'), 15_000, 'ready')
  t.ok(sup.writeInput('stop\n'))
  const s = await waitForStatus(sup, (x) => x.state === 'Stopped', 15_000, 'Stopped')
  t.equal(s.lastCrash, null, 'no crash recorded')
  t.equal(s.lastStop?.endedBy, 'stopCommand')
  t.equal(s.nextRestartTime, null, 'no restart scheduled')
})

t.test('a pending backoff and the Error state survive an agent restart', async (t) => {
  const clock = new FakeClock()
  const { sup, opts } = newSupervisor(t, { clock })
  await sup.init()
  await sup.applySpec({ ...shSpec('exit 1', {}, { maxConsecutiveFailures: 2 }), running: true })
  const crashed = await waitForStatus(sup, crashedWithRestart)
  sup.detach()
  const next = new GameSupervisor(opts)
  t.teardown(() => killGame(next))
  await next.init()
  t.equal(next.status().state, 'Crashed')
  t.equal(next.status().nextRestartTime, crashed.nextRestartTime, 'the same restart time')
  clock.advance(30_000)
  const err = await waitForStatus(next, (s) => s.state === 'Error', 15_000, 'Error after the second failure')
  next.detach()
  const third = new GameSupervisor(opts)
  await third.init()
  t.equal(third.status().state, 'Error', 'Error is kept across restarts')
  t.equal(third.status().message, err.message)
})
