// Server-side apply and field ownership tracking, as kube-apiserver's field manager does them on top
// of structured-merge-diff.
//
// Expected flow (apply): 1. the configuration's field set becomes the manager's set; 2. it is merged
// into the live object; 3. fields the manager applied last time, omits now and no other applier
// owns are removed; 4. fields other managers own that this changes are conflicts — returned, or,
// with force, taken over; 5. managedFields is re-encoded.
// Guarantees: pure functions; inputs are not mutated; a returned object shares nothing with the inputs,
// except on conflicts, where the live object itself is returned.
// Assumptions: one served version per kind (no conversion between manager apiVersions); the caller
// checks name/namespace/uid/resourceVersion preconditions, validates, defaults and prunes the result.
// Size: kept whole on purpose: merge and field-ownership bookkeeping are one algorithm
// (structured-merge-diff's apply); field sets, schema lookup, the tree walk and managers are their own modules.

import { isDeepStrictEqual } from 'node:util'
import type { JSONSchemaProps } from '../schema/index.ts'
import { FieldSet, pathString } from './fieldset.ts'
import { rootNode, isPlainObject, type TypeNode } from './schema.ts'
import { toFieldSet, merge, compare, removeFields, withNamedFields } from './walk.ts'
import {
  decodeManagedFields,
  encodeManagedFields,
  capUpdateManagers,
  managerKey,
  type Managers,
  type ManagedFieldsEntry,
  type Manager,
} from './managers.ts'
import { ApplyError } from './errors.ts'
import type { JsonObject } from '../types.ts'

type Obj = JsonObject

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

/** Paths no manager owns: identity and server-set metadata (kube's stripMeta). */
const STRIPPED = FieldSet.of([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (f) => ['f:metadata', `f:${f}`],
  ),
])

/** Metadata only the server sets; an apply configuration cannot change it. */
const SERVER_SET_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
]

export interface Conflict {
  /** The conflicting manager's name, e.g. "kubectl-client-side-apply". */
  manager: string
  /** The field as Kubernetes prints it, e.g. ".spec.server.port". */
  field: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  subresource?: string
  /** The manager as kube's messages show it: "kubectl-client-side-apply" using zerolaghub.dev/v1alpha1 */
  display: string
}

export interface ApplyInput {
  /** The stored object, or undefined when the apply creates it. */
  live: Obj | undefined
  /** The apply configuration (the parsed application/apply-patch+yaml body). */
  patch: Obj
  /** The fieldManager query parameter (required for apply). */
  manager: string
  force: boolean
  /** The served version's openAPIV3Schema; undefined types everything by its value. */
  schema: JSONSchemaProps | undefined
  /** 'status' when applying to the /status subresource. */
  subresource?: string
  /** Whether the kind has a status subresource (then the main resource ignores .status). Default true. */
  statusSubresource?: boolean
  now?: Date
}

export interface ApplyResult {
  /** The object to store (the live object unchanged when there are conflicts). */
  object: Obj
  conflicts?: Conflict[]
  /** False when the apply changed neither the object nor its managedFields (nothing to write). */
  changed: boolean
}

export interface UpdateInput {
  /** The stored object before the write; undefined on create. */
  oldObj: Obj | undefined
  /** The object being written (after the patch or PUT body). */
  newObj: Obj
  manager: string
  operation?: 'Update'
  subresource?: string
  schema: JSONSchemaProps | undefined
  statusSubresource?: boolean
  now?: Date
}

/** A deep copy of a JSON value (much cheaper than structuredClone for plain objects). */
function copyJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(copyJson)
  const out: Record<string, unknown> = {}
  for (const k in v as Record<string, unknown>) out[k] = copyJson((v as Record<string, unknown>)[k])
  return out
}

const timestamp = (now: Date): string => `${now.toISOString().slice(0, 19)}Z`

/** A shallow view without metadata.managedFields; nothing below is copied (the walks never mutate). */
function withoutManagedFields(o: Obj | undefined): Obj {
  if (!o) return {}
  if (!isPlainObject(o.metadata) || !('managedFields' in o.metadata)) return o
  const { managedFields: _dropped, ...metadata } = o.metadata
  return { ...o, metadata }
}

/** What the request may touch: the main resource leaves .status alone; /status touches only .status. */
function scope(o: Obj, subresource: string, statusSubresource: boolean): Obj {
  if (subresource === 'status') {
    const s: Obj = {}
    if ('status' in o) s.status = o.status
    return s
  }
  if (!statusSubresource) return o
  const { status: _ignored, ...rest } = o
  return rest
}

/** Puts the scoped part back into the full object. */
function unscope(full: Obj, part: Obj, subresource: string, statusSubresource: boolean): Obj {
  if (subresource === 'status') {
    const out = { ...full }
    if ('status' in part) out.status = part.status
    else delete out.status
    return out
  }
  if (!statusSubresource) return part
  const out = { ...part }
  if ('status' in full) out.status = full.status
  else delete out.status
  return out
}

function describeManager(m: Manager): string {
  let s = JSON.stringify(m.manager)
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`
  return s
}

function conflictsOf(byManager: Map<string, FieldSet>, managers: Managers): Conflict[] {
  const out: Conflict[] = []
  for (const [key, set] of byManager) {
    const m = managers.get(key)!
    for (const p of set.paths()) {
      const c: Conflict = {
        manager: m.manager,
        field: pathString(p),
        operation: m.operation,
        apiVersion: m.apiVersion,
        display: describeManager(m),
      }
      if (m.subresource) c.subresource = m.subresource
      out.push(c)
    }
  }
  return out.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
}

function validatePatch(patch: unknown, manager: string): asserts patch is Obj {
  if (!isPlainObject(patch)) throw new ApplyError('the apply configuration must be an object (a single YAML or JSON document)')
  if (typeof patch.apiVersion !== 'string' || patch.apiVersion === '')
    throw new ApplyError('apiVersion must be set in the apply configuration')
  if (typeof patch.kind !== 'string' || patch.kind === '') throw new ApplyError('kind must be set in the apply configuration')
  if (patch.metadata !== undefined && !isPlainObject(patch.metadata))
    throw new ApplyError('metadata must be an object in the apply configuration')
  if (patch.metadata?.managedFields !== undefined && patch.metadata.managedFields !== null) {
    throw new ApplyError('metadata.managedFields must be nil in an apply configuration; remove it')
  }
  if (typeof manager !== 'string' || manager === '')
    throw new ApplyError('fieldManager is required for apply patch; set the fieldManager query parameter')
  if (manager.length > 128) throw new ApplyError('fieldManager must not be longer than 128 characters')
}

interface Outcome {
  object: Obj
  managers: Managers
  conflicts: Map<string, FieldSet>
  changed: boolean
}

function applyOnce(input: ApplyInput, force: boolean): Outcome {
  const { patch, manager, schema } = input
  const subresource = input.subresource ?? ''
  const statusSub = input.statusSubresource ?? true
  const now = input.now ?? new Date()
  const root: TypeNode = rootNode(schema)
  const live = withoutManagedFields(input.live)
  const managers = decodeManagedFields(input.live?.metadata?.managedFields)

  const config = copyJson(patch) as Obj
  if (isPlainObject(config.metadata)) for (const f of SERVER_SET_METADATA) delete config.metadata[f]
  const scopedConfig = scope(config, subresource, statusSub)
  const configSet = toFieldSet(scopedConfig, root, true).difference(STRIPPED)

  const liveScoped = scope(live, subresource, statusSub)
  // The configuration wins wherever it says something; server-set metadata was taken out of it above.
  let merged = merge(liveScoped, scopedConfig, root) as Obj

  const key = managerKey({ manager, operation: 'Apply', apiVersion: config.apiVersion, subresource })
  const previous = managers.get(key)
  managers.set(key, { manager, operation: 'Apply', apiVersion: config.apiVersion, subresource, time: previous?.time, set: configSet })

  if (previous && !previous.set.isEmpty()) {
    // Remove what this manager applied last time and omits now, unless any manager (applier or
    // updater) still owns it; identity fields are never removed.
    // Whatever the configuration itself mentions stays, even an empty list it owns no item of.
    let owned = STRIPPED
    for (const m of managers.values()) owned = owned.union(m.set)
    const mentioned = compare({}, scopedConfig, root).added
    const removable = withNamedFields(toFieldSet(merged, root, false), root)
      .intersection(withNamedFields(previous.set, root))
      .difference(withNamedFields(owned, root))
      .difference(mentioned)
    merged = (removeFields(merged, removable, root, owned.union(mentioned)) ?? {}) as Obj
  }

  const result = unscope(live, merged, subresource, statusSub)
  const cmp = compare(scope(live, subresource, statusSub), scope(result, subresource, statusSub), root)
  const changedFields = cmp.modified.union(cmp.added).difference(STRIPPED)
  const removedFields = cmp.removed.difference(STRIPPED)
  const conflicts = new Map<string, FieldSet>()
  for (const [k, m] of managers) {
    if (k === key) continue
    const c = m.set.intersection(changedFields)
    if (!c.isEmpty()) conflicts.set(k, c)
  }
  if (conflicts.size > 0 && !force) return { object: input.live ?? {}, managers, conflicts, changed: false }
  for (const [k, m] of managers) {
    if (k === key) continue
    const set = m.set.difference(changedFields).difference(removedFields)
    if (set.isEmpty()) managers.delete(k)
    else managers.set(k, { ...m, set })
  }
  const objectChanged = !isDeepStrictEqual(live, result)
  const self = managers.get(key)!
  // As kube: the applier's time moves only when the object changed (a new co-owner of equal values gets none).
  if (objectChanged) self.time = timestamp(now)
  if (self.set.isEmpty()) managers.delete(key)
  const entries = encodeManagedFields(managers)
  const object = setManagedFields(result, entries)
  const changed = objectChanged || !isDeepStrictEqual(entries, input.live?.metadata?.managedFields ?? [])
  return { object, managers, conflicts: new Map(), changed }
}

function setManagedFields(o: Obj, entries: ManagedFieldsEntry[]): Obj {
  const out = { ...o, metadata: { ...(isPlainObject(o.metadata) ? o.metadata : {}) } }
  if (entries.length > 0) out.metadata.managedFields = entries
  else delete out.metadata.managedFields
  return out
}

/** Fields kubectl's client-side apply set that still hold the last-applied value may be taken over by `kubectl apply --server-side`. */
function allowedFromLastApplied(live: Obj | undefined, schema: JSONSchemaProps | undefined): FieldSet | undefined {
  const text = live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]
  if (typeof text !== 'string' || text === '') return undefined
  let last: unknown
  try {
    last = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isPlainObject(last)) return undefined
  const root = rootNode(schema)
  try {
    const lastSet = toFieldSet(last, root, false)
    return lastSet.difference(compare(last, withoutManagedFields(live), root).modified)
  } catch {
    return undefined
  }
}

/** Go's encoder sorts map keys and ends with a newline; kubectl compares the annotation byte for byte. */
function lastAppliedText(patch: Obj): string {
  const c = structuredClone(patch)
  if (isPlainObject(c.metadata?.annotations)) {
    delete c.metadata.annotations[LAST_APPLIED_ANNOTATION]
    if (Object.keys(c.metadata.annotations).length === 0) delete c.metadata.annotations
  }
  return `${JSON.stringify(c, (_k, v) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  )}\n`
}

/**
 * Server-side apply of `patch` by `manager` onto `live` (or onto nothing, creating). Returns the
 * object to store, or the conflicts when other managers own fields this would change and force is off.
 * Throws ApplyError for an unusable configuration.
 */
export function applyPatch(input: ApplyInput): ApplyResult {
  validatePatch(input.patch, input.manager)
  let outcome = applyOnce(input, input.force)
  if (outcome.conflicts.size > 0 && input.manager === 'kubectl') {
    const allowed = allowedFromLastApplied(input.live, input.schema)
    if (allowed) {
      const remaining = new Map<string, FieldSet>()
      for (const [k, set] of outcome.conflicts) {
        const rest = set.difference(allowed)
        if (!rest.isEmpty()) remaining.set(k, rest)
      }
      outcome = remaining.size === 0 ? applyOnce(input, true) : { ...outcome, conflicts: remaining }
    }
  }
  if (outcome.conflicts.size > 0) {
    return { object: input.live ?? {}, conflicts: conflictsOf(outcome.conflicts, outcome.managers), changed: false }
  }
  // A fresh copy: the merge shares unchanged subtrees with the live object, and callers default and mutate what they store.
  let object = copyJson(outcome.object) as Obj
  // kubectl's server-side apply keeps a client-side apply annotation in step, so a later client-side apply still works.
  const current = object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]
  if (input.manager === 'kubectl' && typeof current === 'string' && current !== '' && (input.subresource ?? '') === '') {
    const text = lastAppliedText(input.patch)
    if (object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION] !== text) {
      object = {
        ...object,
        metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [LAST_APPLIED_ANNOTATION]: text } },
      }
      outcome.changed = true
    }
  }
  return { object, changed: outcome.changed }
}

function decodeOrEmpty(entries: unknown): Managers {
  try {
    return decodeManagedFields(entries)
  } catch {
    return new Map()
  }
}

/**
 * Which managedFields a write starts from (kube's decodeLiveOrNew): a subresource write always the
 * stored ones; `[]` or `[{}]` sent by the client resets them; other sent entries replace the stored
 * ones (that is how clients such as kubectl migrate ownership), unless they are empty or malformed.
 */
function managersForUpdate(oldObj: Obj | undefined, newObj: Obj, isSubresource: boolean): Managers {
  const stored = oldObj?.metadata?.managedFields
  if (isSubresource) return decodeOrEmpty(stored)
  const sent = newObj?.metadata?.managedFields
  if (Array.isArray(sent) && (sent.length === 0 || (sent.length === 1 && isPlainObject(sent[0]) && Object.keys(sent[0]).length === 0)))
    return new Map()
  try {
    const managers = decodeManagedFields(sent)
    if (managers.size > 0) return managers
  } catch {
    /* fall back to the stored entries, as kube does */
  }
  return decodeOrEmpty(stored)
}

/**
 * Ownership after a non-apply write (create, PUT, PATCH): the fields the write added or changed
 * become the manager's (operation Update) and leave every other manager; removed fields leave
 * everyone. See managersForUpdate for when client-sent managedFields count.
 */
export function trackUpdate(input: UpdateInput): ManagedFieldsEntry[] {
  const subresource = input.subresource ?? ''
  const statusSub = input.statusSubresource ?? true
  const now = input.now ?? new Date()
  const root = rootNode(input.schema)
  const managers = managersForUpdate(input.oldObj, input.newObj, subresource !== '')
  const oldClean = scope(withoutManagedFields(input.oldObj), subresource, statusSub)
  const newClean = scope(withoutManagedFields(input.newObj), subresource, statusSub)
  const cmp = compare(input.oldObj ? oldClean : {}, newClean, root)
  const changed = cmp.modified.union(cmp.added).difference(STRIPPED)
  const removed = cmp.removed.difference(STRIPPED)
  const apiVersion = String(input.newObj?.apiVersion ?? input.oldObj?.apiVersion ?? '')
  const key = managerKey({ manager: input.manager, operation: 'Update', apiVersion, subresource })
  for (const [k, m] of managers) {
    // The writer keeps what it changes (so its set is usually the very same object again, and stays cached).
    const set = (k === key ? m.set : m.set.difference(changed)).difference(removed)
    if (set === m.set) continue
    if (set.isEmpty() && k !== key) managers.delete(k)
    else managers.set(k, { ...m, set })
  }
  if (!changed.isEmpty()) {
    const prev = managers.get(key)
    managers.set(key, {
      manager: input.manager,
      operation: 'Update',
      apiVersion,
      subresource,
      time: timestamp(now),
      set: (prev?.set ?? new FieldSet()).union(changed),
    })
  }
  const self = managers.get(key)
  if (self?.set.isEmpty()) managers.delete(key)
  capUpdateManagers(managers)
  return encodeManagedFields(managers)
}

/** kube's text for a 409 apply conflict. */
export function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${conflicts[0]!.display}: ${conflicts[0]!.field}`
  const byManager = new Map<string, string[]>()
  for (const c of conflicts) byManager.set(c.display, [...(byManager.get(c.display) ?? []), c.field])
  const lines: string[] = []
  for (const display of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${display}:`)
    for (const f of byManager.get(display)!) lines.push(`- ${f}`)
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`
}

/** The details.causes of kube's 409 apply conflict Status. */
export function conflictCauses(conflicts: readonly Conflict[]): Array<{ type: 'FieldManagerConflict'; message: string; field: string }> {
  return conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${c.display}`, field: c.field }))
}
