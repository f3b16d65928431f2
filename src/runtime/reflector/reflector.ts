// reflector: runs a watcher into a Store and tells event handlers what changed — the shared
// informer of this framework (one per kind per manager, shared by every controller watching it).
//
// Expected flow
//  1. run(signal) starts the watcher. The first complete list fills the store; handlers get
//     onAdd for each object; hasSynced() turns true and waitForSync() resolves.
//  2. Each watch event updates the store, then calls onAdd / onUpdate(old, new) / onDelete.
//  3. After a relist (410 or restart) the new snapshot is diffed against the store: objects that
//     vanished meanwhile get onDelete, changed ones onUpdate, new ones onAdd.
//  4. With resyncPeriodMs, every object is re-announced as onUpdate(obj, obj) on that period.
// Guarantees
//  - Handlers see changes in the order the store applied them, one at a time.
//  - A handler added late first receives onAdd for every object already cached.
//  - A throwing handler is logged and skipped; the reflector keeps going.
// Assumptions
//  - transform (default: drop metadata.managedFields) keeps metadata.name/namespace/
//    resourceVersion; it exists to cut memory for large caches.
// Caveats
//  - Delete events seen only through a relist carry the last cached copy of the object.

import { realClock, type Clock, type TimerHandle } from '../clock.ts'
import type { Client } from '../client/client.ts'
import { objectKey, type KindRef, type KObject, type ObjectMeta } from '../client/objects.ts'
import { watcher, type WatcherOptions } from '../watcher/watcher.ts'
import { Store, type IndexFunc } from './store.ts'

export interface EventHandler<T> {
  onAdd?(obj: T): void
  onUpdate?(oldObj: T, newObj: T): void
  onDelete?(obj: T): void
}

export interface ReflectorOptions<T extends KObject> extends WatcherOptions {
  /** Applied to every object before it is cached (default: drop managedFields). */
  transform?: (obj: T) => T
  indexers?: Record<string, IndexFunc<T>>
  resyncPeriodMs?: number
  /** Reports handler exceptions and watcher restarts (default: ignore). */
  onError?: (err: unknown, action: 'relist' | 'rewatch' | 'handler') => void
}

/**
 * Drops managedFields, often the largest part of an object and useless to controllers. Builds a
 * new metadata object rather than `delete`-ing the key: deleting a property switches V8 objects
 * to slow dictionary mode, which costs more memory per object than the field saved.
 */
export function stripManagedFields<T extends KObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj
  const { managedFields: _dropped, ...metadata } = obj.metadata
  obj.metadata = metadata
  return obj
}

/**
 * Keeps only apiVersion, kind and the metadata controllers route and decide by: the least memory
 * per cached object. Read the full object with a GET in the reconciler when it is needed.
 */
export function metadataOnly<T extends KObject>(obj: T): T {
  const m = obj.metadata ?? {}
  const metadata: ObjectMeta = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: m.generation,
  }
  if (m.labels !== undefined) metadata.labels = m.labels
  if (m.annotations !== undefined) metadata.annotations = m.annotations
  if (m.ownerReferences !== undefined) metadata.ownerReferences = m.ownerReferences
  if (m.finalizers !== undefined) metadata.finalizers = m.finalizers
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata } as T
}

export class Reflector<T extends KObject = KObject> {
  readonly kind: KindRef
  readonly store: Store<T>
  readonly #client: Client
  readonly #opts: ReflectorOptions<T>
  readonly #clock: Clock
  readonly #transform: (obj: T) => T
  readonly #handlers: EventHandler<T>[] = []
  #synced = false
  #syncWaiters: Array<() => void> = []
  #running = false

  constructor(client: Client, kind: KindRef, opts: ReflectorOptions<T> = {}) {
    this.#client = client
    this.kind = kind
    this.#opts = opts
    this.#clock = opts.clock ?? realClock
    this.#transform = opts.transform ?? stripManagedFields
    this.store = new Store<T>(opts.indexers)
  }

  hasSynced(): boolean {
    return this.#synced
  }

  /** Resolves once the first complete list is in the store (or rejects when `signal` aborts). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler)
    if (this.#synced) for (const obj of this.store.list()) this.#call(handler, 'onAdd', obj)
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) return
    this.#running = true
    let resync: TimerHandle | undefined
    const period = this.#opts.resyncPeriodMs
    const scheduleResync = (): void => {
      if (period === undefined || period <= 0 || signal.aborted) return
      resync = this.#clock.setTimer(() => {
        this.#resync()
        scheduleResync()
      }, period)
    }
    scheduleResync()
    let snapshot: Map<string, T> | undefined
    try {
      const events = watcher<T>(this.#client, this.kind, signal, {
        ...this.#opts,
        onError: (err, action) => this.#opts.onError?.(err, action),
      })
      for await (const ev of events) {
        switch (ev.type) {
          case 'init':
            snapshot = new Map()
            break
          case 'initApply': {
            const obj = this.#transform(ev.object)
            snapshot?.set(objectKey(obj), obj)
            break
          }
          case 'initDone':
            this.#replace(snapshot ?? new Map())
            snapshot = undefined
            break
          case 'apply':
            this.#apply(this.#transform(ev.object))
            break
          case 'delete':
            this.#delete(ev.object)
            break
        }
      }
    } finally {
      if (resync !== undefined) this.#clock.clearTimer(resync)
      this.#running = false
    }
  }

  #apply(obj: T): void {
    const old = this.store.apply(obj)
    if (old === undefined) this.#emit('onAdd', obj)
    else this.#emit('onUpdate', old, obj)
  }

  #delete(obj: T): void {
    const old = this.store.delete(objectKey(obj))
    this.#emit('onDelete', old ?? obj)
  }

  #replace(snapshot: Map<string, T>): void {
    for (const key of this.store.keys()) {
      if (!snapshot.has(key)) this.#emit('onDelete', this.store.delete(key) as T)
    }
    for (const obj of snapshot.values()) {
      const old = this.store.apply(obj)
      if (old === undefined) this.#emit('onAdd', obj)
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#emit('onUpdate', old, obj)
    }
    if (!this.#synced) {
      this.#synced = true
      const waiters = this.#syncWaiters
      this.#syncWaiters = []
      for (const w of waiters) w()
    }
  }

  #resync(): void {
    for (const obj of this.store.list()) this.#emit('onUpdate', obj, obj)
  }

  #emit(what: 'onAdd' | 'onDelete', obj: T): void
  #emit(what: 'onUpdate', old: T, obj: T): void
  #emit(what: keyof EventHandler<T>, a: T, b?: T): void {
    for (const h of this.#handlers) this.#call(h, what, a, b)
  }

  #call(h: EventHandler<T>, what: keyof EventHandler<T>, a: T, b?: T): void {
    try {
      if (what === 'onUpdate') h.onUpdate?.(a, b as T)
      else h[what]?.(a)
    } catch (err) {
      this.#opts.onError?.(err, 'handler')
    }
  }
}
