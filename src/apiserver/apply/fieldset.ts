// Sets of field paths in the FieldsV1 trie form managedFields uses: each key is a path element
// (`f:name` a field, `k:{"name":"x"}` a list-map item, `v:"x"` a set item, `i:0` an index) and `.`
// marks that the node itself is in the set, not only things below it.

export type PathElement = string
export type FieldPath = readonly PathElement[]

// Both caches rely on sets and fieldsV1 objects never being changed after they are built.
const decoded = new WeakMap<object, FieldSet>()

export class FieldSet {
  member = false
  readonly children = new Map<PathElement, FieldSet>()
  /** This node's fieldsV1 form, once computed (or the object it was decoded from). */
  #v1: Record<string, unknown> | undefined = undefined

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet()
    for (const p of paths) s.insert(p)
    return s
  }

  insert(path: FieldPath): void {
    let node: FieldSet = this
    for (const pe of path) {
      let next = node.children.get(pe)
      if (!next) {
        next = new FieldSet()
        node.children.set(pe, next)
      }
      node = next
    }
    node.member = true
  }

  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(pe)
  }

  has(path: FieldPath): boolean {
    let node: FieldSet | undefined = this
    for (const pe of path) {
      node = node.children.get(pe)
      if (!node) return false
    }
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

  /** Shares every subtree it does not have to change, and returns this when other adds nothing. */
  union(other: FieldSet): FieldSet {
    if (other === this || (other.children.size === 0 && !other.member)) return this
    if (this.children.size === 0 && !this.member) return other
    let changed = other.member && !this.member
    const kids = new Map<PathElement, FieldSet>()
    for (const [k, v] of this.children) {
      const o = other.children.get(k)
      const u = o ? v.union(o) : v
      if (u !== v) changed = true
      kids.set(k, u)
    }
    for (const [k, o] of other.children) {
      if (!this.children.has(k)) {
        kids.set(k, o)
        changed = true
      }
    }
    if (!changed) return this
    const s = new FieldSet()
    s.member = this.member || other.member
    for (const [k, v] of kids) s.children.set(k, v)
    return s
  }

  /**
   * Members of this set that are not members of other (descendants are kept unless removed too).
   * Sets are never changed once built, so an untouched subtree is shared rather than copied.
   */
  difference(other: FieldSet): FieldSet {
    if (other.children.size === 0 && !other.member) return this
    let changed = this.member && other.member
    const kids = new Map<PathElement, FieldSet>()
    for (const [k, v] of this.children) {
      const o = other.children.get(k)
      const d = o ? v.difference(o) : v
      if (d !== v) changed = true
      if (d === v || !d.isEmpty()) kids.set(k, d)
      else changed = true
    }
    if (!changed) return this
    const s = new FieldSet()
    s.member = this.member && !other.member
    for (const [k, v] of kids) s.children.set(k, v)
    return s
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet()
    s.member = this.member && other.member
    const [small, large] = this.children.size <= other.children.size ? [this, other] : [other, this]
    for (const [k, v] of small.children) {
      const o = large.children.get(k)
      if (!o) continue
      const i = small === this ? v.intersection(o) : o.intersection(v)
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
    if (this.#v1) return this.#v1
    const o: Record<string, unknown> = {}
    // Nodes are never left empty by the set operations, so a shallow check finds the dead ones.
    const keys = sortedKeys(this.children).filter((k) => {
      const c = this.children.get(k)!
      return c.member || c.children.size > 0
    })
    if (this.member && keys.length > 0) o['.'] = {}
    for (const k of keys) o[k] = this.children.get(k)!.toFieldsV1()
    this.#v1 = o
    return o
  }

  /** Decoding is cached per fieldsV1 object: stored objects are immutable, and each write re-reads them. */
  static fromFieldsV1(v: unknown): FieldSet {
    const cacheable = typeof v === 'object' && v !== null
    const hit = cacheable ? decoded.get(v) : undefined
    if (hit) return hit
    const s = new FieldSet()
    fill(s, v, true)
    if (cacheable) {
      decoded.set(v, s)
      s.#v1 = v as Record<string, unknown>
    }
    return s
  }
}

function fill(node: FieldSet, v: unknown, isRoot: boolean): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('fieldsV1 must be a JSON object of path elements')
  const entries = Object.entries(v)
  if (entries.length === 0 && !isRoot) node.member = true
  for (const [k, child] of entries) {
    if (k === '.') {
      node.member = true
      continue
    }
    if (!/^[fkvi]:/.test(k)) throw new Error(`fieldsV1 has an invalid path element ${JSON.stringify(k)}`)
    const c = new FieldSet()
    fill(c, child, false)
    node.children.set(k, c)
  }
}

const ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 }

function sortedKeys(m: Map<string, unknown>): string[] {
  const keys = [...m.keys()]
  if (keys.length < 2) return keys
  return keys.sort((a, b) => (a.charCodeAt(0) === b.charCodeAt(0) ? (a < b ? -1 : a > b ? 1 : 0) : ORDER[a[0]!]! - ORDER[b[0]!]!))
}

/** How Kubernetes prints a path in conflict messages: .spec.ports[name="game"].port, .metadata.finalizers[="x"] */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2)
      switch (pe[0]) {
        case 'f':
          return `.${body}`
        case 'i':
          return `[${body}]`
        case 'v':
          return `[=${body}]`
        case 'k': {
          const key = JSON.parse(body) as Record<string, unknown>
          return `[${Object.entries(key)
            .map(([n, x]) => `${n}=${JSON.stringify(x)}`)
            .join(',')}]`
        }
        default:
          return pe
      }
    })
    .join('')
}
