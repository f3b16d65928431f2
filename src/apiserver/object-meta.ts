// ObjectMeta validation as kube-apiserver does it: names, labels, annotations, finalizers and
// owner references, reported as field errors under metadata.*.

import { fieldError, type FieldError } from './schema/index.ts'
import { isObject } from './types.ts'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const MAX_ANNOTATIONS_BYTES = 256 * 1024

export function nameErrors(name: unknown, rule: 'dns-subdomain' | 'dns-label' | 'path-segment', field = 'metadata.name'): FieldError[] {
  if (typeof name !== 'string' || name === '') return [fieldError(field, 'FieldValueRequired', 'name or generateName is required')]
  if (rule === 'path-segment') {
    // apimachinery's IsValidPathSegmentName: anything that can stand as one URL path segment.
    if (name === '.' || name === '..') return [fieldError(field, 'FieldValueInvalid', `may not be '${name}'`, name)]
    return ['/', '%'].filter((c) => name.includes(c)).map((c) => fieldError(field, 'FieldValueInvalid', `may not contain '${c}'`, name))
  }
  if (rule === 'dns-label') {
    if (name.length > 63) return [fieldError(field, 'FieldValueInvalid', 'must be no more than 63 characters', name)]
    if (!DNS1123_LABEL.test(name))
      return [
        fieldError(
          field,
          'FieldValueInvalid',
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')",
          name,
        ),
      ]
    return []
  }
  if (name.length > 253) return [fieldError(field, 'FieldValueInvalid', 'must be no more than 253 characters', name)]
  if (!DNS1123_SUBDOMAIN.test(name))
    return [
      fieldError(
        field,
        'FieldValueInvalid',
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')",
        name,
      ),
    ]
  return []
}

/** Errors of a qualified name such as a label key: optional DNS-subdomain prefix, then a name of at most 63 characters. */
function qualifiedNameErrors(key: string, field: string): FieldError[] {
  const parts = key.split('/')
  let name = key
  if (parts.length === 2) {
    if (parts[0].length === 0 || parts[0].length > 253 || !DNS1123_SUBDOMAIN.test(parts[0]))
      return [fieldError(field, 'FieldValueInvalid', 'prefix part must be a lowercase RFC 1123 subdomain', key)]
    name = parts[1]
  } else if (parts.length > 2)
    return [
      fieldError(
        field,
        'FieldValueInvalid',
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        key,
      ),
    ]
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return [
      fieldError(
        field,
        'FieldValueInvalid',
        "name part must consist of at most 63 alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        key,
      ),
    ]
  }
  return []
}

function stringMapErrors(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return []
  if (!isObject(v)) return [fieldError(field, 'FieldValueTypeInvalid', 'must be a map of strings', v)]
  const out: FieldError[] = []
  for (const [k, val] of Object.entries(v))
    if (typeof val !== 'string') out.push(fieldError(`${field}[${k}]`, 'FieldValueTypeInvalid', 'must be a string', val))
  return out
}

/** Errors in labels, annotations, finalizers and ownerReferences (the user-settable metadata). */
export function metadataErrors(meta: Record<string, unknown>, namespaced: boolean): FieldError[] {
  const out: FieldError[] = []
  const labels = meta.labels
  out.push(...stringMapErrors(labels, 'metadata.labels'))
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      out.push(...qualifiedNameErrors(k, `metadata.labels`))
      if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) {
        out.push(
          fieldError(
            'metadata.labels',
            'FieldValueInvalid',
            "a valid label must be an empty string or consist of at most 63 alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            v,
          ),
        )
      }
    }
  }
  const ann = meta.annotations
  out.push(...stringMapErrors(ann, 'metadata.annotations'))
  if (isObject(ann)) {
    let size = 0
    for (const [k, v] of Object.entries(ann)) {
      out.push(...qualifiedNameErrors(k.toLowerCase(), 'metadata.annotations'))
      size += k.length + (typeof v === 'string' ? v.length : 0)
    }
    if (size > MAX_ANNOTATIONS_BYTES)
      out.push(fieldError('metadata.annotations', 'FieldValueTooLong', `may not be more than ${MAX_ANNOTATIONS_BYTES} bytes`))
  }
  const fin = meta.finalizers
  if (fin !== undefined && fin !== null) {
    if (!Array.isArray(fin)) out.push(fieldError('metadata.finalizers', 'FieldValueTypeInvalid', 'must be a list of strings', fin))
    else
      fin.forEach((f, i) => {
        if (typeof f !== 'string') out.push(fieldError(`metadata.finalizers[${i}]`, 'FieldValueTypeInvalid', 'must be a string', f))
        else out.push(...qualifiedNameErrors(f, `metadata.finalizers[${i}]`))
      })
  }
  const owners = meta.ownerReferences
  if (owners !== undefined && owners !== null) {
    if (!Array.isArray(owners)) out.push(fieldError('metadata.ownerReferences', 'FieldValueTypeInvalid', 'must be a list', owners))
    else {
      let controllers = 0
      owners.forEach((o, i) => {
        const p = `metadata.ownerReferences[${i}]`
        if (!isObject(o)) {
          out.push(fieldError(p, 'FieldValueTypeInvalid', 'must be an object', o))
          return
        }
        for (const k of ['apiVersion', 'kind', 'name', 'uid']) {
          if (typeof o[k] !== 'string' || o[k] === '')
            out.push(fieldError(`${p}.${k}`, 'FieldValueInvalid', `${k} must not be empty`, o[k]))
        }
        if (o.controller === true) controllers++
      })
      if (controllers > 1)
        out.push(fieldError('metadata.ownerReferences', 'FieldValueInvalid', 'Only one reference can have Controller set to true', owners))
    }
  }
  if (!namespaced && typeof meta.namespace === 'string' && meta.namespace !== '') {
    out.push(fieldError('metadata.namespace', 'FieldValueForbidden', 'not allowed on this type'))
  }
  return out
}
