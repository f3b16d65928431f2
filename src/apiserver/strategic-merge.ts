// Strategic merge patch (application/strategic-merge-patch+json) for the built-in kinds, applied as
// kube-apiserver applies it (k8s.io/apimachinery/pkg/util/strategicpatch, mergeMap and friends, with
// the server's options: parallel deletion lists merged, unmatched nulls ignored).
//
// What a patch can say
// - A map merges key by key; `null` removes a key; a value of another type replaces the old one.
// - A list is replaced whole, unless the kind declares it a merge list (patchStrategy "merge" on
//   the Go type): a list of maps merges item by item on its merge key (ownerReferences on uid,
//   a ServiceAccount's secrets on name); a list of scalars (finalizers) is a set
//   union. New patch items come first, then the items only the server had (the server's order).
// - Directives: `$patch: replace` (a map or a merge list taken as given), `$patch: delete` (a map
//   cleared; a list item removed by its merge key — a no-op when no item has that key, as the
//   garbage collector's owner-reference removal relies on), `$retainKeys` (keys not listed are
//   cleared), `$deleteFromPrimitiveList/<list>` (scalars removed from a merge list) and
//   `$setElementOrder/<list>` (the order of the merged list). Directives never reach the stored object.
//
// Guarantees
// - The live object is never mutated: the merge works on a copy.
// - A malformed patch (a merge item without its merge key, an unknown `$patch`, a `$retainKeys` that
//   leaves out a patched key, lists of lists) is a 400/422 naming the field; kube-apiserver answers
//   some of these with a 500.
// - Empty metadata lists and maps left by a merge are dropped: the typed objects kube serves omit them.

import { ApiError, errors } from './status.ts'
import { isObject, type KObject } from './types.ts'

type JsonMap = Record<string, unknown>

/** A merge list: the key its items merge on, or null for a list of scalars merged as a set. */
type MergeKey = string | null

/** Merge lists every object has (ObjectMeta), by path. */
const METADATA_MERGE_LISTS: Record<string, MergeKey> = {
  'metadata.finalizers': null,
  'metadata.ownerReferences': 'uid',
}

/**
 * Merge lists of particular built-in kinds (their Go types' patchStrategy:"merge" tags), by path; the
 * OpenAPI documents advertise the same (x-kubernetes-patch-strategy), so kubectl's client-side apply
 * computes its patches to match. A ServiceAccount's imagePullSecrets is atomic (replaced whole).
 */
const KIND_MERGE_LISTS: Record<string, Record<string, MergeKey>> = {
  ServiceAccount: { secrets: 'name' },
}

const DIRECTIVE = '$patch'
const RETAIN_KEYS = '$retainKeys'
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList'
const SET_ELEMENT_ORDER = '$setElementOrder'

/** Applies a strategic merge patch to a built-in object `doc` of kind `doc.kind`; returns the new object. */
export function strategicMerge(doc: KObject, patch: unknown): unknown {
  if (!isObject(patch)) throw errors.badRequest('a strategic merge patch must be a JSON object such as {"metadata":{"labels":{"a":"b"}}}')
  const lists = { ...METADATA_MERGE_LISTS, ...KIND_MERGE_LISTS[String(doc.kind)] }
  const merged = new Merger(lists).map(structuredClone(doc) as JsonMap, structuredClone(patch), '')
  if (isObject(merged.metadata)) dropEmpty(merged.metadata)
  return merged
}

function dropEmpty(meta: JsonMap): void {
  for (const [k, v] of Object.entries(meta)) {
    if ((Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0)) delete meta[k]
  }
}

function bad(field: string, what: string): ApiError {
  return errors.badRequest(`invalid strategic merge patch at ${field || 'the top level'}: ${what}`)
}

function fieldOf(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}

class Merger {
  readonly lists: Record<string, MergeKey>

  constructor(lists: Record<string, MergeKey>) {
    this.lists = lists
  }

  /** mergeMap: `original` and `patch` are copies this may change. */
  map(original: JsonMap, patch: JsonMap, path: string): JsonMap {
    if (DIRECTIVE in patch) {
      const d = patch[DIRECTIVE]
      if (d === 'replace') {
        delete patch[DIRECTIVE]
        return stripDirectives(patch) as JsonMap
      }
      if (d === 'delete') return {}
      throw bad(path, `unknown ${DIRECTIVE} ${JSON.stringify(d)} in a map; use "replace" or "delete"`)
    }
    this.#retainKeys(original, patch, path)
    this.#setElementOrders(original, patch, path)
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        this.#deleteFromPrimitiveList(original, key, value, path)
        continue
      }
      if (value === null) {
        delete original[key]
        continue
      }
      const field = fieldOf(path, key)
      const cur = original[key]
      if (!(key in original) || shape(cur) !== shape(value)) {
        const kept = stripDirectives(value)
        if (kept === DROPPED) delete original[key]
        else original[key] = kept
        continue
      }
      if (isObject(value)) {
        // A map cleared by `$patch: delete` is left out, as the typed object kube serves leaves it out.
        const m = this.map(cur as JsonMap, value, field)
        if (Object.keys(m).length === 0 && value[DIRECTIVE] === 'delete') delete original[key]
        else original[key] = m
      } else if (Array.isArray(value)) {
        original[key] = field in this.lists ? this.list(cur as unknown[], value, this.lists[field], field) : value
      } else {
        original[key] = value
      }
    }
    return original
  }

  /** mergeSlice for a merge list. */
  list(original: unknown[], patch: unknown[], mergeKey: MergeKey, field: string): unknown[] {
    if (original.length === 0 && patch.length === 0) return original
    const kind = elementKind(field, original, patch)
    if (kind !== 'map') {
      const merged = [...original]
      for (const x of patch) if (!merged.includes(x)) merged.push(x)
      return orderMerged(merged, patch, original, null)
    }
    if (mergeKey === null) throw bad(field, 'a list of objects can only be replaced whole here; send the full list without $-directives')
    let base = original
    const items: JsonMap[] = []
    let replace = false
    for (const item of patch as JsonMap[]) {
      if (!(DIRECTIVE in item)) {
        items.push(item)
        continue
      }
      const d = item[DIRECTIVE]
      if (d === 'delete') {
        if (!(mergeKey in item)) throw bad(field, `a {"${DIRECTIVE}":"delete"} item needs its merge key "${mergeKey}"`)
        base = base.filter((x) => !(isObject(x) && x[mergeKey] === item[mergeKey]))
      } else if (d === 'replace') {
        replace = true
      } else if (d === 'merge') {
        throw bad(field, `{"${DIRECTIVE}":"merge"} is not supported in a list`)
      } else {
        throw bad(field, `unknown ${DIRECTIVE} ${JSON.stringify(d)} in a list item; use "delete" or "replace"`)
      }
    }
    if (replace) return items.map((x) => stripDirectives(x)).filter((x) => x !== DROPPED)
    const merged = [...base]
    for (const item of items) {
      if (!(mergeKey in item))
        throw bad(field, `every item needs its merge key "${mergeKey}"; ${JSON.stringify(item).slice(0, 200)} has none`)
      const i = merged.findIndex((x) => isObject(x) && x[mergeKey] === item[mergeKey])
      if (i >= 0) merged[i] = this.map(merged[i] as JsonMap, item, `${field}[${mergeKey}=${String(item[mergeKey])}]`)
      else {
        const kept = stripDirectives(item)
        if (kept !== DROPPED) merged.push(kept)
      }
    }
    return orderMerged(merged, items, base, mergeKey)
  }

  // $retainKeys: every key the patch sets must be listed; keys of the original not listed are cleared.
  #retainKeys(original: JsonMap, patch: JsonMap, path: string): void {
    if (!(RETAIN_KEYS in patch)) return
    const retain = patch[RETAIN_KEYS]
    delete patch[RETAIN_KEYS]
    if (!Array.isArray(retain)) throw bad(path, `${RETAIN_KEYS} must be a list of field names`)
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER) || k === DIRECTIVE) continue
      if (!retain.includes(k)) throw bad(path, `the patch sets "${k}", which its ${RETAIN_KEYS} list leaves out`)
    }
    for (const k of Object.keys(original)) if (!retain.includes(k)) delete original[k]
  }

  // $deleteFromPrimitiveList/<list>: removes the listed scalars; nothing to do when the list is absent.
  #deleteFromPrimitiveList(original: JsonMap, rawKey: string, value: unknown, path: string): void {
    const key = listName(rawKey, DELETE_FROM_PRIMITIVE_LIST, path)
    if (!Array.isArray(value)) throw bad(fieldOf(path, rawKey), 'must be a list of the values to remove')
    const cur = original[key]
    if (cur === undefined) return
    if (!Array.isArray(cur)) throw bad(fieldOf(path, key), `${DELETE_FROM_PRIMITIVE_LIST} applies to a list, and this field is not one`)
    if (cur.some((x) => isObject(x) || Array.isArray(x)))
      throw bad(
        fieldOf(path, key),
        `${DELETE_FROM_PRIMITIVE_LIST} applies to a list of scalars; remove objects with {"${DIRECTIVE}":"delete"} items`,
      )
    original[key] = cur.filter((x) => !value.includes(x))
  }

  // $setElementOrder/<list>: merges the list now (and drops it from the patch), then orders it.
  #setElementOrders(original: JsonMap, patch: JsonMap, path: string): void {
    for (const rawKey of Object.keys(patch)) {
      if (!rawKey.startsWith(SET_ELEMENT_ORDER)) continue
      const order = patch[rawKey]
      delete patch[rawKey]
      const key = listName(rawKey, SET_ELEMENT_ORDER, path)
      const field = fieldOf(path, key)
      if (!Array.isArray(order)) throw bad(fieldOf(path, rawKey), 'must be a list')
      const hasOriginal = Array.isArray(original[key])
      const patchList = patch[key]
      const hasPatch = Array.isArray(patchList)
      if (!hasOriginal && !hasPatch) continue
      const mergeKey = this.lists[field] ?? null
      if (hasPatch) checkOrderCovers(patchList, order, mergeKey, field)
      let merged: unknown[]
      if (hasOriginal && hasPatch)
        merged = field in this.lists ? this.list(original[key] as unknown[], patchList, mergeKey, field) : patchList
      else if (hasPatch) merged = stripDirectives(patchList) as unknown[]
      else merged = original[key] as unknown[]
      delete patch[key]
      if (merged.length === 0 || (mergeKey === null && merged.some((x) => isObject(x)))) {
        original[key] = merged
        continue
      }
      original[key] = orderMerged(merged, order, hasOriginal ? (original[key] as unknown[]) : [], mergeKey)
    }
  }
}

function listName(rawKey: string, prefix: string, path: string): string {
  const slash = rawKey.indexOf('/')
  if (slash < 0 || rawKey.slice(0, slash) !== prefix || slash === rawKey.length - 1)
    throw bad(fieldOf(path, rawKey), `write ${prefix}/<list field>`)
  return rawKey.slice(slash + 1)
}

/** A $setElementOrder list must name the patch list's items in the patch's order. */
function checkOrderCovers(patchList: unknown[], order: unknown[], mergeKey: MergeKey, field: string): void {
  const keyOf = (x: unknown) => (mergeKey === null ? x : isObject(x) ? x[mergeKey] : undefined)
  const wanted = patchList.filter((x) => !(isObject(x) && DIRECTIVE in x)).map(keyOf)
  let j = 0
  for (const o of order) if (j < wanted.length && keyOf(o) === wanted[j]) j++
  if (j < wanted.length) throw bad(field, `the ${SET_ELEMENT_ORDER} list does not name the patch's items in the patch's order`)
}

const DROPPED = Symbol('dropped')

/** removeDirectives: a copy without `$patch` maps (dropped) and with nested directives removed. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives).filter((x) => x !== DROPPED)
  if (!isObject(v)) return v
  if (DIRECTIVE in v) return DROPPED
  const out: JsonMap = {}
  for (const [k, x] of Object.entries(v)) {
    if (k === RETAIN_KEYS || k.startsWith(SET_ELEMENT_ORDER) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue
    const kept = stripDirectives(x)
    if (kept !== DROPPED) out[k] = kept
  }
  return out
}

function shape(v: unknown): 'map' | 'list' | 'scalar' {
  return Array.isArray(v) ? 'list' : isObject(v) ? 'map' : 'scalar'
}

function elementKind(field: string, ...lists: unknown[][]): 'map' | 'scalar' {
  let kind: 'map' | 'scalar' | undefined
  for (const l of lists) {
    for (const x of l) {
      const s = shape(x)
      if (s === 'list') throw new ApiError('Invalid', `invalid strategic merge patch at ${field}: lists of lists are not supported`)
      const k = s === 'map' ? 'map' : 'scalar'
      if (kind !== undefined && kind !== k) throw bad(field, 'the list mixes objects and scalars')
      kind = k
    }
  }
  return kind ?? 'scalar'
}

/**
 * kube's element order for a merged list (normalizeElementOrder + mergeSortedSlice): the items the
 * patch (or $setElementOrder) names, in its order, interleaved with the items only the server had,
 * in the server's order; a server item goes first only when the server had it before the next patch item.
 */
function orderMerged(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: MergeKey): unknown[] {
  const keyOf = (x: unknown) => (mergeKey === null ? x : isObject(x) ? x[mergeKey] : undefined)
  const indexIn = (list: unknown[], x: unknown) => {
    const k = keyOf(x)
    return list.findIndex((y) => keyOf(y) === k)
  }
  const named = new Set(patchOrder.filter((x) => !(isObject(x) && DIRECTIVE in x)).map(keyOf))
  const fromPatch = merged.filter((x) => named.has(keyOf(x)))
  const serverOnly = merged.filter((x) => !named.has(keyOf(x)))
  const byOrder = (order: unknown[]) => (a: unknown, b: unknown) => {
    const ia = indexIn(order, a)
    const ib = indexIn(order, b)
    return ia >= 0 && ib >= 0 ? ia - ib : 0
  }
  fromPatch.sort(byOrder(patchOrder))
  serverOnly.sort(byOrder(serverOrder))
  const out: unknown[] = []
  let i = 0
  let j = 0
  while (i < serverOnly.length || j < fromPatch.length) {
    if (j >= fromPatch.length) {
      out.push(serverOnly[i++])
      continue
    }
    if (i >= serverOnly.length) {
      out.push(fromPatch[j++])
      continue
    }
    const li = indexIn(serverOrder, serverOnly[i])
    const ri = indexIn(serverOrder, fromPatch[j])
    if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++])
    else out.push(fromPatch[j++])
  }
  return out
}
