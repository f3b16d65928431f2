// Exponential backoff with jitter for reconnect loops (watcher restarts, lease retries).
// Defaults as client-go's reflector and kube-rs's default_backoff: 800 ms doubling to 30 s.

import { invalidOption } from '../errors.ts'

export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  factor?: number
  /** Fraction of each delay randomised (0..1): spreads reconnects of many clients. */
  jitter?: number
}

export class Backoff {
  readonly #initial: number
  readonly #max: number
  readonly #factor: number
  readonly #jitter: number
  #current: number
  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 800
    this.#max = opts.maxMs ?? 30_000
    this.#factor = opts.factor ?? 2
    this.#jitter = opts.jitter ?? 0.2
    if (!(this.#initial > 0)) throw invalidOption('backoff.initialMs', this.#initial, 'a positive number')
    if (!(this.#max >= this.#initial)) throw invalidOption('backoff.maxMs', this.#max, 'a number >= initialMs')
    if (!(this.#factor >= 1)) throw invalidOption('backoff.factor', this.#factor, 'a number >= 1')
    if (!(this.#jitter >= 0 && this.#jitter <= 1)) throw invalidOption('backoff.jitter', this.#jitter, 'a number in [0, 1]')
    this.#current = this.#initial
  }
  /** The next delay in ms; each call grows the following one. */
  next(): number {
    const base = this.#current
    this.#current = Math.min(this.#max, this.#current * this.#factor)
    return Math.round(base * (1 - this.#jitter * Math.random()))
  }
  reset(): void {
    this.#current = this.#initial
  }
}
