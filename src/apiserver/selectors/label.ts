// Label selectors with Kubernetes' syntax and semantics (apimachinery labels.Parse):
// `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist),
// `a>1`, `a<1`, comma-joined (AND). The empty selector matches everything.

import { SelectorError } from './errors.ts'
import { labelKeyErrors, labelValueErrors } from './names.ts'

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt'

export interface LabelRequirement {
  readonly key: string
  readonly operator: LabelOperator
  /** Sorted, de-duplicated values (one for =, ==, !=, gt, lt; none for exists and !). */
  readonly values: readonly string[]
}

export interface LabelSelector {
  /** Requirements sorted by key, all of which must hold. */
  readonly requirements: readonly LabelRequirement[]
  /** True when the selector has no requirements and so matches everything. */
  readonly empty: boolean
  matches(labels: Record<string, string> | undefined): boolean
  /** Canonical text form, e.g. "app=web,tier in (a,b)". */
  toString(): string
}

type TokenKind = 'ident' | '!' | '!=' | '(' | ')' | ',' | '=' | '==' | '>' | '<' | 'in' | 'notin' | 'end'
interface Token {
  kind: TokenKind
  text: string
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<'])
const OPERATOR_TEXT = new Set(['=', '==', '!=', '!', '(', ')', ',', '>', '<'])

/** Splits the selector into tokens; `in`/`notin` are keywords only where an operator may stand. */
function tokenize(s: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (SPECIAL.has(c)) {
      let j = i + 1
      while (j < s.length && SPECIAL.has(s[j]!) && OPERATOR_TEXT.has(s.slice(i, j + 1))) j++
      const text = s.slice(i, j)
      if (!OPERATOR_TEXT.has(text))
        throw new SelectorError('label', `unable to parse requirement: found '${text}', which is not an operator`)
      out.push({ kind: text as TokenKind, text })
      i = j
      continue
    }
    let j = i
    while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++
    out.push({ kind: 'ident', text: s.slice(i, j) })
    i = j
  }
  out.push({ kind: 'end', text: 'end of string' })
  return out
}

class Parser {
  private pos = 0
  private readonly tokens: Token[]
  constructor(tokens: Token[]) {
    this.tokens = tokens
  }

  private peek(): Token {
    return this.tokens[this.pos]!
  }
  private next(): Token {
    return this.tokens[this.pos++]!
  }
  private fail(msg: string): never {
    throw new SelectorError('label', `unable to parse requirement: ${msg}`)
  }
  /** In operator position an identifier spelled in/notin is the keyword. */
  private asOperator(t: Token): TokenKind {
    return t.kind === 'ident' && (t.text === 'in' || t.text === 'notin') ? t.text : t.kind
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = []
    for (;;) {
      const t = this.peek()
      if (t.kind === 'end') return reqs
      if (t.kind !== 'ident' && t.kind !== '!') this.fail(`found '${t.text}', expected: !, identifier, or 'end of string'`)
      reqs.push(this.requirement())
      const after = this.next()
      if (after.kind === 'end') return reqs
      if (after.kind !== ',') this.fail(`found '${after.text}', expected: ',' or 'end of string'`)
      const following = this.peek()
      if (following.kind !== 'ident' && following.kind !== '!') this.fail(`found '${following.text}', expected: identifier after ','`)
    }
  }

  private requirement(): LabelRequirement {
    let t = this.next()
    let negated = false
    if (t.kind === '!') {
      negated = true
      t = this.next()
    }
    if (t.kind !== 'ident') this.fail(`found '${t.text}', expected: identifier`)
    const key = t.text
    if (negated) return makeRequirement(key, '!', [])
    const la = this.peek()
    if (la.kind === 'end' || la.kind === ',') return makeRequirement(key, 'exists', [])
    const opTok = this.next()
    const op = this.asOperator(opTok)
    switch (op) {
      case 'in':
      case 'notin':
        return makeRequirement(key, op, this.valueSet())
      case '=':
      case '==':
      case '!=':
        return makeRequirement(key, op, [this.exactValue()])
      case '>':
        return makeRequirement(key, 'gt', [this.exactValue()])
      case '<':
        return makeRequirement(key, 'lt', [this.exactValue()])
      default:
        return this.fail(`found '${opTok.text}', expected: one of '=', '==', '!=', 'in', 'notin', '>', '<'`)
    }
  }

  private exactValue(): string {
    const la = this.peek()
    if (la.kind === 'end' || la.kind === ',') return ''
    const t = this.next()
    if (t.kind === 'ident') return t.text
    return this.fail(`found '${t.text}', expected: identifier`)
  }

  /** "(a, b)" → values; empty items stand for the empty value, as upstream ("(a,)" is {"", a}). */
  private valueSet(): string[] {
    const open = this.next()
    if (open.kind !== '(') this.fail(`found '${open.text}', expected: '('`)
    const values = new Set<string>()
    if (this.peek().kind === ')') {
      this.next()
      return []
    }
    let expectValue = true
    for (;;) {
      const t = this.next()
      if (t.kind === 'ident') {
        if (!expectValue) this.fail(`found '${t.text}', expected: ',' or ')'`)
        values.add(t.text)
        expectValue = false
      } else if (t.kind === ',') {
        if (expectValue) values.add('')
        expectValue = true
      } else if (t.kind === ')') {
        if (expectValue) values.add('')
        return [...values]
      } else {
        this.fail(`found '${t.text}', expected: ',', ')' or identifier`)
      }
    }
  }
}

/** A validated requirement; throws SelectorError for a bad key, bad values, or a wrong value count. */
export function makeRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const fail = (msg: string): never => {
    throw new SelectorError('label', `unable to parse requirement: ${msg}`)
  }
  const keyErrs = labelKeyErrors(key)
  if (keyErrs.length) fail(`invalid label key "${key}": ${keyErrs.join('; ')}`)
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) fail(`values for "${key}": for 'in', 'notin' operators, values set can't be empty`)
      break
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) fail(`values for "${key}": exact-match compatibility requires one single value`)
      break
    case 'exists':
    case '!':
      if (values.length !== 0) fail(`values for "${key}": values set must be empty for exists and does not exist`)
      break
    case 'gt':
    case 'lt':
      if (values.length !== 1 || !/^-?\d+$/.test(values[0]!))
        fail(`values for "${key}": for 'gt', 'lt' operators, exactly one integer value is required`)
      return { key, operator, values }
  }
  for (const v of values) {
    const errs = labelValueErrors(v)
    if (errs.length) fail(`invalid label value "${v}" for key "${key}": ${errs.join('; ')}`)
  }
  return { key, operator, values: [...new Set(values)].sort() }
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key)
  const value = has ? labels[r.key]! : undefined
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value!)
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value!)
    case 'exists':
      return has
    case '!':
      return !has
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value!)) return false
      const l = BigInt(value!)
      const v = BigInt(r.values[0]!)
      return r.operator === 'gt' ? l > v : l < v
    }
  }
}

function requirementText(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key
    case '!':
      return `!${r.key}`
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`
    case 'gt':
      return `${r.key}>${r.values[0]}`
    case 'lt':
      return `${r.key}<${r.values[0]}`
    default:
      return `${r.key}${r.operator}${r.values[0]}`
  }
}

/** A selector from requirements made by makeRequirement (so already validated). Sorted by key like upstream, so toString() is canonical. */
export function selectorOf(requirements: LabelRequirement[]): LabelSelector {
  const reqs = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches(labels) {
      const l = labels ?? {}
      return reqs.every((r) => requirementMatches(r, l))
    },
    toString() {
      return reqs.map(requirementText).join(',')
    },
  }
}

/** Parses a labelSelector query parameter. Throws SelectorError naming what is wrong. */
export function parseLabelSelector(s: string): LabelSelector {
  return selectorOf(new Parser(tokenize(s)).parse())
}

/** A selector that matches no object (what a null metav1.LabelSelector means). */
export const NOTHING: LabelSelector = {
  requirements: [],
  empty: false,
  matches: () => false,
  toString: () => '<none>',
}
