// Field selectors with Kubernetes' syntax (apimachinery fields.ParseSelector): comma-joined `f=v`,
// `f==v`, `f!=v`, where `\,`, `\=` and `\\` escape those characters in values. Only the fields the
// resource supports may be named, as kube-apiserver enforces per resource.

import { SelectorError } from './errors.ts'

export type FieldOperator = '=' | '==' | '!='

export interface FieldRequirement {
  readonly field: string
  readonly operator: FieldOperator
  readonly value: string
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[]
  readonly empty: boolean
  /** A missing field compares as the empty string, as upstream's fields.Set does. */
  matches(fields: Record<string, string>): boolean
  /** The value the selector pins a field to with = or ==, if any (lets a caller use an index). */
  requiredValue(field: string): string | undefined
  toString(): string
}

/** Splits on separators that are not escaped with a backslash. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = []
  let start = 0
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++
      continue
    }
    if (s[i] === sep) {
      out.push(s.slice(start, i))
      start = i + 1
    }
  }
  out.push(s.slice(start))
  return out
}

/** Finds the first unescaped operator, trying != and == before = at each position. */
function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++
      continue
    }
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)]
    }
  }
  return undefined
}

function unescapeValue(v: string, whole: string): string {
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c !== '\\') {
      if (c === '=' || c === ',')
        throw new SelectorError('field', `invalid field selector "${whole}": unescaped '${c}' in value "${v}"; escape it as '\\${c}'`)
      out += c
      continue
    }
    const n = v[i + 1]
    if (n === '\\' || n === ',' || n === '=') {
      out += n
      i++
      continue
    }
    throw new SelectorError(
      'field',
      `invalid field selector "${whole}": invalid escape sequence in value "${v}"; only '\\\\', '\\,' and '\\=' may be escaped`,
    )
  }
  return out
}

function escapeValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`)
}

/**
 * Parses a fieldSelector query parameter against the fields the resource supports (e.g.
 * ['metadata.name', 'metadata.namespace']; '*': any field, for callers that only read the syntax).
 * Throws SelectorError naming what is wrong.
 */
export function parseFieldSelector(s: string, allowed: readonly string[] | '*'): FieldSelector {
  const reqs: FieldRequirement[] = []
  for (const term of splitUnescaped(s, ',')) {
    if (term.trim() === '') continue
    const split = splitTerm(term)
    if (!split)
      throw new SelectorError(
        'field',
        `invalid field selector: '${s}'; can't understand '${term}' (expected <field>=<value>, <field>==<value> or <field>!=<value>)`,
      )
    const [rawField, operator, rawValue] = split
    const field = rawField.trim()
    if (allowed !== '*' && !allowed.includes(field)) {
      throw new SelectorError(
        'field',
        `field label not supported: "${field}"; this resource supports: ${(allowed as readonly string[]).join(', ') || '(none)'}`,
      )
    }
    reqs.push({ field, operator, value: unescapeValue(rawValue, s) })
  }
  reqs.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches(fields) {
      return reqs.every((r) => {
        const v = fields[r.field] ?? ''
        return r.operator === '!=' ? v !== r.value : v === r.value
      })
    },
    requiredValue(field) {
      return reqs.find((r) => r.field === field && r.operator !== '!=')?.value
    },
    toString() {
      return reqs.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(',')
    },
  }
}
