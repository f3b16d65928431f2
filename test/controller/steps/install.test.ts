// Step install (controller/steps/install.ts) through the STUB agent: only what differs is
// installed; a failure keeps the previous version, maps the agent's code to a RuntimeReady reason,
// and is retried only when the server's InstallBackoff (on a FakeClock) allows; a URL the
// provider's outbound policy refuses never reaches the agent.
import t from 'tap'
import { AgentClient } from '../../../src/agent-client/index.ts'
import type { ResolvedRuntime } from '../../../controller/catalog-resolve.ts'
import { ConditionSet } from '../../../controller/status-writer.ts'
import { installStep, type InstallInput } from '../../../controller/steps/install.ts'
import { runtime } from './stub-agent.ts'
import { sha, startWorld, type StepWorld } from './fixtures.ts'

const node22: ResolvedRuntime = { name: 'node', version: '22', url: 'http://127.0.0.1:9/node-22.tar.gz', sha256: sha('2') }
const allowed = { allowedSources: ['http://127.0.0.1:9/'] }

function input(w: StepWorld, conds: ConditionSet, announced: string[], overrides: Partial<InstallInput> = {}): InstallInput {
  return {
    backoff: w.deps.installBackoff,
    recorder: w.deps.recorder,
    obj: w.gameServer,
    key: 'default/squid',
    agent: new AgentClient({ baseUrl: w.agent.url, token: w.agent.token }),
    agentStatus: w.agent.state.status,
    resolved: [node22],
    conds,
    outbound: allowed,
    signal: new AbortController().signal,
    announce: async (what) => {
      announced.push(what)
    },
    ...overrides,
  }
}

t.test('installs what the agent lacks, announces it first, one Installed Event each; nothing when current', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('node', '20')]
  const conds = new ConditionSet(undefined, 1)
  const announced: string[] = []
  const r = await installStep(input(w, conds, announced))
  t.same(announced, ['installing node 22'])
  t.match(r, { failed: false, retryAfterMs: Infinity, agentStatus: { runtimes: [{ name: 'node', current: '22' }] } })
  t.match(w.agent.requests.find((q) => q.path === '/runtimes')?.body, {
    name: 'node',
    version: '22',
    sha256: sha('2'),
    activate: true,
    outbound: allowed,
  })
  t.match(w.events, [{ type: 'Normal', reason: 'Installed', message: 'installed node 22 (was 20)' }])

  const again = await installStep(input(w, conds, announced, { agentStatus: w.agent.state.status }))
  t.equal(w.agent.count('POST /runtimes'), 1, 'the current version is not installed again')
  t.equal(again.failed, false)
})

t.test('a failed install: the agent code becomes the reason, the previous version stays, retries wait for the backoff', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('node', '20')]
  w.agent.state.installFailures.node = 'ARTIFACT_SHA256_MISMATCH'
  const conds = new ConditionSet(undefined, 1)
  const r = await installStep(input(w, conds, []))
  t.match(r, { failed: true, retryAfterMs: 5100, agentStatus: { runtimes: [{ current: '20' }] } })
  t.match(conds.get('RuntimeReady'), { status: 'False', reason: 'ArtifactChecksumMismatch', message: /previous version stays current/ })
  t.match(w.events, [{ type: 'Warning', reason: 'ArtifactChecksumMismatch' }])

  const waiting = await installStep(input(w, conds, []))
  t.equal(w.agent.count('POST /runtimes'), 1, 'not tried again while backing off')
  t.match(waiting, { failed: true, retryAfterMs: 5100 })
  w.clock.advance(5000)
  await installStep(input(w, conds, []))
  t.equal(w.agent.count('POST /runtimes'), 2, 'tried again once the backoff passed')
})

t.test('an artifact URL the provider refuses is never sent to the agent (SourceNotAllowed)', async (t) => {
  const w = await startWorld(t)
  const conds = new ConditionSet(undefined, 1)
  const r = await installStep(input(w, conds, [], { outbound: { allowedSources: ['https://artifacts.example.invalid/'] } }))
  t.equal(r.failed, true)
  t.equal(w.agent.count('POST /runtimes'), 0)
  t.match(conds.get('RuntimeReady'), { reason: 'SourceNotAllowed', message: /node-22\.tar\.gz/ })
})
