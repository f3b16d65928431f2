// finalizer: run cleanup before an object goes away, with the API's own concurrency control.
//
// Expected flow (call it from the reconciler with the object just read)
//  1. Object alive, finalizer missing → add it (JSON patch guarded by a `test`), then Apply.
//  2. Object alive, finalizer present → Apply.
//  3. Object being deleted, finalizer present → Cleanup; when Cleanup succeeds, remove the
//     finalizer with a JSON patch `test` + `remove` at its index; the API server then deletes.
//  4. Object being deleted, finalizer absent → nothing (not ours, or already cleaned up).
// Guarantees
//  - If Apply ever ran, Cleanup must succeed before the object can be deleted: the finalizer is
//    added before the first Apply and removed only after a successful Cleanup.
//  - The patches never clobber others' finalizers: each carries a `test` on the exact list (or
//    index) it read, so a concurrent change makes it fail (422/409) instead of deleting or
//    duplicating someone else's entry; the error goes back to the controller, which retries
//    with backoff from a fresh read.
// Assumptions
//  - `obj` is recent (from the cache or a GET); a stale one only costs a failed patch and retry.
//  - Cleanup is idempotent: it may run again if removing the finalizer fails.
// Errors: whatever Apply/Cleanup throw, and ApiError from the patches.

import type { Client } from './client/client.ts'
import { PatchType, kindOf } from './client/client.ts'
import type { KObject } from './client/objects.ts'
import type { ReconcileResult } from './controller/reconcile.ts'

export type FinalizerEvent<T> = { type: 'apply'; object: T } | { type: 'cleanup'; object: T }

export async function finalizer<T extends KObject>(
  client: Client,
  finalizerName: string,
  obj: T,
  handle: (event: FinalizerEvent<T>) => Promise<ReconcileResult> | ReconcileResult,
  signal?: AbortSignal,
): Promise<ReconcileResult> {
  const finalizers = obj.metadata?.finalizers ?? []
  const index = finalizers.indexOf(finalizerName)
  const deleting = obj.metadata?.deletionTimestamp !== undefined
  const name = obj.metadata?.name as string
  const ns = obj.metadata?.namespace

  if (deleting) {
    if (index < 0) return undefined
    const result = await handle({ type: 'cleanup', object: obj })
    await client.patch(
      kindOf(obj),
      name,
      ns,
      [
        { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizerName },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ],
      PatchType.json,
      { signal },
    )
    return result
  }

  let current = obj
  if (index < 0) {
    const patch =
      finalizers.length === 0
        ? // No list yet: guard on resourceVersion, so a list created concurrently by someone else fails the patch.
          [
            { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
            { op: 'add', path: '/metadata/finalizers', value: [finalizerName] },
          ]
        : // The server does not deduplicate finalizers: test the exact list we saw, then append.
          [
            { op: 'test', path: '/metadata/finalizers', value: finalizers },
            { op: 'add', path: '/metadata/finalizers/-', value: finalizerName },
          ]
    current = await client.patch<T>(kindOf(obj), name, ns, patch, PatchType.json, { signal })
  }
  return handle({ type: 'apply', object: current })
}
