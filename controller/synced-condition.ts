// The `Synced` condition: whether the controller's own writes for an object are accepted by the
// API server. False (reason `Forbidden` or `AdmissionRefused`, the Warning Event's message) while
// RBAC or an admission plugin/policy refuses a write the reconcile needs; True (reason
// `ReconcileSuccess`) once a reconcile runs cleanly again. The type and reasons follow Crossplane's
// `Synced`/`ReconcileError`/`ReconcileSuccess` convention; the condition is kept at True rather than
// removed, so `kubectl wait --for=condition=Synced` works and lastTransitionTime says when the
// refusal ended (API conventions: a condition's absence says nothing, its status does).
//
// Expected flow: 1. GET the object (not the cache: a reconcile may have just written status);
// 2. set the condition on its conditions (nothing to do when it already says so);
// 3. merge-patch the status subresource with the whole conditions list and the GET's
//    metadata.resourceVersion as a precondition, so a concurrent status write is never undone
//    (409 → read again, up to three times).
// Errors: an object already gone is no error (nothing to show); anything else the API answers
// (403 when the status write itself is refused) is thrown to the caller, which falls back to its
// log line and Event.
import {
  ApiError,
  isNotFound,
  PatchType,
  setCondition,
  type Client,
  type Condition,
  type KindRef,
  type KObject,
} from '../src/runtime/index.ts'
import { FIELD_MANAGER } from './kinds.ts'
import { Reason } from './condition-reasons.ts'

export const SYNCED = 'Synced'
export const RECONCILE_SUCCESS = Reason.ReconcileSuccess
export const SYNCED_AGAIN_MESSAGE = "the API server accepts the controller's writes for this object again"

export interface SyncedTarget {
  client: Pick<Client, 'get' | 'patch'>
  kind: KindRef
}

type WithConditions = KObject & { status?: { conditions?: Condition[] } }

// metav1.Condition's message limit (the CRDs' schema says the same): a longer refusal text (an
// admission webhook's) is cut rather than making the status write itself fail validation.
const MAX_MESSAGE = 32768

function fitMessage(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`
}

/** Whether the object's `Synced` condition already has this status and reason (no write needed). */
export function syncedSays(obj: KObject | undefined, status: Condition['status'], reason: string, message?: string): boolean {
  const c = (obj as WithConditions | undefined)?.status?.conditions?.find((x) => x.type === SYNCED)
  return c !== undefined && c.status === status && c.reason === reason && (message === undefined || c.message === fitMessage(message))
}

/** Whether the object shows a `Synced` condition that is not True (a refusal not yet cleared). */
export function syncedRefused(obj: KObject | undefined): boolean {
  const c = (obj as WithConditions | undefined)?.status?.conditions?.find((x) => x.type === SYNCED)
  return c !== undefined && c.status !== 'True'
}

/**
 * Sets `Synced` on the object's status (see the header). Resolves false when nothing had to change.
 * `onlyToClear`: write only if the live object shows a `Synced` that is not True.
 */
export async function writeSynced(
  target: SyncedTarget,
  name: string,
  namespace: string | undefined,
  cond: { status: Condition['status']; reason: string; message: string },
  opts: { signal?: AbortSignal; onlyToClear?: boolean } = {},
): Promise<boolean> {
  const signal = opts.signal
  for (let attempt = 1; ; attempt++) {
    let live: WithConditions
    try {
      live = await target.client.get<WithConditions>(target.kind, name, namespace, signal)
    } catch (err) {
      if (isNotFound(err)) return false // gone (a finished deletion): nothing left to show it on
      throw err
    }
    // Clearing touches only an object that shows a refusal: one that never showed it stays as it is.
    if (opts.onlyToClear === true && !syncedRefused(live)) return false
    const before = live.status?.conditions ?? []
    const after = setCondition(before, {
      type: SYNCED,
      ...cond,
      message: fitMessage(cond.message),
      observedGeneration: live.metadata?.generation,
    })
    if (after === before) return false
    try {
      await target.client.patch(
        target.kind,
        name,
        namespace,
        { metadata: { resourceVersion: live.metadata?.resourceVersion }, status: { conditions: after } },
        PatchType.merge,
        { subresource: 'status', fieldManager: FIELD_MANAGER, signal },
      )
      return true
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 409) || attempt >= 3) throw err
    }
  }
}
