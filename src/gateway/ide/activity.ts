// IDE activity: the gateway tells the controller when a DevServer was last used, so that a
// DevServer with spec.idle sleeps only when nobody uses its IDE. Use is every IDE HTTP request,
// every WebSocket chunk either way on a proxied IDE socket, and console sessions the portal opens
// for a DevServer (opened or typed in). The time is written into the DevServer's annotation
// LAST_ACTIVITY_ANNOTATION (RFC 3339) by a JSON merge patch carrying metadata.uid, so a write can
// never land on a DevServer recreated under the same name.
//
// Expected flow
// 1. `touch(ref)` records "used now" in memory: a Map read and two number compares, no
//    allocation, no timer, no API call (it runs per WebSocket chunk).
// 2. When the DevServer's last write is older than its interval, min(60 s, stopAfterSeconds / 3),
//    the touch writes at once (leading edge). A touch within the interval only arms one timer for
//    the end of the interval (trailing edge), which writes the latest time seen, so the
//    annotation is never more than one interval behind the real last use.
// 3. The interval and whether to write at all are decided when a write is due, from the
//    DevServer's spec.idle in the informer cache (`idleSecondsOf`): a DevServer without spec.idle
//    is never written to; it is looked at again no sooner than 60 s later.
//
// Guarantees: at most one write in flight and at most one write per interval per DevServer; no
// timer exists while nothing happens (a trailing timer is armed only by a touch and fires once);
// a write never moves the annotation backwards within this process.
// Errors: a failed write (403: the gateway's role lacks patch on devservers; 404/409: the
// DevServer is gone or was recreated) is logged once per DevServer until a write succeeds again,
// and the next attempt waits an interval doubled per failure (up to 5 min): never retried hot.
// Caveats: in memory, per replica. Replicas each write their own latest time (merge patches do
// not compare), which at worst moves the annotation back by one interval; the controller's idle
// clock also counts the last wake, so a fresh wake is never put back to sleep by it.

import type { Clock, TimerHandle } from '../../platform/clock.ts'

/** The DevServer a use belongs to. */
export interface DevServerRef {
  readonly namespace: string
  readonly name: string
  /** metadata.uid: entries are kept per uid, and the write is bound to it. */
  readonly uid: string
}

export interface IdeActivityOptions {
  clock: Clock
  /** spec.idle.stopAfterSeconds of the DevServer as the gateway's cache has it; undefined = no spec.idle (never written). */
  idleSecondsOf(ref: DevServerRef): number | undefined
  /** Writes the annotation (a merge patch with metadata.uid); rejects with the API's error. */
  write(ref: DevServerRef, at: Date): Promise<void>
  /** Where a failing write is reported (once per DevServer until one succeeds). */
  onWriteError?(ref: DevServerRef, err: unknown): void
}

interface Entry {
  ref: DevServerRef
  /** Latest use seen. */
  lastSeenMs: number
  /** Latest use written (or being written). */
  writtenMs: number
  /** No write is started before this. */
  nextWriteAtMs: number
  /** Whether spec.idle was set when last looked at. */
  idle: boolean
  inFlight: boolean
  timer: TimerHandle | undefined
  failures: number
}

/** The longest time between two writes for one DevServer. */
export const MAX_ACTIVITY_INTERVAL_MS = 60_000
const MAX_FAILURE_BACKOFF_MS = 5 * 60_000
/** Entries unused this long (and with nothing pending) are forgotten. */
const FORGET_AFTER_MS = 10 * 60_000
const SWEEP_EVERY_MS = 60_000

/** How often the activity of a DevServer that sleeps after `stopAfterSeconds` is written. */
export function activityIntervalMs(stopAfterSeconds: number): number {
  return Math.min(MAX_ACTIVITY_INTERVAL_MS, Math.max(1000, Math.floor((stopAfterSeconds * 1000) / 3)))
}

export class IdeActivity {
  private readonly opts: IdeActivityOptions
  private readonly entries = new Map<string, Entry>()
  private nextSweepAtMs = 0
  private closed = false

  constructor(opts: IdeActivityOptions) {
    this.opts = opts
  }

  /** Records a use of the DevServer now; writes or arms a timer only when a write is due. */
  touch(ref: DevServerRef): void {
    const now = this.opts.clock.now()
    let e = this.entries.get(ref.uid)
    if (e === undefined) {
      if (this.closed) return
      this.sweep(now)
      e = { ref, lastSeenMs: now, writtenMs: 0, nextWriteAtMs: 0, idle: true, inFlight: false, timer: undefined, failures: 0 }
      this.entries.set(ref.uid, e)
    } else if (now > e.lastSeenMs) e.lastSeenMs = now
    if (e.inFlight || e.timer !== undefined) return
    if (now >= e.nextWriteAtMs) return this.flush(e)
    if (e.idle && e.failures === 0) this.arm(e, e.nextWriteAtMs - now)
  }

  /** DevServers with a recorded use (tests and leak checks). */
  get tracked(): number {
    return this.entries.size
  }

  /** Timers armed (tests: none while nothing happens). */
  get armedTimers(): number {
    let n = 0
    for (const e of this.entries.values()) if (e.timer !== undefined) n++
    return n
  }

  /** Drops every timer; pending uses are not written. */
  close(): void {
    this.closed = true
    for (const e of this.entries.values()) if (e.timer !== undefined) this.opts.clock.clearTimer(e.timer)
    this.entries.clear()
  }

  private arm(e: Entry, delayMs: number): void {
    e.timer = this.opts.clock.setTimer(() => {
      e.timer = undefined
      if (this.entries.get(e.ref.uid) === e) this.flush(e)
    }, delayMs)
  }

  private flush(e: Entry): void {
    const now = this.opts.clock.now()
    const stopAfter = this.opts.idleSecondsOf(e.ref)
    e.idle = stopAfter !== undefined
    if (stopAfter === undefined) {
      e.nextWriteAtMs = now + MAX_ACTIVITY_INTERVAL_MS
      return
    }
    const interval = activityIntervalMs(stopAfter)
    e.nextWriteAtMs = now + interval
    if (e.lastSeenMs <= e.writtenMs) return
    const at = e.lastSeenMs
    e.inFlight = true
    e.writtenMs = at
    this.opts.write(e.ref, new Date(at)).then(
      () => {
        e.inFlight = false
        e.failures = 0
        // Uses seen while writing: one trailing write at the end of the interval.
        if (e.lastSeenMs > e.writtenMs && e.timer === undefined && !this.closed)
          this.arm(e, Math.max(0, e.nextWriteAtMs - this.opts.clock.now()))
      },
      (err: unknown) => {
        e.inFlight = false
        if (e.failures === 0) this.opts.onWriteError?.(e.ref, err)
        e.failures++
        e.writtenMs = 0
        e.nextWriteAtMs = this.opts.clock.now() + Math.min(MAX_FAILURE_BACKOFF_MS, interval * 2 ** e.failures)
      },
    )
  }

  private sweep(now: number): void {
    if (now < this.nextSweepAtMs) return
    this.nextSweepAtMs = now + SWEEP_EVERY_MS
    for (const [uid, e] of this.entries) {
      if (!e.inFlight && e.timer === undefined && e.lastSeenMs + FORGET_AFTER_MS <= now) this.entries.delete(uid)
    }
  }
}
