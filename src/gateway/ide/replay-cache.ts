// Remembers single-use values (token nonces) until they expire, so each can be redeemed once.
//
// Guarantees: within one process, `claim(id, exp)` returns true for the first claim of `id` and
// false for every later claim before `exp`. Memory is bounded: expired entries are swept as new
// ones arrive, and when `maxEntries` unexpired ones are held, new claims are refused (fail closed).
// The cache lives in memory, so on its own a gateway restart or a second replica forgets it; the
// IDE token issuer therefore also claims each nonce in a SharedClaims store (Leases in the
// Kubernetes API, see portal/lease-claims.ts) when it has one. This cache stays in front of it
// to refuse local replays without an API call.

export class ReplayCache {
  private readonly seen = new Map<string, number>()
  private readonly maxEntries: number
  private nextSweepAt = 0

  constructor(maxEntries = 100_000) {
    this.maxEntries = maxEntries
  }

  /** Claims `id` until `expiresAtMs`; false when it was already claimed (or the cache is full). */
  claim(id: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    this.sweep(nowMs)
    const prior = this.seen.get(id)
    if (prior !== undefined && prior > nowMs) return false
    if (this.seen.size >= this.maxEntries) return false
    this.seen.set(id, expiresAtMs)
    return true
  }

  get size(): number {
    return this.seen.size
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepAt && this.seen.size < this.maxEntries) return
    this.nextSweepAt = nowMs + 1000
    // Insertion order is close to expiry order (all entries share one maximum lifetime).
    for (const [id, exp] of this.seen) {
      if (exp <= nowMs) this.seen.delete(id)
    }
  }
}

/**
 * Claims shared by every gateway replica and kept across restarts. `claim` resolves true for the
 * first claim of `id`, false for any later one before `expiresAtMs`, and rejects when it cannot
 * tell (the caller then refuses the token: fail closed).
 */
export interface SharedClaims {
  claim(id: string, expiresAtMs: number): Promise<boolean>
}
