// Time as a dependency: every component that waits (work queue delays, backoff, leases, resync,
// a game's restart backoff and stop grace) takes a Clock, so tests drive time by hand with
// FakeClock instead of sleeping. The one clock of the product; src/runtime re-exports it.
//
// Guarantees (FakeClock): timers fire in due-time order, ties in creation order; a timer set while
// advance() runs fires in the same advance() if it falls due within the advanced window.
// Guarantees (real clocks): `realClock`'s timers keep the process alive like setTimeout;
// `realBackgroundClock`'s never do (a daemon's backoff must not delay its exit).
// Caveat: FakeClock fires callbacks synchronously; code that continues after an `await` needs the
// test to yield (`await clock.settle()`) before observing effects.

export interface TimerHandle {
  readonly id: number
}

export interface Clock {
  /** Milliseconds since the epoch (the fake clock starts wherever the test says). */
  now(): number
  setTimer(fn: () => void, delayMs: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

/** Resolves after `ms` on the given clock; rejects with the signal's reason when aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clock.clearTimer(handle)
      reject(signal?.reason)
    }
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

class RealClock implements Clock {
  #timers = new Map<number, NodeJS.Timeout>()
  #nextId = 1
  readonly #keepsProcessAlive: boolean
  constructor(keepsProcessAlive: boolean) {
    this.#keepsProcessAlive = keepsProcessAlive
  }
  now(): number {
    return Date.now()
  }
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++
    const t = setTimeout(
      () => {
        this.#timers.delete(id)
        fn()
      },
      Math.max(0, delayMs),
    )
    if (!this.#keepsProcessAlive) t.unref()
    this.#timers.set(id, t)
    return { id }
  }
  clearTimer(handle: TimerHandle): void {
    const t = this.#timers.get(handle.id)
    if (t !== undefined) {
      clearTimeout(t)
      this.#timers.delete(handle.id)
    }
  }
}

/** Wall-clock time; a pending timer keeps the process alive, as setTimeout does. */
export const realClock: Clock = new RealClock(true)

/** Wall-clock time whose timers never keep the process alive (unref'd). */
export const realBackgroundClock: Clock = new RealClock(false)

interface FakeTimer {
  id: number
  due: number
  fn: () => void
}

/** A clock that only moves when the test says so. */
export class FakeClock implements Clock {
  #now: number
  #timers: FakeTimer[] = []
  #nextId = 1
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs
  }
  now(): number {
    return this.#now
  }
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const t = { id: this.#nextId++, due: this.#now + Math.max(0, delayMs), fn }
    this.#timers.push(t)
    return { id: t.id }
  }
  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id)
  }
  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length
  }
  /** Due time of the earliest timer, or undefined. */
  nextDue(): number | undefined {
    return this.#timers.reduce<number | undefined>((m, t) => (m === undefined || t.due < m ? t.due : m), undefined)
  }
  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      let next: FakeTimer | undefined
      for (const t of this.#timers) if (t.due <= target && (next === undefined || t.due < next.due)) next = t
      if (next === undefined) break
      this.#timers = this.#timers.filter((t) => t !== next)
      this.#now = next.due
      next.fn()
    }
    this.#now = target
  }
  /** Lets pending promise continuations run (a few macrotask turns). */
  async settle(turns = 5): Promise<void> {
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  }
}
