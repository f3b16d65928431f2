// kubectl's JSONPath dialect (client-go util/jsonpath), as additionalPrinterColumns and `-o jsonpath`
// use it: `.a.b`, `['a.b']`, `.a\.b`, `[0]`, `[-1]`, `[1:3]`, `[::2]`, `[*]`, `.*`, `..name`, `[0,2]`,
// `['a','b']`, and filters `[?(@.type=="Ready")]`, `[?(@.n>1)]`, `[?(@.x)]`. A general-purpose JSONPath
// library evaluates filters as script and reads `~`, `^`, `@` in keys as operators; this dialect has
// neither, and typed comparisons ("1" is not 1), so it is evaluated here, without any eval.

export type Segment =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'union'; keys: Array<string | number> }
  | { kind: 'filter'; left: Segment[]; op?: FilterOp; right?: unknown }

type FilterOp = '==' | '!=' | '<' | '>' | '<=' | '>='

export class JsonPathError extends Error {
  override name = 'JsonPathError'
}

const FIELD_END = new Set(['.', '[', ' ', '\t', '\n', ')', '=', '!', '<', '>'])

/** Parses a path such as `.status.conditions[?(@.type=="Ready")].status`, with or without `{...}`. */
export function parseJsonPath(input: string): Segment[] {
  let s = input.trim()
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim()
  if (s.startsWith('$')) s = s.slice(1)
  const p = new PathParser(s, input)
  const segs = p.segments(false)
  if (!p.done()) p.fail(`unexpected '${p.rest()}'`)
  return segs
}

class PathParser {
  private i = 0
  private readonly s: string
  private readonly whole: string
  constructor(s: string, whole: string) {
    this.s = s
    this.whole = whole
  }

  done(): boolean {
    return this.i >= this.s.length
  }
  rest(): string {
    return this.s.slice(this.i)
  }
  fail(msg: string): never {
    throw new JsonPathError(`invalid JSONPath ${JSON.stringify(this.whole)}: ${msg}`)
  }

  /** Segments until the end, or (inside a filter) until an operator or ')'. */
  segments(inFilter: boolean): Segment[] {
    const out: Segment[] = []
    while (!this.done()) {
      const c = this.s[this.i]!
      if (inFilter && (c === ')' || c === ' ' || c === '=' || c === '!' || c === '<' || c === '>')) break
      if (c === '.') {
        if (this.s[this.i + 1] === '.') {
          this.i += 2
          out.push({ kind: 'recursive' })
          if (this.s[this.i] === '[') continue
          out.push(this.field())
          continue
        }
        this.i++
        if (this.done() || this.s[this.i] === '[') continue // "." alone is the current object
        out.push(this.field())
      } else if (c === '[') {
        out.push(this.bracket())
      } else {
        if (out.length === 0 && !inFilter) {
          out.push(this.field())
          continue
        } // kubectl tolerates a missing leading dot
        this.fail(`unexpected '${c}' at ${this.i}`)
      }
    }
    return out
  }

  private field(): Segment {
    let name = ''
    while (!this.done()) {
      const c = this.s[this.i]!
      if (c === '\\' && this.s[this.i + 1] === '.') {
        name += '.'
        this.i += 2
        continue
      }
      if (FIELD_END.has(c)) break
      if (c === ']' || c === '(' || c === "'" || c === '"' || c === '{' || c === '}') this.fail(`unexpected '${c}' in a field name`)
      name += c
      this.i++
    }
    if (name === '') this.fail(`empty field name at ${this.i}`)
    return name === '*' ? { kind: 'wildcard' } : { kind: 'field', name }
  }

  private bracket(): Segment {
    const close = this.findClose()
    const body = this.s.slice(this.i + 1, close).trim()
    const start = this.i
    if (body.startsWith('?(')) {
      if (!body.endsWith(')')) this.fail(`filter must end with ')' in '${body}'`)
      this.i = close + 1
      return parseFilter(body.slice(2, -1), this.whole)
    }
    this.i = close + 1
    if (body === '*') return { kind: 'wildcard' }
    if (body === '') this.fail(`empty brackets at ${start}`)
    const parts = splitTopLevel(body, ',')
    if (parts.length === 1 && body.includes(':') && !isQuoted(body)) {
      const nums = body.split(':').map((x) => x.trim())
      if (nums.length > 3 || nums.some((n) => n !== '' && !/^-?\d+$/.test(n))) this.fail(`invalid slice '[${body}]'`)
      const [a, b, c] = nums.map((n) => (n === '' || n === undefined ? undefined : Number(n)))
      if (c === 0) this.fail(`slice step cannot be 0 in '[${body}]'`)
      return { kind: 'slice', start: a, end: b, step: c }
    }
    const keys = parts.map((p): string | number => {
      const t = p.trim()
      if (/^-?\d+$/.test(t)) return Number(t)
      if (isQuoted(t)) return unquote(t)
      return this.fail(`'[${body}]' must hold an index, a slice, '*', quoted names or a filter`)
    })
    if (keys.length === 1) {
      const k = keys[0]!
      return typeof k === 'number' ? { kind: 'index', index: k } : { kind: 'field', name: k }
    }
    return { kind: 'union', keys }
  }

  /** Index of the ']' closing the '[' at this.i, skipping quoted text and nested brackets. */
  private findClose(): number {
    let depth = 0
    for (let j = this.i; j < this.s.length; j++) {
      const c = this.s[j]!
      if (c === "'" || c === '"') {
        const end = this.s.indexOf(c, j + 1)
        if (end < 0) this.fail(`unterminated quote at ${j}`)
        j = end
      } else if (c === '[') depth++
      else if (c === ']' && --depth === 0) return j
    }
    return this.fail(`unclosed '[' at ${this.i}`)
  }
}

function isQuoted(t: string): boolean {
  return t.length >= 2 && ((t[0] === "'" && t.endsWith("'")) || (t[0] === '"' && t.endsWith('"')))
}
function unquote(t: string): string {
  return t.slice(1, -1)
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = []
  let start = 0
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, j + 1)
      j = end < 0 ? s.length : end
      continue
    }
    if (c === sep) {
      out.push(s.slice(start, j))
      start = j + 1
    }
  }
  out.push(s.slice(start))
  return out
}

/** `@.a.b`, `@.a op literal`; literals are quoted strings, numbers, true, false or null. */
function parseFilter(expr: string, whole: string): Segment {
  const m = /^\s*@(.*?)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$/.exec(expr)
  const fail = (msg: string): never => {
    throw new JsonPathError(`invalid JSONPath ${JSON.stringify(whole)}: ${msg}`)
  }
  const pathText = m ? m[1]! : /^\s*@(.*?)\s*$/.exec(expr)?.[1]
  if (pathText === undefined) return fail(`filter '?(${expr})' must start with @`)
  const left = pathText === '' ? [] : new PathParser(pathText, whole).segments(true)
  if (!m) return { kind: 'filter', left }
  const lit = m[3]!
  let right: unknown
  if (isQuoted(lit)) right = unquote(lit)
  else if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(lit)) right = Number(lit)
  else if (lit === 'true' || lit === 'false') right = lit === 'true'
  else if (lit === 'null') right = null
  else return fail(`filter value '${lit}' must be a quoted string, a number, true, false or null`)
  return { kind: 'filter', left, op: m[2] as FilterOp, right }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function descendants(v: unknown, out: unknown[]): void {
  out.push(v)
  if (Array.isArray(v)) for (const x of v) descendants(x, out)
  else if (isObject(v)) for (const x of Object.values(v)) descendants(x, out)
}

function sliceIndexes(len: number, seg: { start?: number; end?: number; step?: number }): number[] {
  const step = seg.step ?? 1
  const norm = (n: number): number => (n < 0 ? Math.max(0, len + n) : Math.min(n, len))
  const out: number[] = []
  if (step > 0) {
    for (let i = norm(seg.start ?? 0); i < norm(seg.end ?? len); i += step) out.push(i)
  } else {
    const start = seg.start === undefined ? len - 1 : Math.min(norm(seg.start), len - 1)
    const end = seg.end === undefined ? -1 : norm(seg.end)
    for (let i = start; i > end; i += step) out.push(i)
  }
  return out
}

function compare(a: unknown, op: FilterOp, b: unknown): boolean {
  if (op === '==') return a === b
  if (op === '!=') return a !== b
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false
  const x = a as number | string
  const y = b as number | string
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y
}

function step(values: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = []
  for (const v of values) {
    switch (seg.kind) {
      case 'field':
        if (isObject(v) && Object.hasOwn(v, seg.name)) out.push(v[seg.name])
        break
      case 'wildcard':
        if (Array.isArray(v)) out.push(...v)
        else if (isObject(v)) out.push(...Object.values(v))
        break
      case 'recursive':
        descendants(v, out)
        break
      case 'index':
        if (Array.isArray(v)) {
          const i = seg.index < 0 ? v.length + seg.index : seg.index
          if (i >= 0 && i < v.length) out.push(v[i])
        }
        break
      case 'slice':
        if (Array.isArray(v)) for (const i of sliceIndexes(v.length, seg)) out.push(v[i])
        break
      case 'union':
        for (const k of seg.keys) out.push(...step([v], typeof k === 'number' ? { kind: 'index', index: k } : { kind: 'field', name: k }))
        break
      case 'filter': {
        const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : []
        for (const item of items) {
          const found = evaluateSegments(item, seg.left)
          if (found.length > 0 && (seg.op === undefined || compare(found[0], seg.op, seg.right))) out.push(item)
        }
        break
      }
    }
  }
  return out
}

export function evaluateSegments(obj: unknown, segs: readonly Segment[]): unknown[] {
  let values: unknown[] = [obj]
  for (const seg of segs) values = step(values, seg)
  return values
}

/** All values the path selects in obj (missing keys select nothing, as with AllowMissingKeys). */
export function evaluateJsonPath(obj: unknown, path: string): unknown[] {
  return evaluateSegments(obj, parseJsonPath(path))
}

/**
 * Why a printer column's jsonPath is unacceptable, or undefined when it is fine — the rule
 * apiextensions validation applies (non-empty, starts with "."), so the same CRDs are accepted as
 * by kube-apiserver; a path that then does not parse renders empty cells.
 */
export function columnPathError(path: string): string | undefined {
  if (typeof path !== 'string' || path === '') return 'must not be empty'
  if (!path.startsWith('.')) return 'must be a simple json path starting with .'
  return undefined
}

/** Whether a column path is acceptable and also parses as kubectl JSONPath (so it can yield values). */
export function isValidColumnPath(path: string): boolean {
  if (columnPathError(path) !== undefined) return false
  try {
    parseJsonPath(path)
    return true
  } catch {
    return false
  }
}
