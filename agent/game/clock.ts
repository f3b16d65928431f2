// Time as the supervisor sees it. Backoff, grace periods and uptimes all go through a Clock so
// tests can drive 30/60/120 s of backoff in microseconds with FakeClock.
export interface TimerHandle { cancel(): void }

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Runs `fn` after `ms`; the returned handle cancels it. Timers never keep the process alive. */
  after(ms: number, fn: () => void): TimerHandle
}

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
}

interface FakeTimer { at: number; fn: () => void; seq: number }

/** A manually advanced clock: timers fire only inside advance(), in due order. */
export class FakeClock implements Clock {
  private time: number
  private seq = 0
  private timers = new Set<FakeTimer>()

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn, seq: this.seq++ }
    this.timers.add(timer)
    return { cancel: () => { this.timers.delete(timer) } }
  }

  /** Moves time forward, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next) break
      this.timers.delete(next)
      this.time = next.at
      next.fn()
    }
    this.time = target
  }

  /** When the earliest pending timer is due, or null. */
  nextDue(): number | null {
    let min: number | null = null
    for (const t of this.timers) if (min === null || t.at < min) min = t.at
    return min
  }
}
