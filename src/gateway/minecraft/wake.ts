// Wakes GameServers that sleep at container level, for the Minecraft router: asks the controller by
// writing the wake annotation, then waits on the informer cache until the server can take players.
//
// Expected flow (wake)
//  1. A login for a sleeping server calls wake(namespace, name). One wake per server is in flight at a
//     time: concurrent logins share it (one annotation write, one wait).
//  2. Unless the annotation already asks for a wake later than status.sleep.since (another login, another
//     gateway replica or a person asked first; src/api/wake-request.ts has the rule),
//     WAKE_REQUESTED_ANNOTATION is merge-patched to now (at least 1 ms after status.sleep.since, so a clock
//     behind the controller's still wakes it).
//  3. Informer change events (no polling, no API call) until the server is Running, Ready=True and has an
//     address: resolves with its backend. Deleted, the wait bound passed, or the router closed: undefined.
// Guarantees: at most one annotation write per server per wait period; every wait ends by its bound and
// removes its listener; nothing outlives close().
// Errors: a refused or failed write resolves undefined (the player is told to retry) and is logged.

import type { EventEmitter } from 'node:events'
import { GAMESERVER, WAKE_REQUESTED_ANNOTATION, wakeRequestedFor, wakeRequestTime, type GameServer } from '../../api/index.ts'
import { PatchType, type Client } from '../../runtime/index.ts'
import type { Backend } from '../../platform/game-protocol/index.ts'
import type { ServerChange } from '../portal/informers.ts'
import { GATEWAY_FIELD_MANAGER } from '../portal/kinds.ts'
import { readyBackend } from './route.ts'

/** What the waker reads: the gateway's GameServer cache and its change stream (ServerInformers). */
export interface GameServerCache {
  get(kind: 'GameServer', namespace: string, name: string): unknown
  readonly events: EventEmitter
}

export interface WakeLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface GameWakerOptions {
  cache: GameServerCache
  client: Pick<Client, 'patch'>
  /** How long one wait lasts at most (the front door's hold timeout; a later login starts a new one). */
  waitMs: number
  log?: WakeLog
  now?: () => number
}

export class GameWaker {
  readonly #opts: GameWakerOptions
  readonly #inFlight = new Map<string, Promise<Backend | undefined>>()
  readonly #closing = new AbortController()

  constructor(opts: GameWakerOptions) {
    this.#opts = opts
  }

  /** Waits in flight (shared by concurrent logins). */
  get pending(): number {
    return this.#inFlight.size
  }

  /** Asks the controller to wake the server (once) and waits until it can take players. */
  wake(namespace: string, name: string): Promise<Backend | undefined> {
    const key = `${namespace}/${name}`
    let wait = this.#inFlight.get(key)
    if (!wait) {
      wait = this.#requestWake(namespace, name)
        .then((asked) => (asked ? this.whenReady(namespace, name) : undefined))
        .finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, wait)
    }
    return wait
  }

  /** Waits (without asking) until the server is Running, Ready and has an address; undefined when the bound passes. */
  whenReady(namespace: string, name: string): Promise<Backend | undefined> {
    const { cache, waitMs } = this.#opts
    const now = readyBackend(cache.get('GameServer', namespace, name) as GameServer)
    if (now || this.#closing.signal.aborted) return Promise.resolve(now)
    return new Promise((resolve) => {
      const finish = (backend: Backend | undefined): void => {
        clearTimeout(timer)
        cache.events.off('change', onChange)
        this.#closing.signal.removeEventListener('abort', onClose)
        resolve(backend)
      }
      const onChange = (change: ServerChange): void => {
        const o = change.object
        if (o.kind !== 'GameServer' || o.metadata.namespace !== namespace || o.metadata.name !== name) return
        if (change.type === 'deleted') return finish(undefined)
        const backend = readyBackend(o)
        if (backend) finish(backend)
      }
      const onClose = (): void => finish(undefined)
      const timer = setTimeout(() => finish(undefined), waitMs)
      cache.events.on('change', onChange)
      this.#closing.signal.addEventListener('abort', onClose, { once: true })
    })
  }

  /** Ends every wait (they resolve undefined). */
  close(): void {
    this.#closing.abort()
  }

  /** Writes the annotation unless a wake later than the sleep is already asked; false when that failed. */
  async #requestWake(namespace: string, name: string): Promise<boolean> {
    const gs = this.#opts.cache.get('GameServer', namespace, name) as GameServer | undefined
    if (!gs) return false
    const now = (this.#opts.now ?? Date.now)()
    const since = gs.status?.sleep?.since
    // A request dated far ahead of this clock is not trusted (the controller ignores those too): write a fresh one.
    if (wakeRequestedFor(gs.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION], since, now)) return true
    const at = wakeRequestTime(since, now)
    try {
      await this.#opts.client.patch(
        GAMESERVER,
        name,
        namespace,
        { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: at } } },
        PatchType.merge,
        {
          fieldManager: GATEWAY_FIELD_MANAGER,
          signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#opts.waitMs)]),
        },
      )
      this.#opts.log?.info({ server: `${namespace}/${name}`, at }, 'a player login asked to wake a sleeping game server')
      return true
    } catch (err) {
      this.#opts.log?.warn(
        { server: `${namespace}/${name}`, err: (err as Error)?.message ?? String(err) },
        'could not ask the controller to wake a game server (annotation write refused or failed): the player was told to retry',
      )
      return false
    }
  }
}
