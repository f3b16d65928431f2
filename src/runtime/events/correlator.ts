// Event correlation as client-go's EventCorrelator, so a hot loop cannot flood the API with Events:
//  - identical events (same object, type, reason, message, source) within the window become one
//    Event whose `count` grows and whose `lastTimestamp` moves (a PATCH, not a new object);
//  - after `maxSimilar` events that differ only in message within the window, they are folded
//    into one Event whose message says "(combined from similar events)";
//  - a per-object token bucket (burst 25, one per 5 minutes refill) drops the excess.
// Pure bookkeeping on an injectable clock; the recorder does the API calls.

import type { Clock } from '../clock.ts'

export interface EventInput {
  involvedKey: string
  type: 'Normal' | 'Warning'
  reason: string
  message: string
  source: string
}

export type Correlation =
  | { action: 'create'; name: string; message: string; count: 1 }
  | { action: 'update'; name: string; message: string; count: number }
  | { action: 'drop' }

export interface CorrelatorOptions {
  windowMs?: number
  maxSimilar?: number
  burst?: number
  refillMs?: number
  maxEntries?: number
}

interface Seen {
  name: string
  count: number
  lastAt: number
}
interface Similar {
  times: number[]
  name: string | undefined
}
interface Bucket {
  tokens: number
  at: number
}

export class EventCorrelator {
  readonly #clock: Clock
  readonly #window: number
  readonly #maxSimilar: number
  readonly #burst: number
  readonly #refill: number
  readonly #maxEntries: number
  readonly #seen = new Map<string, Seen>()
  readonly #similar = new Map<string, Similar>()
  readonly #buckets = new Map<string, Bucket>()
  #seq = 0

  constructor(clock: Clock, opts: CorrelatorOptions = {}) {
    this.#clock = clock
    this.#window = opts.windowMs ?? 10 * 60_000
    this.#maxSimilar = opts.maxSimilar ?? 10
    this.#burst = opts.burst ?? 25
    this.#refill = opts.refillMs ?? 5 * 60_000
    this.#maxEntries = opts.maxEntries ?? 4096
  }

  /** What to do with this occurrence. `name` is the Event object's name for create/update. */
  correlate(ev: EventInput, objectName: string): Correlation {
    const now = this.#clock.now()
    if (!this.#take(ev.involvedKey, now)) return { action: 'drop' }

    // Aggregation: many similar events (differing only in message) → one combined Event.
    const simKey = [ev.source, ev.involvedKey, ev.type, ev.reason].join('\u0000')
    const sim = this.#similar.get(simKey) ?? { times: [], name: undefined }
    sim.times = sim.times.filter((t) => now - t < this.#window)
    sim.times.push(now)
    this.#remember(this.#similar, simKey, sim)
    let message = ev.message
    let dedupKey = [simKey, ev.message].join('\u0000')
    if (sim.times.length >= this.#maxSimilar) {
      message = `(combined from similar events): ${ev.message}`
      dedupKey = `${simKey}\u0000(combined)`
    }

    const seen = this.#seen.get(dedupKey)
    if (seen !== undefined && now - seen.lastAt < this.#window) {
      seen.count++
      seen.lastAt = now
      return { action: 'update', name: seen.name, message, count: seen.count }
    }
    const name = `${objectName}.${(now * 1000 + (this.#seq++ % 1000)).toString(16)}`
    this.#remember(this.#seen, dedupKey, { name, count: 1, lastAt: now })
    return { action: 'create', name, message, count: 1 }
  }

  /** The recorder calls this when an update found its Event gone (expired): start afresh. */
  forget(name: string): void {
    for (const [k, v] of this.#seen) if (v.name === name) this.#seen.delete(k)
  }

  #take(key: string, now: number): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) / this.#refill)
    b.at = now
    this.#remember(this.#buckets, key, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  /** Insert with LRU eviction so the caches stay bounded. */
  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key)
    map.set(key, value)
    if (map.size > this.#maxEntries) map.delete(map.keys().next().value as string)
  }
}
