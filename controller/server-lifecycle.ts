// What GameServer and DevServer do alike around their own reconcile: the entry (read the cache,
// forget the agent watch of a server that is gone, finalizer first) and the delete path (graceful
// stop through the agent, then the provider's delete; a provider gone for good is waited for
// `providerGoneGraceMs`, then the container is reported abandoned and the finalizer released). A
// cleanup run again from a stale cache after the object is gone ends quietly (debug), not as a failure.
import { AgentClient } from '../src/agent-client/index.ts'
import { finalizer, isNotFound, patchStatus, type ReconcileContext, type Reconciler, type ReconcileResult, type Request, type Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import { readAgentToken } from './agent-token.ts'
import { keyOf, type ReconcilerDeps } from './deps.ts'
import { DEVSERVER, FIELD_MANAGER, GAMESERVER, SERVER_FINALIZER, type DevServer, type GameServer } from './kinds.ts'

type Workload = 'game' | 'dev'

/** The reconciler of one server kind: `reconcile` runs for live objects, cleanup for deleted ones. */
export function serverReconciler<T extends GameServer | DevServer>(
  deps: ReconcilerDeps, store: Store<T>, watches: AgentWatches, workload: Workload,
  reconcile: (deps: ReconcilerDeps, watches: AgentWatches, obj: T, ctx: ReconcileContext) => Promise<ReconcileResult>,
): Reconciler {
  return async (req: Request, ctx: ReconcileContext) => {
    const cached = store.getByName(req.name, req.namespace)
    if (cached === undefined) { watches.stop(`${req.namespace}/${req.name}`); return }
    // The finalizer helper mutates what it is given; the cache's object stays untouched.
    const obj = structuredClone(cached)
    try {
      return await finalizer(deps.client, SERVER_FINALIZER, obj, async (ev) => ev.type === 'apply'
        ? reconcile(deps, watches, ev.object, ctx)
        : cleanupServer(deps, watches, ev.object, ctx, workload), ctx.signal)
    } catch (err) {
      if (await alreadyDeleted(deps, workload, obj, err, ctx.signal)) {
        ctx.log.debug({ server: keyOf(obj) }, 'already deleted: an earlier cleanup released the finalizer; nothing left to do')
        watches.stop(keyOf(obj))
        return
      }
      throw err
    }
  }
}

/**
 * Whether `err` only says the deleted server is gone: a cleanup that ran from a cache that had not
 * seen the deletion yet (the finalizer was released a moment ago) meets a 404 when it releases it
 * again. Expected, not a failure — but only when the server confirms the object is gone.
 */
async function alreadyDeleted(deps: ReconcilerDeps, workload: Workload, obj: GameServer | DevServer, err: unknown, signal: AbortSignal): Promise<boolean> {
  if (obj.metadata.deletionTimestamp === undefined || !isNotFound(err)) return false
  try {
    await deps.client.get(workload === 'dev' ? DEVSERVER : GAMESERVER, obj.metadata.name as string, obj.metadata.namespace, signal)
    return false
  } catch (getErr) {
    return isNotFound(getErr)
  }
}

/** Delete path: stop the workload through the agent, delete the container. */
async function cleanupServer(deps: ReconcilerDeps, watches: AgentWatches, obj: GameServer | DevServer, ctx: ReconcileContext, workload: Workload): Promise<void> {
  const { signal } = ctx
  const key = keyOf(obj)
  const kind = workload === 'dev' ? DEVSERVER : GAMESERVER
  if (obj.status?.phase !== 'Terminating') {
    await patchStatus(deps.client, kind, obj.metadata.name as string, obj.metadata.namespace, { phase: 'Terminating' }, { signal, fieldManager: FIELD_MANAGER }).catch(() => {})
  }
  const lookup = await deps.providers.forPlacement(obj.spec.placement, signal)
  if (!lookup.ok) {
    const since = Date.parse(obj.metadata.deletionTimestamp ?? new Date().toISOString())
    if (lookup.gone && Date.now() - since >= deps.providerGoneGraceMs) {
      const msg = `${lookup.message}; container ${obj.status?.vmid ?? '(vmid unknown)'} could not be deleted and may still exist on that backend: delete it there by hand`
      deps.recorder.event(obj, 'Warning', 'ContainerAbandoned', msg)
      ctx.log.error({ server: key, vmid: obj.status?.vmid, reason: lookup.reason }, 'container abandoned: its provider is gone')
      watches.stop(key)
      return
    }
    throw new Error(`cannot delete the container yet: ${lookup.message}`)
  }
  const ref = { ownerUid: obj.metadata.uid as string }
  const container = await lookup.backend.observe(ref)
  if (container !== undefined) {
    const token = await readAgentToken(deps.client, obj, signal)
    if (container.state === 'running' && container.agentUrl && token) {
      const agent = new AgentClient({ baseUrl: container.agentUrl, token })
      try {
        if (workload === 'game') {
          const grace = (obj as GameServer).spec.server?.gracePeriodSeconds ?? 30
          await agent.request('POST', '/game/stop', undefined, { signal, timeoutMs: (grace * 2 + 30) * 1000 })
        } else {
          await agent.stopCodeServer()
        }
      } catch (err) {
        ctx.log.warn({ server: key, err: (err as Error).message }, 'graceful stop before delete failed; deleting the container anyway')
      }
    }
    await lookup.backend.delete({ ownerUid: ref.ownerUid, vmid: container.vmid })
    deps.recorder.event(obj, 'Normal', 'ContainerDeleted', `container ${container.vmid} deleted from provider ${lookup.name}`)
  }
  watches.stop(key)
}
