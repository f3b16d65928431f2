// Server-side apply: send the fields this controller wants to own, under a field manager name;
// the server merges, tracks ownership in managedFields and reports conflicts with other managers.
// Controllers usually force (they are the authority for what they manage); people should not.

import { PatchType, kindOf, type Client } from './client/client.ts'
import type { KObject } from './client/objects.ts'
import { ErrorCodes, RuntimeError } from './errors.ts'

export interface ApplyOptions {
  fieldManager: string
  /** Take ownership of conflicting fields (default true for controllers). */
  force?: boolean
  /** Apply to the status subresource instead of the object. */
  subresource?: 'status'
  dryRun?: boolean
  signal?: AbortSignal
}

/** Applies `obj` (apiVersion, kind, metadata.name[, namespace] and the owned fields). */
export function serverSideApply<T extends KObject>(client: Client, obj: T, opts: ApplyOptions): Promise<T> {
  if (!opts.fieldManager)
    throw new RuntimeError(ErrorCodes.INVALID_OPTION, 'server-side apply needs a fieldManager naming this controller (e.g. "replicator")')
  const name = obj.metadata?.name
  if (!name) throw new RuntimeError(ErrorCodes.INVALID_OPTION, 'server-side apply needs metadata.name')
  return client.patch<T>(kindOf(obj), name, obj.metadata?.namespace, obj, PatchType.apply, {
    fieldManager: opts.fieldManager,
    force: opts.force ?? true,
    subresource: opts.subresource,
    dryRun: opts.dryRun,
    signal: opts.signal,
  })
}
