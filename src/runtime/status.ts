// Status writes: read-modify-write of the status subresource with optimistic concurrency, retried
// on 409 Conflict from a fresh read; and a merge-patch variant for writers that own whole fields.
//
// Guarantees: updateStatus never overwrites a change it did not see (the PUT carries the
// resourceVersion it read); `mutate` runs on a fresh copy for every attempt.
// Errors: RT_CONFLICT_RETRIES_EXHAUSTED after `maxAttempts` conflicts; other ApiErrors as is.

import { sleep, realClock, type Clock } from './clock.ts'
import { PatchType, type Client } from './client/client.ts'
import { isConflict } from './client/api-error.ts'
import type { KindRef, KObject } from './client/objects.ts'
import { ErrorCodes, RuntimeError } from './errors.ts'

export interface StatusUpdateOptions {
  maxAttempts?: number
  signal?: AbortSignal
  fieldManager?: string
  clock?: Clock
}

/**
 * GETs the object, lets `mutate` change it (return false to skip the write), PUTs /status.
 * Resolves with the stored object (or the unchanged one when skipped).
 */
export async function updateStatus<T extends KObject>(
  client: Client,
  kind: KindRef,
  name: string,
  namespace: string | undefined,
  mutate: (obj: T) => boolean | void,
  opts: StatusUpdateOptions = {},
): Promise<T> {
  const attempts = opts.maxAttempts ?? 5
  const clock = opts.clock ?? realClock
  let lastErr: unknown
  for (let i = 0; i < attempts; i++) {
    const obj = await client.get<T>(kind, name, namespace, opts.signal)
    if (mutate(obj) === false) return obj
    try {
      return await client.replaceStatus(obj, { signal: opts.signal, fieldManager: opts.fieldManager })
    } catch (err) {
      if (!isConflict(err)) throw err
      lastErr = err
      await sleep(clock, Math.min(1000, 10 * 2 ** i * (0.5 + Math.random())), opts.signal)
    }
  }
  throw new RuntimeError(
    ErrorCodes.CONFLICT_RETRIES_EXHAUSTED,
    `status of ${kind.kind} ${namespace ? `${namespace}/` : ''}${name} kept changing under us (${attempts} conflicts); the reconcile will be retried`,
    { cause: lastErr },
  )
}

/** Merge-patches /status (no read, no conflict): for fields this writer alone owns. */
export function patchStatus<T extends KObject>(
  client: Client,
  kind: KindRef,
  name: string,
  namespace: string | undefined,
  status: unknown,
  opts: { signal?: AbortSignal; fieldManager?: string } = {},
): Promise<T> {
  return client.patch<T>(kind, name, namespace, { status }, PatchType.merge, { subresource: 'status', ...opts })
}
