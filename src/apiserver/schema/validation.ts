// Value validation of a custom object by its CRD schema, compiled once per schema with ajv.
// Errors come out as Kubernetes field errors: path, bad value, rule.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { JSONSchemaProps } from './json-schema-props.ts'
import { fieldError, joinPath, type FieldError } from './field-errors.ts'

// ajv-formats is CommonJS with `exports.default`; under nodenext its default import is the module object.
const addFormats = addFormatsModule.default

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: true })
addFormats(ajv, ['date-time', 'date', 'time', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'byte', 'password', 'binary', 'duration'])
for (const f of [
  'int32',
  'int64',
  'float',
  'double',
  'quantity',
  'cidr',
  'mac',
  'isbn',
  'creditcard',
  'ssn',
  'hexcolor',
  'rgbcolor',
  'datetime',
]) {
  ajv.addFormat(f, true)
}

const compiled = new WeakMap<JSONSchemaProps, ValidateFunction>()

/** Converts OpenAPI v3.0 (Kubernetes flavour) to the JSON Schema draft-07 ajv speaks. */
function toAjv(s: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'example' || k === 'externalDocs' || k === 'description' || k === 'default') continue
    if (k === 'properties')
      out.properties = Object.fromEntries(Object.entries(v as Record<string, JSONSchemaProps>).map(([pk, pv]) => [pk, toAjv(pv)]))
    else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = toAjv(v as JSONSchemaProps)
    else if (k === 'oneOf' || k === 'anyOf' || k === 'allOf') out[k] = (v as JSONSchemaProps[]).map(toAjv)
    else if (k === 'exclusiveMinimum' || k === 'exclusiveMaximum') continue
    else out[k] = v
  }
  // Unknown fields are pruned before validation, never rejected by the schema itself.
  if (out.additionalProperties === false) delete out.additionalProperties
  if (s.exclusiveMinimum === true && s.minimum !== undefined) {
    out.exclusiveMinimum = s.minimum
    delete out.minimum
  }
  if (s.exclusiveMaximum === true && s.maximum !== undefined) {
    out.exclusiveMaximum = s.maximum
    delete out.maximum
  }
  if (s['x-kubernetes-int-or-string']) {
    delete out.type
    out.anyOf = [...((out.anyOf as unknown[]) ?? []), { type: 'integer' }, { type: 'string' }]
  }
  if (s.nullable && s.type) {
    out.type = [s.type, 'null']
    delete out.nullable
  }
  if (s.nullable && s.enum && !s.enum.includes(null)) out.enum = [...s.enum, null]
  return out
}

function compile(s: JSONSchemaProps): ValidateFunction {
  let v = compiled.get(s)
  if (!v) {
    v = ajv.compile(toAjv(s))
    compiled.set(s, v)
  }
  return v
}

/** Validation errors of `value` against `s`; `base` is the field path of `value` itself. */
export function validateValue(s: JSONSchemaProps, value: unknown, base = ''): FieldError[] {
  const validate = compile(s)
  const errors: FieldError[] = []
  if (!validate(value)) errors.push(...mapErrors(validate.errors ?? [], base))
  checkListUniqueness(s, value, base, errors)
  return errors
}

function pathOf(base: string, instancePath: string): string {
  let p = base
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    p = joinPath(p, /^\d+$/.test(seg) ? Number(seg) : seg)
  }
  return p
}

function mapErrors(errs: ErrorObject[], base: string): FieldError[] {
  // With allErrors ajv also reports every failing branch inside oneOf/anyOf; the junctor's own error says it better.
  const junctorPaths = errs.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.schemaPath)
  const out: FieldError[] = []
  const seen = new Set<string>()
  for (const e of errs) {
    if (junctorPaths.some((jp) => e.schemaPath !== jp && e.schemaPath.startsWith(`${jp}/`))) continue
    const fe = mapError(e, base)
    if (!seen.has(fe.message)) {
      seen.add(fe.message)
      out.push(fe)
    }
  }
  return out
}

/** The JSON type name kube's schema validator reports for a value ("integer" for whole numbers). */
function jsonTypeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

// Details follow kube-openapi's wording and field.Error's shape (apiextensions-apiserver's
// kubeOpenAPIResultToFieldErrors): required → Required, enum → NotSupported, maxLength → TooLong,
// maxItems/maxProperties → TooMany, type and format → TypeInvalid, everything else → Invalid.
function mapError(e: ErrorObject, base: string): FieldError {
  const field = pathOf(base, e.instancePath)
  const p = e.params as Record<string, unknown>
  const sch = e.parentSchema as Record<string, unknown> | undefined
  switch (e.keyword) {
    case 'required':
      return fieldError(joinPath(field, String(p.missingProperty)), 'FieldValueRequired', '')
    case 'enum':
      return fieldError(
        field,
        'FieldValueNotSupported',
        `supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`,
        e.data,
      )
    case 'type': {
      const actual = jsonTypeName(e.data)
      return fieldError(
        field,
        'FieldValueTypeInvalid',
        `${field} in body must be of type ${[p.type].flat().join(',')}: ${JSON.stringify(actual)}`,
        actual,
      )
    }
    case 'pattern':
      return fieldError(field, 'FieldValueInvalid', `${field} in body should match '${p.pattern}'`, e.data)
    case 'format':
      return fieldError(field, 'FieldValueTypeInvalid', `${field} in body must be of type ${p.format}: ${JSON.stringify(e.data)}`, e.data)
    case 'minimum':
    case 'exclusiveMinimum':
      return fieldError(
        field,
        'FieldValueInvalid',
        `${field} in body should be greater than ${e.keyword === 'minimum' ? 'or equal to ' : ''}${p.limit}`,
        e.data,
      )
    case 'maximum':
    case 'exclusiveMaximum':
      return fieldError(
        field,
        'FieldValueInvalid',
        `${field} in body should be less than ${e.keyword === 'maximum' ? 'or equal to ' : ''}${p.limit}`,
        e.data,
      )
    case 'maxLength':
      return fieldError(field, 'FieldValueTooLong', `may not be more than ${p.limit} ${p.limit === 1 ? 'byte' : 'bytes'}`)
    case 'minLength':
      return fieldError(field, 'FieldValueInvalid', `${field} in body should be at least ${p.limit} chars long`, e.data)
    case 'maxItems':
    case 'maxProperties':
      return fieldError(field, 'FieldValueTooMany', `must have at most ${p.limit} ${p.limit === 1 ? 'item' : 'items'}`, e.data)
    case 'minItems':
    case 'minProperties':
      return fieldError(
        field,
        'FieldValueInvalid',
        `${field} in body should have at least ${p.limit} ${e.keyword === 'minItems' ? 'items' : 'properties'}`,
        e.data,
      )
    case 'multipleOf':
      return fieldError(field, 'FieldValueInvalid', `${field} in body should be a multiple of ${p.multipleOf}`, e.data)
    case 'uniqueItems':
      return fieldError(field, 'FieldValueInvalid', `${field} in body shouldn't contain duplicates`, e.data)
    case 'oneOf':
    case 'anyOf': {
      const branches = (sch?.[e.keyword] as JSONSchemaProps[] | undefined) ?? []
      const onlyRequired = branches.length > 0 && branches.every((b) => Object.keys(b).length === 1 && b.required?.length === 1)
      const detail = onlyRequired
        ? `${e.keyword === 'oneOf' ? 'exactly one' : 'at least one'} of ${branches.map((b) => b.required![0]).join(', ')} must be set`
        : `must validate ${e.keyword === 'oneOf' ? 'one and only one schema (oneOf)' : 'at least one schema (anyOf)'}`
      return fieldError(field, 'FieldValueInvalid', detail, e.data)
    }
    case 'not':
      return fieldError(field, 'FieldValueInvalid', 'must not validate the schema (not)', e.data)
    default:
      return fieldError(field, 'FieldValueInvalid', e.message ?? e.keyword, e.data)
  }
}

// list-type map keys and set members must be unique, as the apiserver enforces for SSA's sake.
function checkListUniqueness(s: JSONSchemaProps, value: unknown, path: string, out: FieldError[]): void {
  if (Array.isArray(value)) {
    const lt = s['x-kubernetes-list-type']
    if (lt === 'set' || lt === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? []
      const seen = new Set<string>()
      value.forEach((item, i) => {
        const id =
          lt === 'set' ? JSON.stringify(item) : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k] ?? null))
        if (seen.has(id))
          out.push(
            fieldError(
              joinPath(path, i),
              'FieldValueDuplicate',
              lt === 'set'
                ? 'duplicate entries in set'
                : `duplicate entries for key ${keys.map((k) => `[${k}=${JSON.stringify((item as Record<string, unknown>)[k])}]`).join(',')}`,
              item,
            ),
          )
        seen.add(id)
      })
    }
    if (s.items) {
      for (const [i, item] of value.entries()) checkListUniqueness(s.items, item, joinPath(path, i), out)
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const ps = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined)
      if (ps) checkListUniqueness(ps, v, joinPath(path, k), out)
    }
  }
}
