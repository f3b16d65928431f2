// Agent state streams (controller/agent-watch.ts) against the STUB agent's GET /events: each
// event asks for a reconcile of its server; install progress is throttled to one per 200 ms on the
// injected clock (a FakeClock here); one stream per server; a changed token replaces it; stop ends it.
import t from 'tap'
import pino from 'pino'
import { FakeClock } from '../../src/runtime/index.ts'
import { AgentWatches } from '../../controller/agent-watch.ts'
import { startStubAgent } from './steps/stub-agent.ts'

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!cond()) throw new Error(`timed out waiting for ${what}`)
}

t.test('events wake the server, runtime progress at most every 200 ms on the clock, one stream per server', async (t) => {
  const agent = await startStubAgent(t)
  const clock = new FakeClock()
  const woken: string[] = []
  const watches = new AgentWatches((key) => woken.push(key), pino({ level: 'silent' }), clock)
  t.teardown(() => watches.stopAll())

  watches.ensure('default/squid', agent.url, agent.token)
  await until(() => woken.length === 1, 'the snapshot')
  t.same(woken, ['default/squid'], 'the snapshot after connecting wakes the server')

  // One write: both are handled before the poll below looks, so the count is exact.
  agent.pushStates({ component: 'runtimes', state: { installing: 1 } }, { component: 'game', state: { state: 'Crashed' } })
  await until(() => woken.length >= 2, 'the game event')
  t.equal(woken.length, 2, 'install progress within 200 ms (clock not moved) was dropped; the game change was not')
  clock.advance(200)
  agent.pushStates({ component: 'runtimes', state: { installing: 1 } }, { component: 'runtimes', state: { installing: 1 } })
  await until(() => woken.length >= 3, 'progress after 200 ms')
  t.equal(woken.length, 3, 'once 200 ms passed on the clock, one progress event wakes the server (the next one is throttled again)')

  watches.ensure('default/squid', agent.url, agent.token)
  t.equal(agent.streams(), 1, 'the same URL and token keep the one stream')
  watches.ensure('default/squid', agent.url, 'e'.repeat(64))
  await until(() => agent.count('GET /events') === 2, 'the replacement stream')
  watches.stop('default/squid')
  await until(() => agent.streams() === 0, 'the stream to close')
  t.equal(agent.streams(), 0, 'stop ends the stream')
})
