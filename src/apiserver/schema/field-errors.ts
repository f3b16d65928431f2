// Field errors in the shape kube-apiserver reports them (metav1.StatusCause), with the path, the bad value and the rule.
//
// The message is built the way apimachinery's field.Error prints itself, so kubectl, the API's 422
// and `zlh validate` read exactly like a real cluster:
//   "<field>: <Type>[: <value>][: <detail>]"
// - Required, Forbidden, Too long and Unknown field never show the value;
// - Too many shows the number of items, not the items;
// - a value prints as Go's %v for numbers and booleans, %q for strings, JSON otherwise;
// - an empty detail (or one that only repeats the type, e.g. "Required value") adds nothing, so a
//   missing field reads "spec.x: Required value", never "Required value: Required value".

export type FieldErrorReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueUnknown'

export interface FieldError {
  /** Dotted path with [i] indexes, as Kubernetes prints it: spec.mods[0].sha256 */
  field: string
  reason: FieldErrorReason
  /** The offending value, when there is one. */
  value?: unknown
  /** Complete human message: "<field>: <what>[: <value>][: <detail>]". */
  message: string
}

const TYPE_TEXT: Record<FieldErrorReason, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueUnknown: 'Unknown field',
}

/** Reasons whose message never carries the value (apimachinery's ErrorBody). */
const VALUE_HIDDEN = new Set<FieldErrorReason>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'FieldValueUnknown'])

const MAX_SHOWN = 120

/** A bad value as apimachinery prints it: %v for numbers/booleans, %q for strings, JSON for the rest. */
export function showValue(v: unknown): string {
  const s = typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? String(v))
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 3)}...` : s
}

export function fieldError(field: string, reason: FieldErrorReason, detail: string, value?: unknown): FieldError {
  const what = TYPE_TEXT[reason]
  let shownValue = value
  if (reason === 'FieldValueTooMany' && Array.isArray(value)) shownValue = value.length
  else if (reason === 'FieldValueTooMany' && typeof value === 'object' && value !== null) shownValue = Object.keys(value).length
  const shown = shownValue === undefined || VALUE_HIDDEN.has(reason) ? '' : `: ${showValue(shownValue)}`
  const said = detail === '' || detail === what ? '' : `: ${detail}`
  return { field, reason, value, message: `${field}: ${what}${shown}${said}` }
}

/** "spec.mods[0]" + "sha256" → "spec.mods[0].sha256" */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  const safe = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`
  if (safe.startsWith('[')) return `${base}${safe}`
  return base ? `${base}.${safe}` : safe
}
