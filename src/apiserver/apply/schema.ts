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
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: { type: 'integer' },
    creationTimestamp: str,
    deletionTimestamp: str,
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
    ownerReferences: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: {
        type: 'object',
        properties: {
          apiVersion: str,
          kind: str,
          name: str,
          uid: str,
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
      },
    },
    managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  },
}

const roots = new WeakMap<JSONSchemaProps, TypeNode>()
let untypedRoot: TypeNode | undefined

/** The root of a resource: the given schema, but metadata is always ObjectMeta (cached per schema object). */
export function rootNode(schema: JSONSchemaProps | undefined): TypeNode {
  if (schema === undefined) return (untypedRoot ??= buildRoot(undefined))
  let root = roots.get(schema)
  if (!root) {
    root = buildRoot(schema)
    roots.set(schema, root)
  }
  return root
}

function buildRoot(schema: JSONSchemaProps | undefined): TypeNode {
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

const SCALAR: Shape = { kind: 'scalar' }

function deduce(v: unknown): Shape {
  if (isPlainObject(v)) return deducedMap
  if (Array.isArray(v)) return atomicList
  return SCALAR
}

/** The shape a schema node declares, worked out once per node (writes walk the same schema nodes over and over). */
const declaredShapes = new WeakMap<JSONSchemaProps, Shape | 'by-value' | 'atomic-by-value'>()

function declaredShape(node: JSONSchemaProps): Shape | 'by-value' | 'atomic-by-value' {
  const cached = declaredShapes.get(node)
  if (cached) return cached
  let shape: Shape | 'by-value' | 'atomic-by-value'
  const isArray = node.type === 'array' || (node.type === undefined && node.items !== undefined)
  const isObject =
    node.type === 'object' || (node.type === undefined && (node.properties !== undefined || node.additionalProperties !== undefined))
  if (node['x-kubernetes-int-or-string']) {
    shape = SCALAR
  } else if (isArray) {
    shape = {
      kind: 'list',
      rel: node['x-kubernetes-list-type'] ?? 'atomic',
      keys: node['x-kubernetes-list-map-keys'] ?? [],
      item: node.items ?? 'deduced',
    }
  } else if (isObject) {
    const props = node.properties ?? {}
    const extra = node.additionalProperties
    const elem = { node: (typeof extra === 'object' ? extra : 'deduced') as TypeNode, declared: false }
    const fields = new Map(Object.entries(props).map(([k, v]) => [k, { node: v as TypeNode, declared: true }]))
    shape = { kind: 'map', atomic: node['x-kubernetes-map-type'] === 'atomic', field: (name) => fields.get(name) ?? elem }
  } else if (node.type === undefined) {
    shape = node['x-kubernetes-map-type'] === 'atomic' ? 'atomic-by-value' : 'by-value'
  } else {
    shape = SCALAR
  }
  declaredShapes.set(node, shape)
  return shape
}

/**
 * The shape of a value under a schema node. A value of the wrong JSON kind for its schema is
 * handled as a scalar (a leaf), so apply stays total; validation reports it separately.
 */
export function shapeOf(node: TypeNode, value: unknown): Shape {
  if (node === 'deduced') return deduce(value)
  const shape = declaredShape(node)
  if (shape === 'by-value') return deduce(value)
  if (shape === 'atomic-by-value') {
    const d = deduce(value)
    return d.kind === 'map' ? { ...d, atomic: true } : d
  }
  if (value === undefined || value === null) return shape
  if (shape.kind === 'list' && !Array.isArray(value)) return SCALAR
  if (shape.kind === 'map' && !isPlainObject(value)) return SCALAR
  return shape
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
    throw new ApplyError(
      `${where}: associative list with keys has an element that omits key field ${missing.map((m) => JSON.stringify(m)).join(', ') || '(a key is not a scalar)'}; add the key field(s) ${shape.keys.join(', ')}`,
    )
  }
  throw new ApplyError(`${where}: list item cannot be keyed`)
}
