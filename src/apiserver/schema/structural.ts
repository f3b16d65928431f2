// Checks a CRD's openAPIV3Schema against the apiextensions.k8s.io/v1 structural-schema rules,
// so a schema that a real kube-apiserver would refuse is refused here too.

import { childSchemas, JUNCTORS, type JSONSchemaProps } from './json-schema-props.ts'
import { pruneUnknown, validateDefault } from './defaulting.ts'

const FORBIDDEN_IN_JUNCTORS = [
  'type',
  'default',
  'additionalProperties',
  'nullable',
  'description',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
] as const

const UNSUPPORTED = ['$ref', '$schema', 'definitions', 'dependencies', 'additionalItems', 'patternProperties', 'id'] as const

const SCALAR = new Set(['string', 'integer', 'number', 'boolean'])

/** Every rule a structural schema breaks, each as "<path>: <what is wrong>". Empty when the schema is structural. */
export function structuralViolations(root: JSONSchemaProps): string[] {
  const out: string[] = []
  if (root.type !== 'object') out.push('openAPIV3Schema.type: Required value: must be object at the root')
  walk(root, 'openAPIV3Schema', out, true)
  const meta = root.properties?.metadata
  if (meta) {
    const extra = Object.keys(meta).filter((k) => !['type', 'properties', 'description'].includes(k))
    if (extra.length) out.push(`openAPIV3Schema.properties[metadata]: Forbidden: must not set ${extra.join(', ')}`)
    for (const k of Object.keys(meta.properties ?? {})) {
      if (k !== 'name' && k !== 'generateName')
        out.push(`openAPIV3Schema.properties[metadata].properties[${k}]: Forbidden: only name and generateName may be restricted`)
    }
  }
  return out
}

function walk(s: JSONSchemaProps, path: string, out: string[], root = false): void {
  for (const k of UNSUPPORTED) if (k in s) out.push(`${path}.${k}: Forbidden: not supported in apiextensions.k8s.io/v1`)
  const intOrString = s['x-kubernetes-int-or-string'] === true
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true
  if (!s.type && !intOrString && !preserve) out.push(`${path}.type: Required value: must not be empty for specified object fields`)
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    out.push(`${path}.additionalProperties: Forbidden: additionalProperties and properties are mutually exclusive`)
  }
  if (s.additionalProperties === false && !root) {
    // kube-apiserver accepts false only together with properties; it is the default meaning anyway.
    if (!s.properties) out.push(`${path}.additionalProperties: Forbidden: must not be false without properties`)
  }
  if (s.type === 'array' && !s.items) out.push(`${path}.items: Required value: must be specified for arrays`)
  if (s.items && s.type !== 'array') out.push(`${path}.items: Forbidden: only allowed on arrays`)
  if (s.properties && s.type && s.type !== 'object') out.push(`${path}.properties: Forbidden: only allowed on objects`)
  checkListType(s, path, out)
  if (s.default !== undefined) {
    for (const e of validateDefault(s, s.default, `${path}.default`)) out.push(e)
    const pruned = pruneUnknown(s, structuredClone(s.default), `${path}.default`)
    for (const p of pruned) out.push(`${p}: Forbidden: defaults must not contain fields the schema prunes`)
  }
  for (const j of JUNCTORS) {
    const branches = j === 'not' ? (s.not ? [s.not] : []) : (s[j] ?? [])
    branches.forEach((b, i) => {
      checkJunctor(b, s, `${path}.${j}[${i}]`, out)
    })
  }
  for (const [seg, child] of childSchemas(s)) walk(child, `${path}${seg.startsWith('.') ? `.properties[${seg.slice(1)}]` : '.items'}`, out)
}

function checkListType(s: JSONSchemaProps, path: string, out: string[]): void {
  const lt = s['x-kubernetes-list-type']
  if (lt && s.type !== 'array') out.push(`${path}.x-kubernetes-list-type: Forbidden: only allowed on arrays`)
  if (lt === 'set' && s.items && !SCALAR.has(s.items.type ?? '')) out.push(`${path}.items.type: Invalid value: sets need scalar items`)
  const keys = s['x-kubernetes-list-map-keys']
  if (lt === 'map') {
    if (!keys?.length) out.push(`${path}.x-kubernetes-list-map-keys: Required value: list-type map needs keys`)
    if (s.items?.type !== 'object') out.push(`${path}.items.type: Invalid value: list-type map needs object items`)
    for (const k of keys ?? []) {
      const ks = s.items?.properties?.[k]
      if (!ks) out.push(`${path}.x-kubernetes-list-map-keys: Invalid value: "${k}" is not a property of the items`)
      else {
        if (!SCALAR.has(ks.type ?? '')) out.push(`${path}.items.properties[${k}].type: Invalid value: map keys must be scalar`)
        if (!s.items?.required?.includes(k) && ks.default === undefined)
          out.push(`${path}.items.properties[${k}]: Required value: map keys must be required or have a default`)
      }
    }
  } else if (keys) out.push(`${path}.x-kubernetes-list-map-keys: Forbidden: only with x-kubernetes-list-type map`)
}

// Inside oneOf/anyOf/allOf/not only value validations may appear, and only on fields the outer schema declares.
function checkJunctor(b: JSONSchemaProps, outer: JSONSchemaProps, path: string, out: string[]): void {
  for (const k of FORBIDDEN_IN_JUNCTORS) if (k in b) out.push(`${path}.${k}: Forbidden: must not be used inside ${path.split('.').pop()}`)
  for (const [k, sub] of Object.entries(b.properties ?? {})) {
    const o = outer.properties?.[k]
    if (!o) out.push(`${path}.properties[${k}]: Forbidden: must be declared in the outer schema too`)
    else checkJunctor(sub, o, `${path}.properties[${k}]`, out)
  }
  for (const k of b.required ?? []) {
    if (outer.properties && !(k in outer.properties))
      out.push(`${path}.required: Invalid value: "${k}" is not declared in the outer schema`)
  }
  if (b.items) {
    if (!outer.items) out.push(`${path}.items: Forbidden: must be declared in the outer schema too`)
    else checkJunctor(b.items, outer.items, `${path}.items`, out)
  }
  for (const j of JUNCTORS) {
    const branches = j === 'not' ? (b.not ? [b.not] : []) : (b[j] ?? [])
    branches.forEach((bb, i) => {
      checkJunctor(bb, outer, `${path}.${j}[${i}]`, out)
    })
  }
}
