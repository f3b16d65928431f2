// The reconcile of a live server, as a sequence of steps (controller/steps/), for any kind given
// as a ServerKind. Level-based: every step reads the world; nothing is carried between reconciles.
//
// Expected flow:
//  0. asleep (steps/sleep.ts): a server whose container sleeps (status.sleep level container) stays
//     asleep — nothing provisioned — until a wake request, spec.idle removed or spec.running false;
//  1. resolve: runtime references → catalog versions (RuntimeResolved); an unresolvable server gets
//     no container. spec.running false on a kind that parks its container: stop it, done (park.ts);
//  2. resolve the provider (Provisioned=False when none fits);
//  3. credentials: the agent token Secret (the provider bakes the token into the container);
//  4. provision: container ensured, running, credentials delivered, agent answering (Provisioned);
//     the agent's state stream is subscribed (agent-watch.ts) so agent changes wake this reconcile;
//  5. install: runtimes the agent lacks (RuntimeReady); never stops the sequence;
//  6. run and observe: the kind's workload (game, code-server) and its status (phase, Ready);
//  7. sleep (steps/sleep.ts): idle past spec.idle.stopAfterSeconds → workload and container stopped.
// A step that halts sets its condition and Ready False, the phase, and the requeue (steps/outcome.ts).
import { objectKey, type ReconcileContext } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import { Reason } from './condition-reasons.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import type { ServerKind } from './server-kind.ts'
import type { ServerScope } from './steps/scope.ts'
import type { ServerObject, ServerStatus } from './steps/server-object.ts'
import { statusWriter } from './status-writer.ts'
import { ensureCredentials } from './steps/credentials.ts'
import { describeInstalled, installStep, observedRuntimes, runtimesToInstall } from './steps/install.ts'
import type { Halt } from './steps/outcome.ts'
import { parkContainer } from './steps/park.ts'
import { provisionContainer } from './steps/provision.ts'
import { describeResolved, resolveProvider, resolveRuntimes } from './steps/resolve.ts'
import { containerAsleep, sleepWhenIdle } from './steps/sleep.ts'

export async function driveServer<T extends ServerObject, S extends ServerStatus, Ran>(
  deps: ReconcilerDeps,
  watches: AgentWatches,
  obj: T,
  ctx: ReconcileContext,
  kind: ServerKind<T, S, Ran>,
): Promise<{ requeueAfter: number }> {
  const { signal } = ctx
  const key = objectKey(obj)
  const scope: ServerScope<T, S> = {
    deps,
    obj,
    key,
    signal,
    out: statusWriter<S>(deps.client, kind.kind, obj as T & { status?: S }, signal, deps.clock),
  }
  const { status, conds } = scope.out
  const halt = (h: Halt): Promise<{ requeueAfter: number }> => reportHalt(scope, kind, h)

  const asleep = await containerAsleep(scope, kind, () => watches.stop(key))
  if (asleep !== undefined) return asleep

  const refs = kind.runtimeRefs(obj)
  const resolution = resolveRuntimes(refs, deps.catalogs, scope.out.prev, obj.metadata.annotations)
  if (resolution.next !== 'continue') return halt(kind.explainUnresolved?.(scope, refs, resolution.halt) ?? resolution.halt)
  const resolved = resolution.value
  conds.set('RuntimeResolved', 'True', Reason.Resolved, describeResolved(resolved))
  if (obj.spec.running === false && kind.parkContainerWhenNotRunning) return parkContainer(scope, kind, () => watches.stop(key))

  const provider = await resolveProvider(deps.providers, obj.spec.placement, signal)
  if (provider.next !== 'continue') return halt(provider.halt)
  const credentials = await ensureCredentials(deps.client, obj, signal)
  if (credentials.next !== 'continue') return halt(credentials.halt)
  const { token } = credentials.value
  const provisioned = await provisionContainer(deps.client, provider.value, kind.providerKind, obj, kind.defaults, token, signal)
  if (provisioned.next !== 'continue') return halt(provisioned.halt)
  const p = provisioned.value
  status.vmid = p.container.vmid
  status.address = p.container.address
  Object.assign(status, kind.containerStatus(p.container, p.agentStatus, scope.out.prev, deps))
  conds.set(
    'Provisioned',
    'True',
    Reason.ContainerRunning,
    `container ${p.container.vmid} on provider ${provider.value.name}; agent answering`,
  )
  watches.ensure(key, p.agentUrl, token)

  const install = await installStep({
    backoff: deps.installBackoff,
    recorder: deps.recorder,
    obj,
    key,
    agent: p.agent,
    agentStatus: p.agentStatus,
    resolved,
    conds,
    outbound: provider.value.outbound,
    signal,
    announce: async (what) => {
      if (await kind.showsInstalling(p)) status.phase = 'Installing'
      conds.set('Ready', 'False', Reason.Installing, what)
      await scope.out.write()
    },
  })
  const agentStatus = install.agentStatus
  status.runtimes = observedRuntimes(agentStatus, kind.reportedRuntimeRefs(obj), resolved)
  const installedAll = runtimesToInstall(agentStatus, resolved).length === 0
  if (installedAll) conds.set('RuntimeReady', 'True', Reason.Installed, describeInstalled(resolved))

  const installed = { ...scope, resolved, provider: provider.value, provisioned: p, install, agentStatus, installedAll }
  const ran = await kind.run(installed)
  const lookAgainMs = await kind.observe(installed, ran)
  const idleDeadlineMs = await sleepWhenIdle(installed, kind, ran, () => watches.stop(key))
  await scope.out.write()
  return { requeueAfter: Math.min(lookAgainMs, install.retryAfterMs, idleDeadlineMs) }
}

/** A halted step's report: its condition and Ready False, the phase, an Event if it deserves one. */
async function reportHalt<T extends ServerObject, S extends ServerStatus>(
  scope: ServerScope<T, S>,
  kind: ServerKind<T, S, unknown>,
  h: Halt,
): Promise<{ requeueAfter: number }> {
  const { status, conds, prev } = scope.out
  if (h.container !== undefined) {
    status.vmid = h.container.vmid
    status.address = h.container.address
    Object.assign(status, kind.containerStatus(h.container, undefined, prev, scope.deps))
  }
  for (const type of h.alsoFalse ?? []) conds.set(type, 'False', h.reason, h.message)
  conds.set(h.condition, 'False', h.reason, h.message)
  conds.set('Ready', 'False', h.readyReason ?? h.reason, h.message)
  if (h.phase !== 'PendingUntilCreated') status.phase = h.phase
  else if (status.vmid === undefined) status.phase = 'Pending'
  if (h.warning !== undefined) scope.deps.recorder.event(scope.obj, 'Warning', h.warning.reason, h.warning.message)
  await scope.out.write()
  return { requeueAfter: h.requeueAfterMs }
}
