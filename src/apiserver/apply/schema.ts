// How server-side apply sees a value's type: a scalar, a map (granular or atomic; struct fields are
// "declared"), or a list (atomic, set, or map keyed by x-kubernetes-list-map-keys), derived from a
// CRD's structural schema. Where the schema says nothing (preserve-unknown-fields, no schema), the
// type is deduced from the value as structured-merge-diff does: objects granular, lists atomic.

import type { JSONSchemaProps } from '../schema/index.ts'
import { ApplyError } from './errors.ts'
import type { PathElement } from './fieldset.ts'

/** A schema node, or 'deduced' for values the schema leaves untyped. */
export type TypeNode = JSONSchemaProps | 'deduced'

export type Shape =
  | { kind: 'scalar' }
  | { kind: 'map'; atomic: boolean; field: (name: string) => { node: TypeNode; declared: boolean } }
  | { kind: 'list'; rel: 'atomic' | 'set' | 'map'; keys: readonly string[]; item: TypeNode }

const str: JSONSchemaProps = { type: 'string' }
const stringMap: JSONSchemaProps = { type: 'object', additionalProperties: str }

/** metav1.ObjectMeta as structured-merge-diff types it (labels/annotations granular, finalizers a set, ownerReferences keyed by uid). */
export const OBJECT_META_SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    name: str, generateName: str, namespace: str, selfLink: str, uid: str, resourceVersion: str,
    generation: { type: 'integer' }, creationTimestamp: str, deletionTimestamp: str, deletionGracePeriodSeconds: { type: 'integer' },
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
    ownerReferences: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: { type: 'object', properties: { apiVersion: str, kind: str, name: str, uid: str, controller: { type: 'boolean' }, blockOwnerDeletion: { type: 'boolean' } } },
    },
    managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  },
}

/** The root of a resource: the given schema, but metadata is always ObjectMeta. */
export function rootNode(schema: JSONSchemaProps | undefined): TypeNode {
  const props = { ...(schema?.properties ?? {}) }
  props.metadata = OBJECT_META_SCHEMA
  props.apiVersion ??= str
  props.kind ??= str
  return { ...(schema ?? { 'x-kubernetes-preserve-unknown-fields': true }), type: 'object', properties: props }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const deducedMap: Shape = { kind: 'map', atomic: false, field: () => ({ node: 'deduced', declared: false }) }
const atomicList: Shape = { kind: 'list', rel: 'atomic', keys: [], item: 'deduced' }

function deduce(v: unknown): Shape {
  if (isPlainObject(v)) return deducedMap
  if (Array.isArray(v)) return atomicList
  return { kind: 'scalar' }
}

/**
 * The shape of a value under a schema node. A value of the wrong JSON kind for its schema is
 * handled as a scalar (a leaf), so apply stays total; validation reports it separately.
 */
export function shapeOf(node: TypeNode, value: unknown): Shape {
  if (node === 'deduced') return deduce(value)
  if (node['x-kubernetes-int-or-string']) return { kind: 'scalar' }
  const isArray = node.type === 'array' || (node.type === undefined && node.items !== undefined)
  const isObject = node.type === 'object' || (node.type === undefined && (node.properties !== undefined || node.additionalProperties !== undefined))
  if (isArray) {
    if (value !== undefined && value !== null && !Array.isArray(value)) return { kind: 'scalar' }
    return { kind: 'list', rel: node['x-kubernetes-list-type'] ?? 'atomic', keys: node['x-kubernetes-list-map-keys'] ?? [], item: node.items ?? 'deduced' }
  }
  if (isObject) {
    if (value !== undefined && value !== null && !isPlainObject(value)) return { kind: 'scalar' }
    const props = node.properties ?? {}
    const extra = node.additionalProperties
    const elem: TypeNode = typeof extra === 'object' ? extra : 'deduced'
    return {
      kind: 'map',
      atomic: node['x-kubernetes-map-type'] === 'atomic',
      field: (name) => (Object.hasOwn(props, name) ? { node: props[name]!, declared: true } : { node: elem, declared: false }),
    }
  }
  if (node.type === undefined) {
    const d = deduce(value)
    return d.kind === 'map' && node['x-kubernetes-map-type'] === 'atomic' ? { ...d, atomic: true } : d
  }
  return { kind: 'scalar' }
}

/**
 * The path element of a list item: `v:<json>` in a set, `k:{"key":...}` in a list map (missing key
 * fields take the schema default), or undefined when the item cannot be keyed.
 */
export function itemElement(shape: Extract<Shape, { kind: 'list' }>, item: unknown): PathElement | undefined {
  if (shape.rel === 'set') return `v:${JSON.stringify(item)}`
  if (shape.rel !== 'map' || !isPlainObject(item)) return undefined
  const key: Record<string, unknown> = {}
  const itemShape = shapeOf(shape.item, item)
  for (const k of [...shape.keys].sort()) {
    let v = item[k]
    if (v === undefined && itemShape.kind === 'map') {
      const f = itemShape.field(k).node
      if (f !== 'deduced') v = f.default
    }
    if (v === undefined || (v !== null && typeof v === 'object')) return undefined
    key[k] = v
  }
  return `k:${JSON.stringify(key)}`
}

/** Like itemElement, but an applied item that cannot be keyed is the caller's mistake. */
export function requireItemElement(shape: Extract<Shape, { kind: 'list' }>, item: unknown, where: string): PathElement {
  const pe = itemElement(shape, item)
  if (pe !== undefined) return pe
  if (shape.rel === 'map') {
    if (!isPlainObject(item)) throw new ApplyError(`${where}: items of a list with x-kubernetes-list-type=map must be objects`)
    const missing = shape.keys.filter((k) => item[k] === undefined)
    throw new ApplyError(`${where}: associative list with keys has an element that omits key field ${missing.map((m) => JSON.stringify(m)).join(', ') || '(a key is not a scalar)'}; add the key field(s) ${shape.keys.join(', ')}`)
  }
  throw new ApplyError(`${where}: list item cannot be keyed`)
}
