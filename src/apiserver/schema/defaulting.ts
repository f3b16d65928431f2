// Defaulting and pruning of a custom object by its structural schema, as kube-apiserver does on every write.

import type { JSONSchemaProps } from './json-schema-props.ts'
import { joinPath } from './field-errors.ts'
import { validateValue } from './validation.ts'

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Fills absent fields that declare a default, recursing into present and newly defaulted values.
 * Mutates and returns `value`. Like Kubernetes, a default applies only where its parent exists.
 */
export function applyDefaults(s: JSONSchemaProps, value: unknown): unknown {
  if (isObject(value)) {
    for (const [k, ps] of Object.entries(s.properties ?? {})) {
      if (value[k] === undefined && ps.default !== undefined) value[k] = structuredClone(ps.default)
      if (value[k] !== undefined && value[k] !== null) applyDefaults(ps, value[k])
    }
    if (isObject(s.additionalProperties)) {
      for (const k of Object.keys(value)) if (value[k] !== null) applyDefaults(s.additionalProperties, value[k])
    }
  } else if (Array.isArray(value) && s.items) {
    for (const item of value) if (item !== null) applyDefaults(s.items, item)
  }
  return value
}

/**
 * Removes fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields) and returns
 * their paths, so callers can warn or refuse (fieldValidation Strict/Warn) or drop them silently (Ignore).
 * At the root, apiVersion, kind and metadata are always kept.
 */
export function pruneUnknown(s: JSONSchemaProps, value: unknown, path = '', root = false): string[] {
  const pruned: string[] = []
  walkPrune(s, value, path, root, pruned)
  return pruned
}

function walkPrune(s: JSONSchemaProps, value: unknown, path: string, root: boolean, pruned: string[]): void {
  if (isObject(value)) {
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true
    const embedded = s['x-kubernetes-embedded-resource'] === true
    for (const k of Object.keys(value)) {
      // ObjectMeta is the server's business, whatever the schema says of it.
      if ((root || embedded) && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue
      const p = joinPath(path, k)
      const ps = s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined)
      if (ps) {
        walkPrune(ps, value[k], p, false, pruned)
        continue
      }
      if (preserve || s.additionalProperties === true) continue
      delete value[k]
      pruned.push(p)
    }
  } else if (Array.isArray(value) && s.items) {
    value.forEach((item, i) => {
      walkPrune(s.items!, item, joinPath(path, i), false, pruned)
    })
  }
}

/** Errors of a declared default against its own schema, as "<path>: <message>". */
export function validateDefault(s: JSONSchemaProps, value: unknown, path: string): string[] {
  const withDefaults = applyDefaults(s, structuredClone(value))
  return validateValue(s, withDefaults, path).map((e) => e.message)
}
