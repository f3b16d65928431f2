// Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection.
//
// Expected flow
//  1. run(): every retryPeriod, try to acquire the Lease: create it, or take it over when it is
//     free (empty holder) or its holder has not renewed for leaseDuration *as observed locally*.
//  2. Once acquired, onStartedLeading(signal) is called; every retryPeriod the lease is renewed.
//  3. If no renewal succeeds for renewDeadline, leadership is lost: the signal aborts, run()
//     resolves. The holder gives up (renewDeadline, 10 s) well before others may take over
//     (leaseDuration, 15 s).
//  4. After the leader's work has stopped, release() empties holderIdentity so a successor takes
//     over at once instead of waiting out the lease.
// Guarantees
//  - Every write is a PUT with the resourceVersion read (or a create): two candidates can never
//    both believe they acquired the same term.
//  - Expiry is judged by local observation time, never by comparing clocks across machines.
// Assumptions
//  - Clocks of candidates advance at about the same rate (no clock sync needed);
//    renewDeadline < leaseDuration leaves the margin for scheduling delays.
// Caveats
//  - Leadership is advisory: work started under it must stop when the signal aborts.

import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { Logger } from 'pino'
import { sleep, realClock, type Clock } from '../clock.ts'
import type { Client } from '../client/client.ts'
import { isConflict, isNotFound } from '../client/api-error.ts'
import type { KObject } from '../client/objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'
import { silentLogger } from '../log.ts'

export const LEASE_KIND = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }

export interface LeaderElectionOptions {
  leaseName: string
  namespace: string
  /** Unique per candidate (default hostname_uuid). */
  identity?: string
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
}

export interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}

interface Lease extends KObject {
  spec?: LeaseSpec
}

export interface ElectorCallbacks {
  onStartedLeading(signal: AbortSignal): void
  onStoppedLeading?(): void
}

export class LeaseElector {
  readonly identity: string
  readonly leaseDurationMs: number
  readonly renewDeadlineMs: number
  readonly retryPeriodMs: number
  readonly #client: Client
  readonly #opts: LeaderElectionOptions
  readonly #clock: Clock
  readonly #log: Logger
  #observed: LeaseSpec | undefined
  #observedAt = 0
  #observedRv: string | undefined
  #leading = false
  #lastLeader: string | undefined

  constructor(client: Client, opts: LeaderElectionOptions, deps: { clock?: Clock; logger?: Logger } = {}) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        `leader election needs leaseDuration > renewDeadline > retryPeriod > 0, got ${this.leaseDurationMs}/${this.renewDeadlineMs}/${this.retryPeriodMs} ms`,
      )
    }
    if (!opts.leaseName || !opts.namespace)
      throw new RuntimeError(ErrorCodes.INVALID_OPTION, 'leader election needs leaseName and namespace')
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`
    this.#client = client
    this.#opts = opts
    this.#clock = deps.clock ?? realClock
    this.#log = (deps.logger ?? silentLogger()).child({ lease: `${opts.namespace}/${opts.leaseName}`, identity: this.identity })
  }

  get isLeader(): boolean {
    return this.#leading
  }

  /** Campaigns until leading, leads until lost or `signal` aborts. Resolves when no longer leading. */
  async run(signal: AbortSignal, cb: ElectorCallbacks): Promise<void> {
    // 1. acquire
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) break
      try {
        await sleep(this.#clock, jittered(this.retryPeriodMs), signal)
      } catch {
        return
      }
    }
    if (signal.aborted) return
    this.#leading = true
    this.#log.info('acquired lease; leading')
    const leadership = new AbortController()
    const onStop = (): void => leadership.abort(signal.reason)
    signal.addEventListener('abort', onStop, { once: true })
    cb.onStartedLeading(leadership.signal)
    // 2. renew
    let lastRenew = this.#clock.now()
    try {
      while (!signal.aborted) {
        try {
          await sleep(this.#clock, this.retryPeriodMs, signal)
        } catch {
          break
        }
        if (await this.#tryAcquireOrRenew(signal)) {
          lastRenew = this.#clock.now()
          continue
        }
        if (signal.aborted) break
        if (
          this.#clock.now() - lastRenew >= this.renewDeadlineMs ||
          (this.#lastLeader !== undefined && this.#lastLeader !== this.identity)
        ) {
          this.#log.error(
            { sinceRenewMs: this.#clock.now() - lastRenew },
            'failed to renew lease within the renew deadline; leadership lost',
          )
          leadership.abort(new RuntimeError(ErrorCodes.LEADERSHIP_LOST, `lost lease ${this.#opts.namespace}/${this.#opts.leaseName}`))
          break
        }
      }
    } finally {
      signal.removeEventListener('abort', onStop)
      if (!leadership.signal.aborted) leadership.abort(signal.reason)
      this.#leading = false
      cb.onStoppedLeading?.()
    }
  }

  /** Gives the lease up (holder emptied) if we still hold it. Best effort; never throws. */
  async release(): Promise<void> {
    try {
      const lease = await this.#client.get<Lease>(LEASE_KIND, this.#opts.leaseName, this.#opts.namespace)
      if (lease.spec?.holderIdentity !== this.identity) return
      const now = microTime(this.#clock.now())
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now }
      await this.#client.replace(lease)
      this.#log.info('released lease')
    } catch (err) {
      this.#log.warn({ err }, 'could not release lease; a successor will wait for it to expire')
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.#clock.now()
    const desired = (current?: LeaseSpec): LeaseSpec => {
      const held = current?.holderIdentity === this.identity
      return {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: held ? current?.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: held ? (current?.leaseTransitions ?? 0) : (current?.leaseTransitions ?? -1) + 1,
      }
    }
    // Each attempt must finish well within the renew deadline.
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1000, this.renewDeadlineMs / 2))])
    try {
      let lease: Lease
      try {
        lease = await this.#client.get<Lease>(LEASE_KIND, this.#opts.leaseName, this.#opts.namespace, attempt)
      } catch (err) {
        if (!isNotFound(err)) throw err
        const spec = desired()
        const created = await this.#client.create<Lease>(
          { ...LEASE_KIND, metadata: { name: this.#opts.leaseName, namespace: this.#opts.namespace }, spec },
          { signal: attempt },
        )
        this.#observe(created, this.#clock.now())
        return true
      }
      const record = lease.spec ?? {}
      if (!isDeepStrictEqual(record, this.#observed) || lease.metadata?.resourceVersion !== this.#observedRv) this.#observe(lease, now)
      const holder = record.holderIdentity ?? ''
      const ttl = (record.leaseDurationSeconds ?? 0) * 1000
      if (holder !== '' && holder !== this.identity && this.#observedAt + ttl > now) return false
      lease.spec = desired(record)
      const updated = await this.#client.replace(lease, { signal: attempt })
      this.#observe(updated, this.#clock.now())
      return true
    } catch (err) {
      if (!isConflict(err) && !signal.aborted) this.#log.warn({ err }, 'lease attempt failed')
      return false
    }
  }

  #observe(lease: Lease, at: number): void {
    this.#observed = lease.spec ?? {}
    this.#observedAt = at
    this.#observedRv = lease.metadata?.resourceVersion
    const holder = this.#observed.holderIdentity ?? ''
    if (holder !== '' && holder !== this.#lastLeader) {
      this.#lastLeader = holder
      this.#log.info({ leader: holder }, 'new leader observed')
    }
  }
}

function jittered(ms: number): number {
  return Math.round(ms * (1 + 0.2 * Math.random()))
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}
