// A server whose spec.running is false and whose kind parks its container: the workload is
// stopped gracefully through the agent, then the container is stopped (not deleted: the workspace
// stays). A provider that cannot be found leaves nothing to stop; status says Stopped either way.
import { readAgentToken } from '../agent-token.ts'
import { Reason } from '../condition-reasons.ts'
import type { ServerKind } from '../server-kind.ts'
import type { ServerScope } from './scope.ts'
import type { ServerObject, ServerStatus } from './server-object.ts'

/** A parked server is looked at again after this long (spec changes wake it sooner). */
export const PARKED_REQUEUE_MS = 60_000

export async function parkContainer<T extends ServerObject, S extends ServerStatus>(
  scope: ServerScope<T, S>,
  kind: ServerKind<T, S, unknown>,
  stopWatch: () => void,
): Promise<{ requeueAfter: number }> {
  const { deps, obj, signal, out } = scope
  const lookup = await deps.providers.forPlacement(obj.spec.placement, signal)
  if (lookup.ok) {
    const container = await lookup.backend.observe({ ownerUid: obj.metadata.uid as string })
    if (container?.state === 'running') {
      out.status.phase = 'Stopping'
      await out.write()
      const token = await readAgentToken(deps.client, obj, signal)
      if (container.agentUrl && token) await kind.stopWorkload({ baseUrl: container.agentUrl, token }, obj, signal).catch(() => {})
      await lookup.backend.stop({ ownerUid: obj.metadata.uid as string, vmid: container.vmid })
      deps.recorder.event(obj, 'Normal', 'Stopped', `container ${container.vmid} stopped (spec.running is false)`)
    }
  }
  stopWatch()
  out.status.phase = 'Stopped'
  out.conds.set('Ready', 'False', Reason.Stopped, 'spec.running is false')
  kind.parkedConditions?.(obj, out.conds)
  await out.write()
  return { requeueAfter: PARKED_REQUEUE_MS }
}
