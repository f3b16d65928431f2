// Orphan collection: containers carrying this control plane's owner tag whose GameServer or
// DevServer no longer exists (deleted while the controller was down and its finalizer removed
// by hand, a lost API server, a half-finished create) are deleted after a grace period, with a
// log line and a Warning Event on the ContainerProvider.
// Guarantees: only runs once every cache has synced (an empty cache never makes everything look
// orphaned); a container must be seen orphaned for the whole grace period, across sweeps, before
// it is deleted; the owner uid is re-checked against a live List right before deleting.
import type { Logger } from 'pino'
import type { DevServer, GameServer } from './kinds.ts'
import type { Client, Clock, EventRecorder, Runnable, Store } from '../src/runtime/index.ts'
import { DEVSERVER, GAMESERVER } from './kinds.ts'
import type { ProviderRegistry } from './provider-registry.ts'
import { sleep } from '../src/platform/index.ts'

export interface OrphanCollectorOptions {
  client: Client
  providers: ProviderRegistry
  gameServers: Store<GameServer>
  devServers: Store<DevServer>
  synced: () => boolean
  recorder: EventRecorder
  log: Logger
  graceMs: number
  intervalMs: number
  /** Time of the grace period and the sweep interval. */
  clock: Clock
}

export class OrphanCollector implements Runnable {
  readonly name = 'orphan-collector'
  readonly #o: OrphanCollectorOptions
  /** provider/vmid → first time seen orphaned. */
  readonly #seen = new Map<string, number>()

  constructor(opts: OrphanCollectorOptions) {
    this.#o = opts
  }

  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweep(signal)
      } catch (err) {
        if (!signal.aborted) this.#o.log.warn({ err: (err as Error).message }, 'orphan sweep failed')
      }
      await sleep(this.#o.clock, this.#o.intervalMs, signal).catch(() => {})
    }
  }

  async #liveUids(signal: AbortSignal): Promise<Set<string>> {
    const uids = new Set<string>()
    for (const kind of [GAMESERVER, DEVSERVER]) {
      let cont: string | undefined
      do {
        const page = await this.#o.client.list(kind, { limit: 500, continue: cont, signal })
        for (const o of page.items) if (o.metadata?.uid) uids.add(o.metadata.uid)
        cont = page.metadata?.continue || undefined
      } while (cont)
    }
    return uids
  }

  /** One pass; returns the containers deleted. */
  async sweep(signal: AbortSignal): Promise<Array<{ provider: string; vmid: number; ownerUid: string }>> {
    if (!this.#o.synced()) return []
    const cached = new Set([...this.#o.gameServers.list(), ...this.#o.devServers.list()].map((o) => o.metadata.uid as string))
    const deleted = []
    const stillOrphaned = new Set<string>()
    for (const { name, backend, resource } of await this.#o.providers.all(signal)) {
      let containers
      try {
        containers = await backend.list()
      } catch (err) {
        this.#o.log.warn({ provider: name, err: (err as Error).message }, 'cannot list containers for orphan collection')
        continue
      }
      const candidates = containers.filter((c) => !cached.has(c.ownerUid))
      if (candidates.length === 0) continue
      const live = await this.#liveUids(signal)
      for (const c of candidates) {
        if (live.has(c.ownerUid)) continue
        const key = `${name}/${c.vmid}`
        stillOrphaned.add(key)
        const first = this.#seen.get(key) ?? this.#o.clock.now()
        this.#seen.set(key, first)
        if (this.#o.clock.now() - first < this.#o.graceMs) continue
        const who = c.identity ? `${c.identity.kind} ${c.identity.namespace}/${c.identity.name}` : `owner ${c.ownerUid}`
        this.#o.log.warn(
          { provider: name, vmid: c.vmid, ownerUid: c.ownerUid, owner: who },
          'deleting orphaned container: its resource no longer exists',
        )
        await backend.delete({ ownerUid: c.ownerUid, vmid: c.vmid })
        this.#o.recorder.event(
          resource,
          'Warning',
          'OrphanDeleted',
          `deleted container ${c.vmid}: it belonged to ${who}, which no longer exists`,
        )
        this.#seen.delete(key)
        deleted.push({ provider: name, vmid: c.vmid, ownerUid: c.ownerUid })
      }
    }
    for (const key of this.#seen.keys()) if (!stillOrphaned.has(key)) this.#seen.delete(key)
    return deleted
  }
}
