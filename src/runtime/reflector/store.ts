// The cache a reflector keeps: the latest copy of every object of one kind, by "namespace/name",
// with secondary indexes (by namespace, by owner, or any user function) kept in step on every
// change.
//
// Guarantees: after apply()/delete()/replace() returns, get/list/byIndex reflect it.
// Assumptions: only the reflector writes; everyone else reads. Objects handed out are the cached
// instances: treat them as read-only (copy with structuredClone before changing one).

import { objectKey, type KObject } from '../client/objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'

/** Maps an object to the index values it is filed under (e.g. its namespace). */
export type IndexFunc<T> = (obj: T) => string[]

export const indexByNamespace = <T extends KObject>(obj: T): string[] => [obj.metadata?.namespace ?? '']

/** Files an object under the uid of every owner (use with byIndex('owner', ownerUid)). */
export const indexByOwner = <T extends KObject>(obj: T): string[] => (obj.metadata?.ownerReferences ?? []).map((r) => r.uid)

export class Store<T extends KObject = KObject> {
  readonly #items = new Map<string, T>()
  readonly #indexers = new Map<string, IndexFunc<T>>()
  readonly #indices = new Map<string, Map<string, Set<string>>>()

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer('namespace', indexByNamespace)
    this.addIndexer('owner', indexByOwner)
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn)
  }

  /** Adds an index; existing objects are filed at once. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name))
      throw new RuntimeError(ErrorCodes.INVALID_OPTION, `an index named ${name} already exists on this store; pick another name`)
    this.#indexers.set(name, fn)
    const index = new Map<string, Set<string>>()
    this.#indices.set(name, index)
    for (const [key, obj] of this.#items) this.#file(index, fn, key, obj)
  }

  get(key: string): T | undefined {
    return this.#items.get(key)
  }
  getByName(name: string, namespace?: string): T | undefined {
    return this.#items.get(namespace ? `${namespace}/${name}` : name)
  }
  list(): T[] {
    return [...this.#items.values()]
  }
  keys(): string[] {
    return [...this.#items.keys()]
  }
  get size(): number {
    return this.#items.size
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name)
    if (index === undefined)
      throw new RuntimeError(ErrorCodes.INVALID_OPTION, `no index named ${name}; add it with addIndexer(name, fn) first`)
    const out: T[] = []
    for (const key of index.get(value) ?? []) {
      const obj = this.#items.get(key)
      if (obj !== undefined) out.push(obj)
    }
    return out
  }

  /** Inserts or replaces; returns the previous copy. */
  apply(obj: T): T | undefined {
    const key = objectKey(obj)
    const old = this.#items.get(key)
    if (old !== undefined) this.#unfileAll(key, old)
    this.#items.set(key, obj)
    for (const [name, fn] of this.#indexers) this.#file(this.#indices.get(name) as Map<string, Set<string>>, fn, key, obj)
    return old
  }

  /** Removes by key; returns what was there. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key)
    if (old === undefined) return undefined
    this.#unfileAll(key, old)
    this.#items.delete(key)
    return old
  }

  #file(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let keys = index.get(value)
      if (keys === undefined) {
        keys = new Set()
        index.set(value, keys)
      }
      keys.add(key)
    }
  }

  #unfileAll(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name) as Map<string, Set<string>>
      for (const value of fn(obj)) {
        const keys = index.get(value)
        if (keys === undefined) continue
        keys.delete(key)
        if (keys.size === 0) index.delete(value)
      }
    }
  }
}
