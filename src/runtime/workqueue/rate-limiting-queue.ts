// The work queue controllers use: WorkQueue plus delayed adds (addAfter) and rate-limited
// re-adds (addRateLimited) for retries, as client-go's RateLimitingInterface.
//
// Guarantees
//  - addAfter(key, d): key is add()ed no earlier than d ms from now (on the queue's clock). If the
//    key is already waiting, the earlier of the two times wins; it is added once.
//  - addRateLimited(key) waits as long as the rate limiter says (per-key backoff combined with an
//    overall token bucket by default); forget(key) resets that key's backoff.
// Caveats
//  - Waiting keys are dropped on shutDown() (their timers are cleared).

import { WorkQueue, type WorkQueueOptions } from './queue.ts'
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.ts'
import type { TimerHandle } from '../clock.ts'

export interface RateLimitingQueueOptions<T> extends WorkQueueOptions {
  rateLimiter?: RateLimiter<T>
}

interface Waiting<T> {
  item: T
  readyAt: number
}

export class RateLimitingQueue<T> extends WorkQueue<T> {
  readonly rateLimiter: RateLimiter<T>
  readonly #readyAt = new Map<T, number>()
  #heap: Waiting<T>[] = []
  #timer: TimerHandle | undefined
  #timerDue = Infinity

  constructor(opts: RateLimitingQueueOptions<T> = {}) {
    super(opts)
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>({ clock: this.clock })
  }

  /** Adds `item` after `delayMs` (immediately when <= 0). */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown) return
    if (!(delayMs > 0)) {
      this.add(item)
      return
    }
    const readyAt = this.clock.now() + delayMs
    const existing = this.#readyAt.get(item)
    if (existing !== undefined && existing <= readyAt) return
    this.#readyAt.set(item, readyAt)
    this.#heapPush({ item, readyAt })
    this.#schedule()
  }

  /** Re-adds `item` after the rate limiter's delay (a retry). */
  addRateLimited(item: T): void {
    this.metrics.retried()
    this.addAfter(item, this.rateLimiter.when(item))
  }

  forget(item: T): void {
    this.rateLimiter.forget(item)
  }
  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item)
  }
  /** Keys waiting for a delayed add. */
  waitingCount(): number {
    return this.#readyAt.size
  }

  override shutDown(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer)
    this.#timer = undefined
    this.#timerDue = Infinity
    this.#readyAt.clear()
    this.#heap = []
    super.shutDown()
  }

  #schedule(): void {
    const top = this.#heap[0]
    if (top === undefined) return
    if (this.#timer !== undefined && this.#timerDue <= top.readyAt) return
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer)
    this.#timerDue = top.readyAt
    this.#timer = this.clock.setTimer(() => this.#fire(), top.readyAt - this.clock.now())
  }

  #fire(): void {
    this.#timer = undefined
    this.#timerDue = Infinity
    const now = this.clock.now()
    for (;;) {
      const top = this.#heap[0]
      if (top === undefined || top.readyAt > now) break
      this.#heapPop()
      // Entries superseded by an earlier addAfter are stale; the map holds the live time.
      if (this.#readyAt.get(top.item) !== top.readyAt) continue
      this.#readyAt.delete(top.item)
      this.add(top.item)
    }
    this.#schedule()
  }

  #heapPush(w: Waiting<T>): void {
    const h = this.#heap
    h.push(w)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if ((h[p] as Waiting<T>).readyAt <= w.readyAt) break
      h[i] = h[p] as Waiting<T>
      i = p
    }
    h[i] = w
  }

  #heapPop(): void {
    const h = this.#heap
    const last = h.pop()
    if (last === undefined || h.length === 0) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      let best = last.readyAt
      if (l < h.length && (h[l] as Waiting<T>).readyAt < best) {
        m = l
        best = (h[l] as Waiting<T>).readyAt
      }
      if (r < h.length && (h[r] as Waiting<T>).readyAt < best) {
        m = r
      }
      if (m === i) break
      h[i] = h[m] as Waiting<T>
      i = m
    }
    h[i] = last
  }
}
