// EventRecorder: writes core/v1 Events about objects, correlated (see correlator.ts) so repeats
// bump `count`/`lastTimestamp` on one Event instead of creating one per occurrence.
//
// Guarantees: event() never throws and never blocks the caller; failures are logged. Writes for
// one Event are serialized (an update never overtakes its create). flush() awaits all writes.
// Caveat: counts live in this process; a restarted controller starts new Events.

import type { Logger } from 'pino'
import { realClock, type Clock } from '../clock.ts'
import { PatchType, type Client } from '../client/client.ts'
import { isNotFound } from '../client/api-error.ts'
import type { KObject } from '../client/objects.ts'
import { rfc3339 } from '../conditions.ts'
import { silentLogger } from '../log.ts'
import { EventCorrelator, type CorrelatorOptions } from './correlator.ts'

const EVENT_KIND = { apiVersion: 'v1', kind: 'Event' }

export interface RecorderOptions extends CorrelatorOptions {
  /** source.component / reportingComponent, e.g. "replicator-controller". */
  component: string
  instance?: string
  clock?: Clock
  logger?: Logger
}

export class EventRecorder {
  readonly #client: Client
  readonly #opts: RecorderOptions
  readonly #clock: Clock
  readonly #log: Logger
  readonly #correlator: EventCorrelator
  readonly #chains = new Map<string, Promise<void>>()

  constructor(client: Client, opts: RecorderOptions) {
    this.#client = client
    this.#opts = opts
    this.#clock = opts.clock ?? realClock
    this.#log = opts.logger ?? silentLogger()
    this.#correlator = new EventCorrelator(this.#clock, opts)
  }

  /** Records that `reason` happened to `obj` (type Normal or Warning). */
  event(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const m = obj.metadata ?? {}
    const namespace = m.namespace || 'default'
    const involvedKey = `${obj.apiVersion}/${obj.kind}/${m.namespace ?? ''}/${m.name ?? ''}/${m.uid ?? ''}`
    const c = this.#correlator.correlate({ involvedKey, type, reason, message, source: this.#opts.component }, m.name ?? 'object')
    if (c.action === 'drop') {
      this.#log.debug({ reason }, 'event dropped by spam filter')
      return
    }
    const now = rfc3339(new Date(this.#clock.now()))
    const create = (): Promise<unknown> =>
      this.#client.create({
        ...EVENT_KIND,
        metadata: { name: c.name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        type,
        reason,
        message: c.message,
        count: c.count,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.#opts.component },
        reportingComponent: this.#opts.component,
        reportingInstance: this.#opts.instance ?? '',
      })
    const write = async (): Promise<void> => {
      if (c.action === 'create') {
        await create()
        return
      }
      try {
        await this.#client.patch(EVENT_KIND, c.name, namespace, { count: c.count, lastTimestamp: now, message: c.message }, PatchType.merge)
      } catch (err) {
        if (!isNotFound(err)) throw err
        this.#correlator.forget(c.name)
      }
    }
    const prev = this.#chains.get(c.name) ?? Promise.resolve()
    const next = prev.then(write).catch((err: unknown) => {
      this.#log.warn({ err, reason }, 'could not write event')
    })
    this.#chains.set(c.name, next)
    void next.then(() => {
      if (this.#chains.get(c.name) === next) this.#chains.delete(c.name)
    })
  }

  /** Resolves when every event written so far has reached the server (or failed). */
  async flush(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()])
  }
}
