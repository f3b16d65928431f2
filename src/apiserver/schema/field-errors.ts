// Field errors in the shape kube-apiserver reports them (metav1.StatusCause), with the path, the bad value and the rule.

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
  /** Complete human message: "<field>: <what>: <detail>". */
  message: string
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v)
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}

export function fieldError(field: string, reason: FieldErrorReason, detail: string, value?: unknown): FieldError {
  const what: Record<FieldErrorReason, string> = {
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
  const shown = value === undefined || reason === 'FieldValueRequired' || reason === 'FieldValueUnknown' ? '' : `: ${show(value)}`
  return { field, reason, value, message: `${field}: ${what[reason]}${shown}: ${detail}` }
}

/** "spec.mods[0]" + "sha256" → "spec.mods[0].sha256" */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  const safe = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`
  if (safe.startsWith('[')) return `${base}${safe}`
  return base ? `${base}.${safe}` : safe
}
