// Step provision (controller/steps/provision.ts): container ensured and started through the
// provider (a STUB backend), credentials delivered, the agent URL recorded in the agent token
// Secret (embedded API server), the STUB agent answering with provisioning complete.
import t from 'tap'
import { AGENT_URL_KEY, agentTokenSecretName } from '../../../src/api/index.ts'
import { ProviderError } from '../../../src/providers/index.ts'
import { SECRET } from '../../../controller/kinds.ts'
import { ensureCredentials } from '../../../controller/steps/credentials.ts'
import { provisionContainer } from '../../../controller/steps/provision.ts'
import type { ChosenProvider } from '../../../controller/steps/resolve.ts'
import { startWorld, type StepWorld } from './fixtures.ts'

const DEFAULTS = { cores: 1, memoryMiB: 512, diskGiB: 1 }
const signal = new AbortController().signal

async function provision(w: StepWorld) {
  const creds = await ensureCredentials(w.env.client, w.gameServer, signal)
  if (creds.next !== 'continue') throw new Error('no token')
  // The stub agent checks the token it was started with; the container is handed that one.
  const provider: ChosenProvider = { name: 'stub', backend: w.backend, outbound: { allowedSources: [] } }
  return provisionContainer(w.env.client, provider, 'GameServer', w.gameServer, DEFAULTS, w.agent.token, signal)
}

t.test('container up, agent answering: continue with the container and a client bound to its agent', async (t) => {
  const w = await startWorld(t)
  const p = await provision(w)
  t.equal(p.next, 'continue')
  if (p.next !== 'continue') return
  t.same(w.backend.calls, ['ensure', 'start', 'deliverCredentials'], 'ensured, started (it was stopped), credentials delivered')
  t.equal(p.value.agentUrl, w.agent.url)
  t.equal(p.value.agentStatus.agentVersion, 'stub')
  const secret = await w.env.client.get<{ data: Record<string, string> }>(SECRET, agentTokenSecretName('squid'), 'default')
  t.equal(Buffer.from(secret.data[AGENT_URL_KEY]!, 'base64').toString(), w.agent.url, 'the gateway finds the agent by the Secret')
  t.equal(w.agent.requests.at(-1)?.path, '/status')
})

t.test(
  'an agent still preparing the container, or one without an address: wait 500 ms, phase Provisioning, with the container',
  async (t) => {
    const w = await startWorld(t)
    w.agent.state.status.provisioningComplete = false
    t.match(await provision(w), {
      next: 'wait',
      halt: { condition: 'Provisioned', reason: 'AgentProvisioning', phase: 'Provisioning', requeueAfterMs: 500, container: { vmid: 100 } },
    })

    const w2 = await startWorld(t)
    w2.backend.next = { container: { agentUrl: undefined } }
    t.match(await provision(w2), { next: 'wait', halt: { reason: 'AddressUnknown', message: /has no address yet/ } })
  },
)

t.test('an agent refusing the token is not ready: wait, reason AgentNotReady, saying why', async (t) => {
  const w = await startWorld(t)
  const provider: ChosenProvider = { name: 'stub', backend: w.backend, outbound: { allowedSources: [] } }
  const p = await provisionContainer(w.env.client, provider, 'GameServer', w.gameServer, DEFAULTS, 'e'.repeat(64), signal)
  t.match(p, { next: 'wait', halt: { reason: 'AgentNotReady', message: /UNAUTHORIZED/ } })
})

t.test('provider errors: retryable → wait 5 s (Provisioning); not retryable → fail (Error) with a Warning Event', async (t) => {
  const w = await startWorld(t)
  w.backend.next = { error: new ProviderError('Timeout', 'the backend took too long') }
  t.match(await provision(w), { next: 'wait', halt: { reason: 'ProviderTimeout', phase: 'Provisioning', requeueAfterMs: 5000 } })
  w.backend.next = { error: new ProviderError('Conflict', 'vmid 100 belongs to someone else') }
  t.match(await provision(w), {
    next: 'fail',
    halt: {
      reason: 'ProviderConflict',
      phase: 'Error',
      requeueAfterMs: 60_000,
      warning: { reason: 'ProvisioningFailed', message: /Conflict: vmid 100/ },
    },
  })
  w.backend.next = { error: new Error('surprise') }
  t.match(await provision(w), { next: 'wait', halt: { reason: 'ProviderFailed', message: 'surprise' } })
})
