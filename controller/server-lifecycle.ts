// What every server kind does alike around its reconcile (the kind-specific graceful stop is the
// ServerKind's stopWorkload): the entry (read the cache,
// forget the agent watch of a server that is gone, finalizer first) and the delete path (graceful
// stop through the agent, then the provider's delete; a provider gone for good is waited for
// `providerGoneGraceMs`, then the container is reported abandoned and the finalizer released). A
// cleanup run again from a stale cache after the object is gone ends quietly (debug), not as a failure.
import {
  finalizer,
  isNotFound,
  objectKey,
  patchStatus,
  type ReconcileContext,
  type Reconciler,
  type ReconcileResult,
  type Request,
  type Store,
} from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import { readAgentToken } from './agent-token.ts'
import { FIELD_MANAGER, SERVER_FINALIZER } from './kinds.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import type { ServerKind } from './server-kind.ts'
import type { ServerObject, ServerStatus } from './steps/server-object.ts'

/** What the delete path needs of a kind: its API kind and how its workload stops gracefully. */
type KindForCleanup<T> = Pick<ServerKind<T & ServerObject, ServerStatus, unknown>, 'kind' | 'stopWorkload'>

/** The reconciler of one server kind: `reconcile` runs for live objects, cleanup for deleted ones. */
export function serverReconciler<T extends ServerObject>(
  deps: ReconcilerDeps,
  store: Store<T>,
  watches: AgentWatches,
  kind: KindForCleanup<T>,
  reconcile: (obj: T, ctx: ReconcileContext) => Promise<ReconcileResult>,
): Reconciler {
  return async (req: Request, ctx: ReconcileContext) => {
    const cached = store.getByName(req.name, req.namespace)
    if (cached === undefined) {
      watches.stop(`${req.namespace}/${req.name}`)
      return
    }
    // The finalizer helper mutates what it is given; the cache's object stays untouched.
    const obj = structuredClone(cached)
    try {
      return await finalizer(
        deps.client,
        SERVER_FINALIZER,
        obj,
        async (ev) => (ev.type === 'apply' ? reconcile(ev.object, ctx) : cleanupServer(deps, watches, ev.object, ctx, kind)),
        ctx.signal,
      )
    } catch (err) {
      if (await alreadyDeleted(deps, kind, obj, err, ctx.signal)) {
        ctx.log.debug({ server: objectKey(obj) }, 'already deleted: an earlier cleanup released the finalizer; nothing left to do')
        watches.stop(objectKey(obj))
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
async function alreadyDeleted<T extends ServerObject>(
  deps: ReconcilerDeps,
  kind: KindForCleanup<T>,
  obj: T,
  err: unknown,
  signal: AbortSignal,
): Promise<boolean> {
  if (obj.metadata.deletionTimestamp === undefined || !isNotFound(err)) return false
  try {
    await deps.client.get(kind.kind, obj.metadata.name as string, obj.metadata.namespace, signal)
    return false
  } catch (getErr) {
    return isNotFound(getErr)
  }
}

/** Delete path: stop the workload through the agent, delete the container. */
async function cleanupServer<T extends ServerObject>(
  deps: ReconcilerDeps,
  watches: AgentWatches,
  obj: T,
  ctx: ReconcileContext,
  kind: KindForCleanup<T>,
): Promise<void> {
  const { signal } = ctx
  const key = objectKey(obj)
  const status = obj.status as ServerStatus | undefined
  if (status?.phase !== 'Terminating') {
    await patchStatus(
      deps.client,
      kind.kind,
      obj.metadata.name as string,
      obj.metadata.namespace,
      { phase: 'Terminating' },
      { signal, fieldManager: FIELD_MANAGER },
    ).catch(() => {})
  }
  const lookup = await deps.providers.forPlacement(obj.spec.placement, signal)
  if (!lookup.ok) {
    const now = deps.clock.now()
    const since = obj.metadata.deletionTimestamp === undefined ? now : Date.parse(obj.metadata.deletionTimestamp)
    if (lookup.gone && now - since >= deps.providerGoneGraceMs) {
      const msg = `${lookup.message}; container ${status?.vmid ?? '(vmid unknown)'} could not be deleted and may still exist on that backend: delete it there by hand`
      deps.recorder.event(obj, 'Warning', 'ContainerAbandoned', msg)
      ctx.log.error({ server: key, vmid: status?.vmid, reason: lookup.reason }, 'container abandoned: its provider is gone')
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
      try {
        await kind.stopWorkload({ baseUrl: container.agentUrl, token }, obj, signal)
      } catch (err) {
        ctx.log.warn({ server: key, err: (err as Error).message }, 'graceful stop before delete failed; deleting the container anyway')
      }
    }
    await lookup.backend.delete({ ownerUid: ref.ownerUid, vmid: container.vmid })
    deps.recorder.event(obj, 'Normal', 'ContainerDeleted', `container ${container.vmid} deleted from provider ${lookup.name}`)
  }
  watches.stop(key)
}
