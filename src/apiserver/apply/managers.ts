// metadata.managedFields in and out: entries keyed the way kube-apiserver keys managers (an
// applier by name and subresource; an updater also by apiVersion), sorted as it sorts them, and
// capped at 10 update managers with the oldest merged into "ancient-changes".

import { FieldSet } from './fieldset.ts'
import { ApplyError } from './errors.ts'

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time?: string
  fieldsType: 'FieldsV1'
  fieldsV1: Record<string, unknown>
  subresource?: string
}

export interface Manager {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  subresource: string
  time?: string
  set: FieldSet
}

export type Managers = Map<string, Manager>

export const MAX_UPDATE_MANAGERS = 10
export const ANCIENT_CHANGES = 'ancient-changes'

/** Appliers keep one entry across API versions; updaters get one per version. */
export function managerKey(m: { manager: string; operation: string; apiVersion: string; subresource?: string }): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource ?? ''])
}

export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map()
  if (entries === undefined || entries === null) return out
  if (!Array.isArray(entries)) throw new ApplyError('metadata.managedFields must be a list of entries')
  entries.forEach((e, i) => {
    if (!e || typeof e !== 'object') throw new ApplyError(`metadata.managedFields[${i}] must be an object`)
    const entry = e as Partial<ManagedFieldsEntry>
    // An entry with nothing in it is how a client asks to reset managedFields.
    if (Object.keys(entry).length === 0) return
    if (entry.operation !== 'Apply' && entry.operation !== 'Update')
      throw new ApplyError(`metadata.managedFields[${i}].operation must be Apply or Update`)
    if (typeof entry.manager !== 'string') throw new ApplyError(`metadata.managedFields[${i}].manager must be a string`)
    if (entry.fieldsType !== undefined && entry.fieldsType !== 'FieldsV1')
      throw new ApplyError(`metadata.managedFields[${i}].fieldsType must be FieldsV1`)
    let set: FieldSet
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1 ?? {})
    } catch (err) {
      throw new ApplyError(`metadata.managedFields[${i}].fieldsV1: ${(err as Error).message}`)
    }
    const m: Manager = {
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: entry.apiVersion ?? '',
      subresource: entry.subresource ?? '',
      time: entry.time,
      set,
    }
    const key = managerKey(m)
    const prev = out.get(key)
    out.set(key, prev ? { ...m, set: prev.set.union(set) } : m)
  })
  return out
}

function seconds(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.isEmpty())
  const secs = new Map(list.map((m) => [m, seconds(m.time)]))
  list.sort((p, q) =>
    p.operation !== q.operation
      ? p.operation < q.operation
        ? -1
        : 1
      : secs.get(p)! !== secs.get(q)!
        ? secs.get(p)! - secs.get(q)!
        : p.manager !== q.manager
          ? p.manager < q.manager
            ? -1
            : 1
          : p.apiVersion !== q.apiVersion
            ? p.apiVersion < q.apiVersion
              ? -1
              : 1
            : p.subresource < q.subresource
              ? -1
              : p.subresource > q.subresource
                ? 1
                : 0,
  )
  return list.map((m) => {
    const e: ManagedFieldsEntry = {
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: 'FieldsV1',
      fieldsV1: m.set.toFieldsV1(),
    }
    if (m.time === undefined) delete e.time
    if (m.subresource) e.subresource = m.subresource
    return e
  })
}

/** Keeps at most MAX_UPDATE_MANAGERS update entries by folding the oldest into ancient-changes (per apiVersion). */
export function capUpdateManagers(managers: Managers): void {
  const updaters = () => [...managers.entries()].filter(([, m]) => m.operation === 'Update' && m.manager !== ANCIENT_CHANGES)
  const all = () => [...managers.values()].filter((m) => m.operation === 'Update')
  while (all().length > MAX_UPDATE_MANAGERS) {
    const oldest = updaters().sort(([ka, a], [kb, b]) => seconds(a.time) - seconds(b.time) || (ka < kb ? -1 : 1))[0]
    if (!oldest) return
    const [key, m] = oldest
    managers.delete(key)
    const bucket = { manager: ANCIENT_CHANGES, operation: 'Update' as const, apiVersion: m.apiVersion, subresource: '' }
    const bucketKey = managerKey(bucket)
    const prev = managers.get(bucketKey)
    managers.set(bucketKey, { ...bucket, time: m.time, set: prev ? prev.set.union(m.set) : m.set })
  }
}
