// How long an item must wait before its next attempt. Same model as client-go's workqueue rate
// limiters: a per-item exponential backoff (failures of one key must not delay others) combined,
// by taking the maximum, with one token bucket shared by all items (a storm of failures must not
// hammer the API server).

import { realClock, type Clock } from '../clock.ts'
import { invalidOption } from '../errors.ts'

export interface RateLimiter<T> {
  /** Delay in ms before `item` may be retried; records one more failure of it. */
  when(item: T): number
  /** Stops tracking `item` (it succeeded); its backoff starts again from the base next time. */
  forget(item: T): void
  /** How many times `item` has been rate-limited since it was last forgotten. */
  numRequeues(item: T): number
}

/** base × 2^failures, capped at max. Defaults: 5 ms up to 1,000 s, as client-go. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  readonly #failures = new Map<T, number>()
  readonly #baseMs: number
  readonly #maxMs: number
  constructor(baseMs = 5, maxMs = 1_000_000) {
    if (!(baseMs > 0)) throw invalidOption('baseDelayMs', baseMs, 'a positive number of milliseconds')
    if (!(maxMs >= baseMs)) throw invalidOption('maxDelayMs', maxMs, `a number >= baseDelayMs (${baseMs})`)
    this.#baseMs = baseMs
    this.#maxMs = maxMs
  }
  when(item: T): number {
    const n = this.#failures.get(item) ?? 0
    this.#failures.set(item, n + 1)
    // 2^n overflows to Infinity long after the cap; Math.min keeps it finite.
    return Math.min(this.#baseMs * 2 ** n, this.#maxMs)
  }
  forget(item: T): void {
    this.#failures.delete(item)
  }
  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0
  }
}

/**
 * A token bucket (qps refill, burst capacity). Each when() reserves one token; if none is left the
 * caller waits until its reserved token will have been refilled, so reservations queue up fairly.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly #qps: number
  readonly #burst: number
  readonly #clock: Clock
  #tokens: number
  #last: number
  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    if (!(qps > 0)) throw invalidOption('qps', qps, 'a positive number')
    if (!(burst >= 1)) throw invalidOption('burst', burst, 'a number >= 1')
    this.#qps = qps
    this.#burst = burst
    this.#clock = clock
    this.#tokens = burst
    this.#last = clock.now()
  }
  when(_item: T): number {
    const now = this.#clock.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps)
    this.#last = now
    this.#tokens -= 1
    if (this.#tokens >= 0) return 0
    return Math.ceil((-this.#tokens / this.#qps) * 1000)
  }
  forget(_item: T): void {}
  numRequeues(_item: T): number {
    return 0
  }
}

/** The longest delay any of its limiters asks for. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  readonly #limiters: RateLimiter<T>[]
  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters
  }
  when(item: T): number {
    let max = 0
    for (const l of this.#limiters) max = Math.max(max, l.when(item))
    return max
  }
  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item)
  }
  numRequeues(item: T): number {
    let max = 0
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item))
    return max
  }
}

export interface DefaultRateLimiterOptions {
  baseDelayMs?: number
  maxDelayMs?: number
  qps?: number
  burst?: number
  clock?: Clock
}

/** client-go's DefaultControllerRateLimiter: max(5 ms × 2^n ≤ 1,000 s, bucket 10 qps burst 100). */
export function defaultControllerRateLimiter<T>(opts: DefaultRateLimiterOptions = {}): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(opts.baseDelayMs ?? 5, opts.maxDelayMs ?? 1_000_000),
    new BucketRateLimiter<T>(opts.qps ?? 10, opts.burst ?? 100, opts.clock ?? realClock),
  )
}
