// Watches GameServers and DevServers (every namespace) and keeps what the gateway derives from
// them current: the IDE route table (DevServer vmid → address, Ready) and a stream of status
// changes for the portal (GET /api/events).
//
// Expected flow: start(signal) → both reflectors list, then watch; resolves once both caches are
// filled (routes exist for every DevServer that has a vmid and address).
// Guarantees
//  - A DevServer's route follows its status: set when it has vmid + address, replaced when either
//    or readiness changes, deleted when it loses them, is deleted, or moves to another vmid.
//  - A route carries the DevServer's metadata.uid (IDE sessions are bound to it): a DevServer
//    deleted and recreated under the same vmid replaces the route with the new uid.
//  - Nothing here survives a restart, and nothing needs to: the first list rebuilds it all.
// Caveats: change events are level snapshots of the latest status, not a log of every write.

import { EventEmitter } from 'node:events'
import { Reflector, type Client, type KObject, type Store } from '../../runtime/index.ts'
import { DEVSERVER, GAMESERVER, type DevServer, type GameServer } from '../../api/index.ts'
import type { InMemoryRouteTable } from '../ide/index.ts'
import type { ServerKind } from './kinds.ts'
import { isConditionTrue, type ServerObject } from './status-view.ts'

export interface ServerChange {
  type: 'added' | 'updated' | 'deleted'
  object: ServerObject
}

export interface ServerInformersOptions {
  /** Log sink for bad statuses and watch restarts (no secrets are ever passed). */
  onError?: (err: unknown, what: string) => void
}

export class ServerInformers {
  readonly games: Reflector<GameServer & KObject>
  readonly devs: Reflector<DevServer & KObject>
  /** 'change' (ServerChange) for every add/update/delete of either kind. */
  readonly events = new EventEmitter()
  readonly #routes: InMemoryRouteTable
  readonly #vmidOf = new Map<string, number>()
  readonly #onError: (err: unknown, what: string) => void

  constructor(client: Client, routes: InMemoryRouteTable, opts: ServerInformersOptions = {}) {
    this.#routes = routes
    this.#onError = opts.onError ?? (() => {})
    this.events.setMaxListeners(0)
    this.games = new Reflector<GameServer & KObject>(client, GAMESERVER, { onError: (e, a) => this.#onError(e, `GameServer ${a}`) })
    this.devs = new Reflector<DevServer & KObject>(client, DEVSERVER, { onError: (e, a) => this.#onError(e, `DevServer ${a}`) })
    for (const r of [this.games, this.devs] as Array<Reflector<ServerObject & KObject>>) {
      r.addEventHandler({
        onAdd: (o) => this.#changed('added', o),
        onUpdate: (_old, o) => this.#changed('updated', o),
        onDelete: (o) => this.#changed('deleted', o),
      })
    }
  }

  /** Lists and watches until `signal` aborts; resolves once both caches are filled. */
  async start(signal: AbortSignal, opts: { syncTimeoutMs?: number } = {}): Promise<void> {
    void this.games.run(signal).catch((e) => this.#onError(e, 'GameServer watch ended'))
    void this.devs.run(signal).catch((e) => this.#onError(e, 'DevServer watch ended'))
    const wait = opts.syncTimeoutMs === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(opts.syncTimeoutMs)])
    try {
      await Promise.all([this.games.waitForSync(wait), this.devs.waitForSync(wait)])
    } catch (err) {
      if (signal.aborted) throw err
      throw new Error(
        `GameServers and DevServers could not be listed within ${Math.round((opts.syncTimeoutMs ?? 0) / 1000)} s: apply the CRDs (kubectl apply -f crds/) and check that the gateway may list and watch them`,
        { cause: err },
      )
    }
  }

  get(kind: ServerKind, namespace: string, name: string): ServerObject | undefined {
    return (kind === 'GameServer' ? this.games : this.devs).store.getByName(name, namespace)
  }

  /** Servers of one kind in `namespaces` ('all': every namespace), by namespace then name. */
  listOf(kind: ServerKind, namespaces: readonly string[] | 'all'): ServerObject[] {
    const store = (kind === 'GameServer' ? this.games : this.devs).store as Store<ServerObject & KObject>
    const items: ServerObject[] = namespaces === 'all' ? store.list() : namespaces.flatMap((ns) => store.byIndex('namespace', ns))
    return items.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    )
  }

  /** Game servers, then dev servers, in `namespaces` ('all': every namespace). */
  listIn(namespaces: readonly string[] | 'all'): ServerObject[] {
    return [...this.listOf('GameServer', namespaces), ...this.listOf('DevServer', namespaces)]
  }

  #changed(type: ServerChange['type'], obj: ServerObject): void {
    if (obj.kind === 'DevServer') this.#route(type, obj)
    this.events.emit('change', { type, object: obj } satisfies ServerChange)
  }

  #route(type: ServerChange['type'], dev: DevServer): void {
    const key = `${dev.metadata.namespace}/${dev.metadata.name}`
    const previous = this.#vmidOf.get(key)
    const vmid = dev.status?.vmid
    // The controller's upstream (host:port of the container's code-server) wins over the
    // address with code-server's default port: process containers each have their own port.
    const address = dev.status?.ide?.upstream ?? dev.status?.address
    const routable = type !== 'deleted' && typeof vmid === 'number' && vmid > 0 && !!address
    if (previous !== undefined && (!routable || previous !== vmid)) {
      // Only drop a route this DevServer owns (another may have taken the vmid meanwhile).
      const r = this.#routes.lookup(previous)
      if (r && r.name === dev.metadata.name && r.namespace === dev.metadata.namespace && r.uid === (dev.metadata.uid ?? ''))
        this.#routes.delete(previous)
      this.#vmidOf.delete(key)
    }
    if (!routable) return
    try {
      this.#routes.set(vmid, {
        address,
        ready: isConditionTrue(dev, 'Ready') || isConditionTrue(dev, 'CodeServerReady'),
        name: dev.metadata.name ?? '',
        namespace: dev.metadata.namespace ?? '',
        uid: dev.metadata.uid ?? '',
        ...(dev.status?.ide?.folder === undefined ? {} : { folder: dev.status.ide.folder }),
      })
      this.#vmidOf.set(key, vmid)
    } catch (err) {
      this.#onError(err, `DevServer ${key} cannot be routed (unusable status.address or no uid)`)
    }
  }
}
