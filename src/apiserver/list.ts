// Filtering and pagination of lists. A paginated list is served from a snapshot taken by its
// first page, so every page belongs to the same resourceVersion (stored entries are immutable,
// so a snapshot is only an array of references).
//
// Guarantees
// - All pages of one list come from one consistent state; pages never skip or repeat objects.
// - A continue token outlives its snapshot by at most `ttlMs`; after that (or after eviction of
//   the oldest of `maxSnapshots`) it is answered with 410 Expired, and the client relists.

import { randomBytes } from 'node:crypto'
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors/index.ts'
import { readPath, type ResourceType } from './resource-type.ts'
import { errors } from './status.ts'
import type { StoredObject, ObjectStore } from './store.ts'

export interface Selection {
  matches: (o: StoredObject) => boolean
  /** When the field selector pins metadata.name, the one name worth looking up. */
  name?: string
}

/** Builds the namespace + label + field filter of a list or watch. Bad selectors are 400s. */
export function selection(
  t: ResourceType,
  version: string,
  namespace: string | undefined,
  labelSelector = '',
  fieldSelector = '',
): Selection {
  const getters = { ...t.fieldGetters }
  for (const f of t.versions.find((v) => v.name === version)?.selectableFields ?? []) getters[f] = (o) => readPath(o, f)
  let ls, fs
  try {
    ls = parseLabelSelector(labelSelector)
    fs = parseFieldSelector(fieldSelector, ['metadata.name', 'metadata.namespace', ...Object.keys(getters)])
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message)
    throw err
  }
  const ns = t.namespaced ? namespace : undefined
  const getterEntries = Object.entries(getters)
  const matches = (o: StoredObject): boolean => {
    const m = o.obj.metadata
    if (ns !== undefined && m.namespace !== ns) return false
    if (!ls.empty && !ls.matches(m.labels)) return false
    if (fs.empty) return true
    const fields: Record<string, string> = { 'metadata.name': m.name ?? '', 'metadata.namespace': m.namespace ?? '' }
    for (const [k, g] of getterEntries) {
      const v = g(o.obj)
      fields[k] = v === undefined || v === null ? '' : String(v)
    }
    return fs.matches(fields)
  }
  return { matches, name: fs.requiredValue('metadata.name') }
}

export interface ListPage {
  items: StoredObject[]
  rv: number
  continue?: string
  remainingItemCount?: number
}

interface Snapshot {
  items: StoredObject[]
  rv: number
  expires: number
}

interface ContinueToken {
  id: string
  off: number
  rv: number
}

export class Lister {
  #snapshots = new Map<string, Snapshot>()
  #store: ObjectStore
  #ttlMs: number
  #maxSnapshots: number

  constructor(store: ObjectStore, ttlMs = 5 * 60_000, maxSnapshots = 256) {
    this.#store = store
    this.#ttlMs = ttlMs
    this.#maxSnapshots = maxSnapshots
  }

  list(t: ResourceType, namespace: string | undefined, sel: Selection, limit: number, cont: string | undefined): ListPage {
    let items: StoredObject[]
    let rv: number
    let off = 0
    let id: string | undefined
    if (cont) {
      const tok = decodeToken(cont)
      const snap = this.#snapshots.get(tok.id)
      if (!snap || snap.expires < Date.now()) {
        this.#snapshots.delete(tok.id)
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        )
      }
      ;({ items, rv } = snap)
      off = tok.off
      id = tok.id
    } else {
      rv = this.#store.rv
      if (sel.name !== undefined) {
        const one =
          t.namespaced && namespace === undefined
            ? this.#store.list(t.gr).filter((o) => o.obj.metadata.name === sel.name)
            : [this.#store.get(t.gr, t.namespaced ? namespace : undefined, sel.name)].filter((o) => o !== undefined)
        items = one.filter(sel.matches)
      } else {
        items = this.#store.list(t.gr, t.namespaced ? namespace : undefined).filter(sel.matches)
      }
    }
    if (limit <= 0 || off + limit >= items.length) return { items: off ? items.slice(off) : items, rv }
    if (!id) {
      id = randomBytes(9).toString('base64url')
      this.#remember(id, { items, rv, expires: Date.now() + this.#ttlMs })
    }
    const next = off + limit
    return {
      items: items.slice(off, next),
      rv,
      continue: Buffer.from(JSON.stringify({ id, off: next, rv } satisfies ContinueToken)).toString('base64url'),
      remainingItemCount: items.length - next,
    }
  }

  #remember(id: string, s: Snapshot): void {
    const nowMs = Date.now()
    for (const [k, v] of this.#snapshots) if (v.expires < nowMs) this.#snapshots.delete(k)
    while (this.#snapshots.size >= this.#maxSnapshots) this.#snapshots.delete(this.#snapshots.keys().next().value!)
    this.#snapshots.set(id, s)
  }
}

function decodeToken(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken
    if (typeof t.id === 'string' && Number.isInteger(t.off) && t.off >= 0) return t
  } catch {
    /* fall through */
  }
  throw errors.badRequest('the continue parameter is not a token this server issued; start a new list without it')
}
