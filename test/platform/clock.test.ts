// The one clock (src/platform/clock.ts): the fake fires in due order (ties in creation order), the
// real clocks differ only in whether a pending timer keeps the process alive.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { FakeClock, realClock, sleep } from '../../src/platform/clock.ts'
import * as runtime from '../../src/runtime/index.ts'

t.test('FakeClock: due order, ties in creation order, clearTimer', async (t) => {
  const clock = new FakeClock(1000)
  const fired: string[] = []
  clock.setTimer(() => fired.push('b'), 20)
  clock.setTimer(() => fired.push('a1'), 10)
  clock.setTimer(() => fired.push('a2'), 10)
  const dropped = clock.setTimer(() => fired.push('never'), 5)
  clock.clearTimer(dropped)
  t.equal(clock.nextDue(), 1010)
  clock.advance(15)
  t.same(fired, ['a1', 'a2'])
  t.equal(clock.now(), 1015)
  clock.advance(5)
  t.same(fired, ['a1', 'a2', 'b'])
  t.equal(clock.pendingTimers, 0)
  const slept = sleep(clock, 50)
  clock.advance(50)
  await slept
})

t.test('the framework re-exports the platform clock, not a copy', async (t) => {
  t.equal(runtime.FakeClock, FakeClock)
  t.equal(runtime.realClock, realClock)
})

t.test('a real clock keeps the process alive for its timer; the background clock does not', async (t) => {
  const module = JSON.stringify(new URL('../../src/platform/clock.ts', import.meta.url).href)
  const run = (clock: string) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { ${clock} } from ${module}; ${clock}.setTimer(() => { console.log('fired') }, 200)`],
      { encoding: 'utf8', timeout: 30_000 },
    )
  t.equal(run('realClock').stdout.trim(), 'fired', 'realClock waited for its timer')
  const background = run('realBackgroundClock')
  t.equal(background.status, 0)
  t.equal(background.stdout.trim(), '', 'realBackgroundClock let the process exit first')
})
