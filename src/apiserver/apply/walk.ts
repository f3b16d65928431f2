// The four schema-aware walks server-side apply is built from, with structured-merge-diff's
// semantics: the set of fields a value sets, merging an apply configuration into a live object,
// comparing two objects (added/removed/modified fields), and removing a set of fields.

import { isDeepStrictEqual } from 'node:util'
import { FieldSet, pathString, type PathElement } from './fieldset.ts'
import { shapeOf, itemElement, requireItemElement, isPlainObject, type TypeNode, type Shape } from './schema.ts'
import { ApplyError } from './errors.ts'

type ListShape = Extract<Shape, { kind: 'list' }>

/**
 * The fields a value sets: every scalar, every atomic list/map as a whole, every list item (with
 * `.` when it has fields below), and map entries that are null, empty, or not declared fields.
 * `strict` (for apply configurations) rejects list items without keys and duplicate items.
 */
export function toFieldSet(value: unknown, node: TypeNode, strict: boolean): FieldSet {
  const set = new FieldSet()
  walkFields(value, node, [], set, strict)
  return set
}

function walkFields(v: unknown, node: TypeNode, path: PathElement[], set: FieldSet, strict: boolean): void {
  if (v === null || v === undefined) return
  const shape = shapeOf(node, v)
  if (shape.kind === 'scalar') {
    set.insert(path)
    return
  }
  if (shape.kind === 'map') {
    if (shape.atomic) {
      set.insert(path)
      return
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const f = shape.field(k)
      const p = [...path, `f:${k}`]
      walkFields(child, f.node, p, set, strict)
      if (child === null || (isPlainObject(child) && Object.keys(child).length === 0) || !f.declared) set.insert(p)
    }
    return
  }
  if (shape.rel === 'atomic') {
    set.insert(path)
    return
  }
  const seen = new Set<string>()
  ;(v as unknown[]).forEach((item, i) => {
    let pe: PathElement | undefined
    if (strict) pe = requireItemElement(shape, item, pathString(path) || '.')
    else pe = itemElement(shape, item) ?? `i:${i}`
    if (seen.has(pe)) {
      if (strict)
        throw new ApplyError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}; each item of this list must be unique`)
      return
    }
    seen.add(pe)
    const p = [...path, pe]
    walkFields(item, shape.item, p, set, strict)
    set.insert(p)
  })
}

const isEmptyContainer = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0)

/**
 * Merges rhs (the apply configuration) into lhs (the live object); rhs wins on scalars and atomics.
 * The result shares unchanged subtrees with both inputs: copy it before changing it.
 */
export function merge(lhs: unknown, rhs: unknown, node: TypeNode): unknown {
  if (rhs === undefined) return lhs
  if (lhs === undefined) return rhs
  const shape = shapeOf(node, rhs)
  if (isEmptyContainer(lhs) && isEmptyContainer(rhs)) return rhs
  if (shape.kind === 'map' && !shape.atomic && isPlainObject(lhs) && isPlainObject(rhs)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(lhs)) out[k] = Object.hasOwn(rhs, k) ? merge(v, rhs[k], shape.field(k).node) : v
    for (const [k, v] of Object.entries(rhs)) if (!Object.hasOwn(lhs, k)) out[k] = v
    return out
  }
  if (shape.kind === 'list' && shape.rel !== 'atomic' && Array.isArray(lhs) && Array.isArray(rhs)) return mergeList(lhs, rhs, shape)
  return rhs
}

/**
 * Items are matched by key. Shared items follow the configuration's order; items only in the live
 * list stay where they were relative to their neighbours; new items come where the configuration
 * puts them.
 */
function mergeList(lhs: unknown[], rhs: unknown[], shape: ListShape): unknown[] {
  const lPE = lhs.map((item, i) => itemElement(shape, item) ?? `i:${i}`)
  const rPE = rhs.map((item) => itemElement(shape, item)!)
  // A key the live list holds twice is replaced by the configuration's item, not merged into either copy.
  const lIndex = new Map<string, unknown>()
  const duplicated = new Set<string>()
  lhs.forEach((item, i) => {
    if (lIndex.has(lPE[i]!)) duplicated.add(lPE[i]!)
    else lIndex.set(lPE[i]!, item)
  })
  for (const pe of duplicated) lIndex.set(pe, undefined)
  const rIndex = new Map<string, unknown>(rhs.map((item, i) => [rPE[i]!, item]))
  const shared = rPE.filter((pe) => lIndex.has(pe))
  let nextShared = 0
  const mergedPEs = new Set<string>()
  const out: unknown[] = []
  const mergeItem = (pe: string, r: unknown): void => {
    mergedPEs.add(pe)
    out.push(shape.rel === 'set' ? r : merge(lIndex.get(pe), r, shape.item))
    if (shared[nextShared] === pe) nextShared++
  }
  let li = 0
  let ri = 0
  while (li < lhs.length || ri < rhs.length) {
    if (li < lhs.length && ri < rhs.length) {
      const pe = lPE[li]!
      if (pe === rPE[ri] && !mergedPEs.has(pe)) {
        mergeItem(pe, rhs[ri])
        li++
        ri++
        continue
      }
      // A shared item the configuration places later: it is emitted when the configuration gets there.
      if (rIndex.has(pe) && !mergedPEs.has(pe) && shared[nextShared] !== undefined && shared[nextShared] !== pe) {
        li++
        continue
      }
    }
    if (li < lhs.length) {
      const pe = lPE[li]!
      if (!rIndex.has(pe)) {
        out.push(lhs[li])
        li++
        continue
      }
      if (mergedPEs.has(pe)) {
        li++
        continue
      }
    }
    if (ri < rhs.length) {
      mergeItem(rPE[ri]!, rhs[ri])
      ri++
      continue
    }
    li++
  }
  return out
}

export interface Comparison {
  added: FieldSet
  removed: FieldSet
  modified: FieldSet
}

/** Which fields rhs adds, removes or changes relative to lhs (containers count as added/removed too). */
export function compare(lhs: unknown, rhs: unknown, node: TypeNode): Comparison {
  const c: Comparison = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() }
  walkCompare(lhs, rhs, node, [], c)
  return c
}

// `path` is one array pushed and popped along the walk; FieldSet.insert copies what it keeps.
function walkCompare(l: unknown, r: unknown, node: TypeNode, path: PathElement[], c: Comparison): void {
  // The same value (or the very same object) on both sides: nothing below changed.
  if (l === r) return
  const ls = l === undefined ? undefined : shapeOf(node, l)
  const rs = r === undefined ? undefined : shapeOf(node, r)
  const shape = (rs ?? ls)!
  const kindsDiffer =
    ls !== undefined &&
    rs !== undefined &&
    (ls.kind !== rs.kind || Array.isArray(l) !== Array.isArray(r) || isPlainObject(l) !== isPlainObject(r))
  const leaf =
    kindsDiffer ||
    shape.kind === 'scalar' ||
    (shape.kind === 'map' && shape.atomic) ||
    (shape.kind === 'list' && shape.rel === 'atomic') ||
    (isEmptyContainer(l) && isEmptyContainer(r)) ||
    (l !== undefined && l !== null && typeof l !== 'object') ||
    (r !== undefined && r !== null && typeof r !== 'object')
  if (leaf) {
    if (l === undefined) c.added.insert(path)
    else if (r === undefined) c.removed.insert(path)
    else if (l !== r && (typeof l === 'object' || typeof r === 'object' ? !isDeepStrictEqual(l, r) : true)) c.modified.insert(path)
    return
  }
  if (shape.kind === 'map') {
    const lo = isPlainObject(l) ? l : EMPTY
    const ro = isPlainObject(r) ? r : EMPTY
    for (const k in lo) {
      path.push(`f:${k}`)
      walkCompare(lo[k], ro[k], shape.field(k).node, path, c)
      path.pop()
    }
    for (const k in ro) {
      if (Object.hasOwn(lo, k)) continue
      path.push(`f:${k}`)
      walkCompare(undefined, ro[k], shape.field(k).node, path, c)
      path.pop()
    }
  } else if (shape.kind === 'list') {
    const dups = new Set<string>()
    const items = (v: unknown): Map<string, unknown> => {
      const m = new Map<string, unknown>()
      if (Array.isArray(v))
        v.forEach((item, i) => {
          const pe = itemElement(shape, item) ?? `i:${i}`
          if (m.has(pe)) dups.add(pe)
          else m.set(pe, item)
        })
      return m
    }
    const li = items(l)
    const ri = items(r)
    for (const pe of new Set([...li.keys(), ...ri.keys()])) {
      path.push(pe)
      // An item whose key is duplicated on either side cannot be compared: it counts as removed and re-added.
      if (dups.has(pe)) {
        if (li.has(pe)) c.removed.insert(path)
        if (ri.has(pe)) c.added.insert(path)
      } else {
        walkCompare(li.get(pe), ri.get(pe), shape.item, path, c)
      }
      path.pop()
    }
  }
  if (l === undefined || l === null) c.added.insert(path)
  else if (r === undefined || r === null) c.removed.insert(path)
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>

/**
 * The value without the fields in `set` (a member removes its whole subtree). A map or list that
 * removal empties disappears too, as kube-apiserver stores it after dropping the resulting nulls,
 * unless `owned` has it as a member (owned or set empty on purpose), in which case it stays, empty.
 */
export function removeFields(value: unknown, set: FieldSet | undefined, node: TypeNode, owned?: FieldSet): unknown {
  if (!set || set.isEmpty() || value === null || typeof value !== 'object') return value
  const shape = shapeOf(node, value)
  const emptied = (out: object, before: number): unknown =>
    before > 0 && (Array.isArray(out) ? out.length : Object.keys(out).length) === 0 && !owned?.member ? undefined : out
  if (shape.kind === 'map' && !shape.atomic && isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const sub = set.child(`f:${k}`)
      if (sub?.member) continue
      const nv = sub ? removeFields(v, sub, shape.field(k).node, owned?.child(`f:${k}`)) : v
      if (nv !== undefined) out[k] = nv
    }
    return emptied(out, Object.keys(value).length)
  }
  if (shape.kind === 'list' && shape.rel !== 'atomic' && Array.isArray(value)) {
    const out: unknown[] = []
    value.forEach((item, i) => {
      const pe = itemElement(shape, item) ?? `i:${i}`
      const sub = set.child(pe)
      if (sub?.member) return
      const nv = sub ? removeFields(item, sub, shape.item, owned?.child(pe)) : item
      if (nv !== undefined) out.push(nv)
    })
    return emptied(out, value.length)
  }
  return value
}

/**
 * The set plus every declared struct field that has members below it (structured-merge-diff's
 * EnsureNamedFieldsAreMembers): pruning treats `spec.server` as applied when `spec.server.port` was,
 * so a struct nobody else has a field in goes as a whole.
 */
export function withNamedFields(set: FieldSet, node: TypeNode): FieldSet {
  const out = new FieldSet()
  out.member = set.member
  const shape = shapeOf(node, undefined)
  for (const [pe, child] of set.children) {
    let childNode: TypeNode = 'deduced'
    let named = false
    if (pe.startsWith('f:') && shape.kind === 'map') {
      const f = shape.field(pe.slice(2))
      childNode = f.node
      named = f.declared
    } else if (!pe.startsWith('f:') && shape.kind === 'list') {
      childNode = shape.item
    }
    const c = withNamedFields(child, childNode)
    if (named) c.member = true
    out.children.set(pe, c)
  }
  return out
}
