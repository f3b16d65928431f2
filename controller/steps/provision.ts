// Step 3, provision: the container exists, runs, holds its agent token, and its agent answers
// GET /status with provisioning complete. The agent's URL is recorded in the agent token Secret
// (the gateway reaches agents by it).
//
// Outcomes: a provider error → `fail` when its catalog says it is not retryable (phase Error, a
// Warning Event) else `wait` (phase Provisioning, 5 s); no address yet, URL not recorded, agent not
// answering or still preparing → `wait` 500 ms with the container (its vmid/address are reported).
import { AgentClient, AgentClientError, AgentGameClient } from '../../src/agent-client/index.ts'
import type { AgentStatus } from '../../src/api/index.ts'
import { isProviderError, type Container } from '../../src/providers/index.ts'
import type { Client } from '../../src/runtime/index.ts'
import { recordAgentUrl } from '../agent-token.ts'
import { providerErrorReason, Reason } from '../condition-reasons.ts'
import type { ServerObject } from './server-object.ts'
import { failWith, proceed, waitFor, type StepOutcome } from './outcome.ts'
import type { ChosenProvider } from './resolve.ts'

/** Requeue while the agent comes up (it is usually a matter of a second). */
export const AGENT_WAIT_MS = 500
/** Requeue after a provider error it may recover from. */
export const PROVIDER_RETRY_MS = 5000
/** Requeue after a provider error that needs a change first. */
export const PROVIDER_FAILED_REQUEUE_MS = 60_000
/** GET /status must answer quickly: the agent is either up or not. */
const STATUS_TIMEOUT_MS = 3000

export interface Provisioned {
  container: Container
  agentUrl: string
  /** The agent's core routes (status, runtimes, code-server), bound to the reconcile's signal. */
  agent: AgentClient
  /** The agent's game and mods routes, bound to the same signal. */
  game: AgentGameClient
  agentStatus: AgentStatus
}

export interface ContainerDefaults {
  cores: number
  memoryMiB: number
  diskGiB: number
}

export async function provisionContainer(
  client: Client,
  provider: ChosenProvider,
  providerKind: 'GameServer' | 'DevServer',
  obj: ServerObject,
  defaults: ContainerDefaults,
  token: string,
  signal: AbortSignal,
): Promise<StepOutcome<Provisioned>> {
  const ownerUid = obj.metadata.uid as string
  const r = obj.spec.resources ?? {}
  let container: Container
  try {
    container = await provider.backend.ensure({
      identity: { ownerUid, kind: providerKind, namespace: obj.metadata.namespace as string, name: obj.metadata.name as string },
      resources: { cores: r.cores ?? defaults.cores, memoryMiB: r.memoryMiB ?? defaults.memoryMiB, diskGiB: r.diskGiB ?? defaults.diskGiB },
      agent: { token },
    })
    if (container.state !== 'running') container = await provider.backend.start({ ownerUid, vmid: container.vmid })
    await provider.backend.deliverCredentials({ ownerUid, vmid: container.vmid }, { token })
  } catch (err) {
    const known = isProviderError(err)
    const reason = known ? providerErrorReason(err.code) : Reason.ProviderFailed
    const message = known ? `${err.code}: ${err.message}` : (err as Error).message
    if (known && !err.retryable) {
      return failWith({
        condition: 'Provisioned',
        reason,
        message,
        phase: 'Error',
        requeueAfterMs: PROVIDER_FAILED_REQUEUE_MS,
        warning: { reason: 'ProvisioningFailed', message },
      })
    }
    return waitFor({ condition: 'Provisioned', reason, message, phase: 'Provisioning', requeueAfterMs: PROVIDER_RETRY_MS })
  }
  const agentWait = (reason: string, message: string): StepOutcome<Provisioned> =>
    waitFor({ condition: 'Provisioned', reason, message, phase: 'Provisioning', requeueAfterMs: AGENT_WAIT_MS, container })
  const agentUrl = container.agentUrl
  if (agentUrl === undefined)
    return agentWait(Reason.AddressUnknown, `container ${container.vmid} has no address yet; waiting for the provider to report one`)
  try {
    await recordAgentUrl(client, obj, agentUrl, signal)
  } catch (err) {
    return agentWait(Reason.AgentUrlNotRecorded, `could not record the agent URL in the agent token Secret: ${(err as Error).message}`)
  }
  const connection = { baseUrl: agentUrl, token, timeoutMs: 15_000, signal }
  const agent = new AgentClient(connection)
  try {
    const agentStatus = await agent.status({ signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) })
    if (!agentStatus.provisioningComplete) {
      return agentWait(
        Reason.AgentProvisioning,
        `the agent in container ${container.vmid} is still preparing the container (dev user, workspace)`,
      )
    }
    return proceed({ container, agentUrl, agent, game: new AgentGameClient(connection), agentStatus })
  } catch (err) {
    const why = err instanceof AgentClientError ? `${err.code}: ${err.message}` : (err as Error).message
    return agentWait(Reason.AgentNotReady, `waiting for the agent in container ${container.vmid} at ${agentUrl} (${why})`)
  }
}
