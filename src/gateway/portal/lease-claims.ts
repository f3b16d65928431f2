// Single use of IDE tokens across gateway replicas and restarts: redeeming a token claims its
// nonce by creating a Lease named after the nonce's hash in the gateway's system namespace.
// Creation is atomic in the API server, so exactly one redemption wins and every other one gets
// 409 AlreadyExists, whichever replica it reaches and however often the gateway restarted.
//
// Guarantees: the nonce itself is never written anywhere (only its SHA-256 names the Lease); a
// claim Lease lives until its token has expired plus a margin for clock skew between replicas,
// then the sweep deletes it (by then the token's own expiry check refuses it). Any API failure
// other than AlreadyExists rejects, and the caller refuses the token (fail closed).

import { createHash } from 'node:crypto'
import { isConflict, isNotFound, microTime, type Client, type KindRef, type KObject } from '../../runtime/index.ts'
import type { SharedClaims } from '../ide/index.ts'
import { GATEWAY_FIELD_MANAGER } from './kinds.ts'

const LEASE: KindRef = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }
const PURPOSE_LABEL = 'zerolaghub.dev/purpose'
const PURPOSE = 'ide-token-claim'
const NAME_PREFIX = 'zlh-ide-token-'
/** Kept this long past a token's expiry, so a replica whose clock runs behind still finds the claim. */
const SKEW_MARGIN_MS = 60_000

interface LeaseObject extends KObject {
  spec?: { holderIdentity?: string; acquireTime?: string; leaseDurationSeconds?: number }
}

export interface LeaseClaimsOptions {
  namespace: string
  /** Written as the Lease holder, for whoever looks at them (e.g. the replica's pod name). */
  holder?: string
  sweepIntervalMs?: number
  now?: () => number
  onSweepError?: (err: unknown) => void
}

export class LeaseClaims implements SharedClaims {
  private readonly client: Client
  private readonly opts: LeaseClaimsOptions
  private readonly now: () => number
  private sweeper: NodeJS.Timeout | undefined

  constructor(client: Client, opts: LeaseClaimsOptions) {
    this.client = client
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  async claim(id: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now()
    const lease: LeaseObject = {
      apiVersion: LEASE.apiVersion,
      kind: LEASE.kind,
      metadata: {
        name: NAME_PREFIX + createHash('sha256').update(id).digest('hex').slice(0, 40),
        namespace: this.opts.namespace,
        labels: { 'app.kubernetes.io/managed-by': GATEWAY_FIELD_MANAGER, [PURPOSE_LABEL]: PURPOSE },
      },
      spec: {
        holderIdentity: this.opts.holder ?? GATEWAY_FIELD_MANAGER,
        acquireTime: microTime(now),
        leaseDurationSeconds: Math.max(1, Math.ceil((expiresAtMs + SKEW_MARGIN_MS - now) / 1000)),
      },
    }
    try {
      await this.client.create(lease, { fieldManager: GATEWAY_FIELD_MANAGER })
      return true
    } catch (err) {
      if (isConflict(err)) return false
      throw err
    }
  }

  /** Deletes expired claims now and then every `sweepIntervalMs` (default 60 s) until stop(). */
  start(): void {
    const run = (): void => void this.sweep().catch((err) => this.opts.onSweepError?.(err))
    run()
    this.sweeper = setInterval(run, this.opts.sweepIntervalMs ?? 60_000)
    this.sweeper.unref()
  }

  stop(): void {
    clearInterval(this.sweeper)
  }

  /** Deletes the claim Leases whose lifetime is over; returns how many it deleted. */
  async sweep(): Promise<number> {
    let deleted = 0
    let page: string | undefined
    do {
      const list = await this.client.list<LeaseObject>(LEASE, {
        namespace: this.opts.namespace,
        labelSelector: `${PURPOSE_LABEL}=${PURPOSE}`,
        limit: 500,
        continue: page,
      })
      for (const lease of list.items) {
        if (!this.expired(lease)) continue
        try {
          await this.client.delete(LEASE, lease.metadata!.name!, this.opts.namespace)
          deleted++
        } catch (err) {
          if (!isNotFound(err)) throw err
        }
      }
      page = list.metadata?.continue || undefined
    } while (page)
    return deleted
  }

  private expired(lease: LeaseObject): boolean {
    const acquired = Date.parse(lease.spec?.acquireTime ?? '')
    const seconds = lease.spec?.leaseDurationSeconds
    // Not one of ours in a shape we understand: leave it alone.
    if (!Number.isFinite(acquired) || typeof seconds !== 'number') return false
    return acquired + seconds * 1000 <= this.now()
  }
}
