// Kubernetes label key/value syntax rules (apimachinery's validation.IsQualifiedName / IsValidLabelValue),
// returning human messages instead of booleans so selector errors can say exactly what is wrong.

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export const MAX_NAME_PART = 63
export const MAX_PREFIX = 253
export const MAX_LABEL_VALUE = 63

/** Problems with a label key ("prefix/name" or "name"); empty when it is valid. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = []
  const parts = key.split('/')
  let name: string
  if (parts.length === 1) {
    name = parts[0]!
  } else if (parts.length === 2) {
    const prefix = parts[0]!
    name = parts[1]!
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else if (prefix.length > MAX_PREFIX) errs.push(`prefix part must be no more than ${MAX_PREFIX} characters`)
    else if (!DNS1123_SUBDOMAIN.test(prefix)) {
      errs.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')",
      )
    }
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'MyName', 'my.name', 'example.com/MyName')",
    ]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (name.length > MAX_NAME_PART) errs.push(`name part must be no more than ${MAX_NAME_PART} characters`)
  if (name.length > 0 && !NAME_PART.test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name', '123-abc')",
    )
  }
  return errs
}

/** Problems with a label value; empty when it is valid (the empty string is a valid value). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = []
  if (value.length > MAX_LABEL_VALUE) errs.push(`must be no more than ${MAX_LABEL_VALUE} characters`)
  if (!LABEL_VALUE.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', 'my_value', '12345')",
    )
  }
  return errs
}
