// Sets of field paths in the FieldsV1 trie form managedFields uses: each key is a path element
// (`f:name` a field, `k:{"name":"x"}` a list-map item, `v:"x"` a set item, `i:0` an index) and `.`
// marks that the node itself is in the set, not only things below it.

export type PathElement = string
export type FieldPath = readonly PathElement[]

export class FieldSet {
  member = false
  readonly children = new Map<PathElement, FieldSet>()

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet()
    for (const p of paths) s.insert(p)
    return s
  }

  insert(path: FieldPath): void {
    let node: FieldSet = this
    for (const pe of path) {
      let next = node.children.get(pe)
      if (!next) { next = new FieldSet(); node.children.set(pe, next) }
      node = next
    }
    node.member = true
  }

  child(pe: PathElement): FieldSet | undefined { return this.children.get(pe) }

  has(path: FieldPath): boolean {
    let node: FieldSet | undefined = this
    for (const pe of path) { node = node.children.get(pe); if (!node) return false }
    return node.member
  }

  isEmpty(): boolean {
    if (this.member) return false
    for (const c of this.children.values()) if (!c.isEmpty()) return false
    return true
  }

  clone(): FieldSet {
    const s = new FieldSet()
    s.member = this.member
    for (const [k, v] of this.children) s.children.set(k, v.clone())
    return s
  }

  union(other: FieldSet): FieldSet {
    const s = this.clone()
    s.member ||= other.member
    for (const [k, v] of other.children) {
      const mine = s.children.get(k)
      s.children.set(k, mine ? mine.union(v) : v.clone())
    }
    return s
  }

  /** Members of this set that are not members of other (descendants are kept unless removed too). */
  difference(other: FieldSet): FieldSet {
    const s = new FieldSet()
    s.member = this.member && !other.member
    for (const [k, v] of this.children) {
      const o = other.children.get(k)
      const d = o ? v.difference(o) : v.clone()
      if (!d.isEmpty()) s.children.set(k, d)
    }
    return s
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet()
    s.member = this.member && other.member
    for (const [k, v] of this.children) {
      const o = other.children.get(k)
      if (!o) continue
      const i = v.intersection(o)
      if (!i.isEmpty()) s.children.set(k, i)
    }
    return s
  }

  /** Every member path, depth first, children in sorted order. */
  paths(prefix: PathElement[] = []): PathElement[][] {
    const out: PathElement[][] = []
    if (this.member) out.push([...prefix])
    for (const k of sortedKeys(this.children)) out.push(...this.children.get(k)!.paths([...prefix, k]))
    return out
  }

  toFieldsV1(): Record<string, unknown> {
    const o: Record<string, unknown> = {}
    const keys = sortedKeys(this.children).filter((k) => !this.children.get(k)!.isEmpty())
    if (this.member && keys.length > 0) o['.'] = {}
    for (const k of keys) o[k] = this.children.get(k)!.toFieldsV1()
    return o
  }

  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet()
    fill(s, v, true)
    return s
  }
}

function fill(node: FieldSet, v: unknown, isRoot: boolean): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('fieldsV1 must be a JSON object of path elements')
  const entries = Object.entries(v)
  if (entries.length === 0 && !isRoot) node.member = true
  for (const [k, child] of entries) {
    if (k === '.') { node.member = true; continue }
    if (!/^[fkvi]:/.test(k)) throw new Error(`fieldsV1 has an invalid path element ${JSON.stringify(k)}`)
    const c = new FieldSet()
    fill(c, child, false)
    node.children.set(k, c)
  }
}

const ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 }

function sortedKeys(m: Map<string, unknown>): string[] {
  return [...m.keys()].sort((a, b) => (ORDER[a[0]!]! - ORDER[b[0]!]!) || (a < b ? -1 : a > b ? 1 : 0))
}

/** How Kubernetes prints a path in conflict messages: .spec.ports[name="game"].port, .metadata.finalizers[="x"] */
export function pathString(path: FieldPath): string {
  return path.map((pe) => {
    const body = pe.slice(2)
    switch (pe[0]) {
      case 'f': return `.${body}`
      case 'i': return `[${body}]`
      case 'v': return `[=${body}]`
      case 'k': {
        const key = JSON.parse(body) as Record<string, unknown>
        return `[${Object.entries(key).map(([n, x]) => `${n}=${JSON.stringify(x)}`).join(',')}]`
      }
      default: return pe
    }
  }).join('')
}
