// Per-server retry pacing of failed installs (5 s doubling to 5 min), so a failing artifact is not
// downloaded in a hot loop while agent events keep waking the reconciler.
// Caveat: in memory — a restarted controller retries once at once, which is the level-based thing to do.
import type { Clock } from '../src/runtime/index.ts'

export class InstallBackoff {
  readonly #entries = new Map<string, { sig: string; attempts: number; until: number }>()
  readonly #clock: Clock
  constructor(clock: Clock) {
    this.#clock = clock
  }
  /** Milliseconds to wait before installing `sig` (the set of artifacts) again for `key` (0 = go). */
  wait(key: string, sig: string): number {
    const e = this.#entries.get(key)
    if (e === undefined || e.sig !== sig) return 0
    return Math.max(0, e.until - this.#clock.now())
  }
  failed(key: string, sig: string): void {
    const e = this.#entries.get(key)
    const attempts = e?.sig === sig ? e.attempts + 1 : 1
    this.#entries.set(key, { sig, attempts, until: this.#clock.now() + Math.min(300_000, 5000 * 2 ** (attempts - 1)) })
  }
  succeeded(key: string): void {
    this.#entries.delete(key)
  }
}
