// A deduplicating FIFO work queue with client-go's semantics, the core of every controller.
//
// Expected flow
//  1. Event handlers call add(key) as often as they like.
//  2. Each worker loops: key = await get(); process it; done(key).
//  3. On shutdown, shutDown() stops handing out keys; drain() waits for keys being processed.
//
// Guarantees
//  - A key is never handed to two workers at once: between get() and done() it is "processing",
//    and adding it again only marks it dirty.
//  - Duplicates coalesce: a key added N times while waiting is handed out once.
//  - A key added while processing is handed out again after done(), so the change that caused
//    the add is always seen by a later pass.
//  - Keys come out in the order they first became dirty.
// Assumptions
//  - Keys are compared with SameValueZero (use strings such as "namespace/name").
//  - Every get() that returned a key is followed by exactly one done(key).
// Caveats
//  - After shutDown(), keys still queued are dropped (not handed out): controllers are level-based,
//    the next start lists everything again. Adds after shutDown() are ignored.

import { realClock, type Clock } from '../clock.ts'

/** Hooks a queue reports into; the manager wires them to Prometheus (workqueue_* metrics). */
export interface QueueMetrics {
  added(): void
  depth(n: number): void
  /** ms the key waited between becoming dirty and being handed out. */
  queued(ms: number): void
  /** ms between get() and done(). */
  worked(ms: number): void
  retried(): void
}

export const noopQueueMetrics: QueueMetrics = { added() {}, depth() {}, queued() {}, worked() {}, retried() {} }

export interface WorkQueueOptions {
  clock?: Clock
  metrics?: QueueMetrics
}

export class WorkQueue<T> {
  protected readonly clock: Clock
  protected readonly metrics: QueueMetrics
  #queue: T[] = []
  #head = 0
  readonly #dirty = new Set<T>()
  readonly #processing = new Map<T, number>()
  readonly #dirtySince = new Map<T, number>()
  #waiters: Array<(item: T | undefined) => void> = []
  #drainWaiters: Array<() => void> = []
  #shuttingDown = false

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock
    this.metrics = opts.metrics ?? noopQueueMetrics
  }

  /** Marks `item` as needing processing. */
  add(item: T): void {
    if (this.#shuttingDown) return
    if (this.#dirty.has(item)) return
    this.metrics.added()
    this.#dirty.add(item)
    this.#dirtySince.set(item, this.clock.now())
    if (this.#processing.has(item)) return
    this.#push(item)
  }

  /** Resolves with the next key, or undefined once the queue is shut down. */
  get(): Promise<T | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined)
    if (this.#length() > 0) return Promise.resolve(this.#take())
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Ends processing of `item`; if it was re-added meanwhile, it is queued again. */
  done(item: T): void {
    const started = this.#processing.get(item)
    if (started === undefined) return
    this.#processing.delete(item)
    this.metrics.worked(this.clock.now() - started)
    if (this.#dirty.has(item) && !this.#shuttingDown) this.#push(item)
    if (this.#processing.size === 0) {
      const waiters = this.#drainWaiters
      this.#drainWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Number of keys waiting (not counting those being processed). */
  len(): number {
    return this.#length()
  }
  /** Number of keys currently between get() and done(). */
  processingCount(): number {
    return this.#processing.size
  }
  isProcessing(item: T): boolean {
    return this.#processing.has(item)
  }
  get shuttingDown(): boolean {
    return this.#shuttingDown
  }

  /** Stops handing out keys and releases every waiting get() with undefined. */
  shutDown(): void {
    if (this.#shuttingDown) return
    this.#shuttingDown = true
    this.#queue = []
    this.#head = 0
    this.metrics.depth(0)
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w(undefined)
  }

  /** Resolves once no key is being processed (call after shutDown() for a graceful stop). */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  #length(): number {
    return this.#queue.length - this.#head
  }

  #push(item: T): void {
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) {
      // Hand it straight to a parked worker: it never sat in the queue.
      waiter(this.#claim(item))
      return
    }
    this.#queue.push(item)
    this.metrics.depth(this.#length())
  }

  #take(): T {
    const item = this.#queue[this.#head] as T
    this.#head++
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    this.metrics.depth(this.#length())
    return this.#claim(item)
  }

  #claim(item: T): T {
    const now = this.clock.now()
    this.metrics.queued(now - (this.#dirtySince.get(item) ?? now))
    this.#dirtySince.delete(item)
    this.#dirty.delete(item)
    this.#processing.set(item, now)
    return item
  }
}
