// Validation and defaulting of our resources, compiled from crds/ — the same rules the API server applies,
// usable at the edge (portal API, CLI) before anything is written.

import { applyDefaults, fieldError, pruneUnknown, validateValue, type FieldError } from '../apiserver/schema/index.ts'
import { loadCrds, schemaForKind } from './crds.ts'
import { API_VERSION } from './kinds.ts'

export type { FieldError } from '../apiserver/schema/index.ts'

export interface ValidationResult<T = Record<string, unknown>> {
  valid: boolean
  errors: FieldError[]
  /** A pruned, defaulted copy of the input (the input itself is never modified). */
  object: T
}

export interface ValidateOptions {
  /** 'reject' (like fieldValidation=Strict, the default) reports unknown fields; 'prune' drops them silently. */
  unknownFields?: 'reject' | 'prune'
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** The kinds crds/ defines. */
export function knownKinds(): string[] {
  return loadCrds().map((c) => c.spec.names.kind)
}

function validateMetadata(kind: string, meta: unknown, errors: FieldError[]): void {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    errors.push(fieldError('metadata', 'FieldValueRequired', ''))
    return
  }
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown }
  if (name === undefined || name === '') errors.push(fieldError('metadata.name', 'FieldValueRequired', 'name or generateName is required'))
  else if (typeof name !== 'string') errors.push(fieldError('metadata.name', 'FieldValueTypeInvalid', 'must be a string', name))
  else if (name.length > 253) errors.push(fieldError('metadata.name', 'FieldValueTooLong', 'may not be more than 253 bytes'))
  else if (!DNS_SUBDOMAIN.test(name))
    errors.push(
      fieldError(
        'metadata.name',
        'FieldValueInvalid',
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        name,
      ),
    )
  else if (kind === 'RuntimeCatalog' && (!DNS_LABEL.test(name) || name.length > 63))
    errors.push(
      fieldError(
        'metadata.name',
        'FieldValueInvalid',
        'a RuntimeCatalog is named after its runtime: a DNS label of at most 63 characters',
        name,
      ),
    )
  if (namespace !== undefined && (typeof namespace !== 'string' || !DNS_LABEL.test(namespace) || namespace.length > 63)) {
    errors.push(fieldError('metadata.namespace', 'FieldValueInvalid', 'must be a DNS label', namespace))
  }
}

/** Validates one manifest of ours: apiVersion/kind, metadata, unknown fields, schema (after defaulting). */
export function validateResource<T = Record<string, unknown>>(input: unknown, opts: ValidateOptions = {}): ValidationResult<T> {
  const errors: FieldError[] = []
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      valid: false,
      errors: [fieldError('<root>', 'FieldValueTypeInvalid', 'a manifest must be an object', input)],
      object: input as T,
    }
  }
  const obj = structuredClone(input) as Record<string, unknown>
  if (obj.apiVersion !== API_VERSION)
    errors.push(fieldError('apiVersion', 'FieldValueNotSupported', `supported values: "${API_VERSION}"`, obj.apiVersion))
  const kinds = knownKinds()
  if (typeof obj.kind !== 'string' || !kinds.includes(obj.kind)) {
    errors.push(fieldError('kind', 'FieldValueNotSupported', `supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`, obj.kind))
    return { valid: false, errors, object: obj as T }
  }
  validateMetadata(obj.kind, obj.metadata, errors)
  const schema = schemaForKind(obj.kind)
  const unknown = pruneUnknown(schema, obj, '', true)
  if (opts.unknownFields !== 'prune') for (const p of unknown) errors.push(fieldError(p, 'FieldValueUnknown', `unknown field "${p}"`))
  applyDefaults(schema, obj)
  const { metadata: _m, ...rest } = obj
  errors.push(...validateValue(schema, rest))
  return { valid: errors.length === 0, errors, object: obj as T }
}

/** A defaulted copy of a valid manifest; throws with every field error when it is not valid. */
export function withDefaults<T = Record<string, unknown>>(input: unknown): T {
  const r = validateResource<T>(input)
  if (!r.valid)
    throw new Error(`invalid ${(input as { kind?: string })?.kind ?? 'manifest'}:\n${r.errors.map((e) => `  ${e.message}`).join('\n')}`)
  return r.object
}
