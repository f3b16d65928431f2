// Asking the controller to wake a sleeping DevServer: the gateway writes WAKE_REQUESTED_ANNOTATION
// (an RFC 3339 time later than status.sleep.since) by a JSON merge patch carrying metadata.uid.
//
// Expected flow
// 1. A browser with a valid IDE session opens a sleeping DevServer's IDE: `request(dev)`.
// 2. Nothing is written when the annotation already asks for this sleep (src/api/wake-request.ts)
//    or when this process already wrote (or is writing) it for this sleep.
// 3. Otherwise one merge patch is sent; every concurrent request for the same sleep shares it.
//
// Guarantees: one write per DevServer (uid) per sleep (status.sleep.since), however many
// browsers, tabs and requests arrive; the written time is later than status.sleep.since even on
// a clock behind the controller's. A failed write is remembered (`failure`, shown on the
// starting page) and retried no sooner than RETRY_AFTER_MS later, by the next request.
// Caveats: replicas coordinate through the annotation only: two replicas seeing the same sleep
// at the same instant may both write (the controller reads one time; the effect is the same).

import { wakeRequestedFor, wakeRequestTime } from '../../api/index.ts'
import type { Clock } from '../../platform/clock.ts'
import type { DevServerRef } from './activity.ts'

/** What the wake decision reads from a DevServer. */
export interface SleepingDevServer extends DevServerRef {
  /** status.sleep.since ('' when the status has no time). */
  readonly sleepSince: string
  /** metadata.annotations[WAKE_REQUESTED_ANNOTATION], if any. */
  readonly wakeRequested: string | undefined
}

export interface WakeRequestsOptions {
  clock: Clock
  write(ref: DevServerRef, at: Date): Promise<void>
  onWriteError?(ref: DevServerRef, err: unknown): void
}

interface Attempt {
  sleepSince: string
  state: 'writing' | 'written' | 'failed'
  atMs: number
  failure?: string
}

const RETRY_AFTER_MS = 10_000

export class WakeRequests {
  private readonly opts: WakeRequestsOptions
  private readonly attempts = new Map<string, Attempt>()

  constructor(opts: WakeRequestsOptions) {
    this.opts = opts
  }

  /** Asks to wake `dev` unless that was asked for this sleep already; never throws. */
  request(dev: SleepingDevServer): void {
    const now = this.opts.clock.now()
    if (wakeRequestedFor(dev.wakeRequested, dev.sleepSince, now)) return
    const prev = this.attempts.get(dev.uid)
    if (prev && prev.sleepSince === dev.sleepSince) {
      if (prev.state !== 'failed' || now - prev.atMs < RETRY_AFTER_MS) return
    }
    if (this.attempts.size > 10_000) this.attempts.clear()
    const attempt: Attempt = { sleepSince: dev.sleepSince, state: 'writing', atMs: now }
    this.attempts.set(dev.uid, attempt)
    this.opts.write(dev, new Date(wakeRequestTime(dev.sleepSince, now))).then(
      () => {
        attempt.state = 'written'
      },
      (err: unknown) => {
        attempt.state = 'failed'
        attempt.atMs = this.opts.clock.now()
        attempt.failure = (err as Error)?.message ?? String(err)
        this.opts.onWriteError?.(dev, err)
      },
    )
  }

  /** Why the last wake request for this sleep failed, if it did. */
  failure(dev: SleepingDevServer): string | undefined {
    const a = this.attempts.get(dev.uid)
    return a && a.sleepSince === dev.sleepSince && a.state === 'failed' ? a.failure : undefined
  }
}
