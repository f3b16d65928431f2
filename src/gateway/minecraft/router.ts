// The gateway's Minecraft router: one TCP port for every GameServer, routed by the host name the player
// typed (the handshake's server address, `<name>.<namespace>.<suffix>` or `<name>.<suffix>` for the
// namespace default; src/api/game-host.ts), as mc-router does. It answers for servers asleep at container
// level (the sleeping MOTD; a login wakes the server through the controller and is held until it plays).
//
// Expected flow, per connection (the front door, src/platform/game-protocol/front-door.ts, does the wire):
//  1. The client's address is counted at accept, before the handshake (at most maxConnectionsPerClient open at once).
//  2. The handshake's host names a GameServer in the gateway's informer cache (no API call per connection).
//  3. route.ts says what it is: proxy to status.address:spec.server.port; sleeping (ping: "<name> is
//     sleeping — join to wake"; login: wake.ts, held until Running + Ready + address); starting (held the
//     same way, no wake written); down or unknown: refused with a message.
// Guarantees
//  - Anonymous by design: the host name is public. An absent server, a reserved namespace (kube-*, the
//    gateway's own) and a malformed name get the same "unknown" answer: nothing is revealed beyond the
//    name asked.
//  - Connections go only to addresses from status (route.ts), never to anything the client sent.
//  - Logs carry the client's host name only escaped and cut to 80 characters; never a player name.
// close() stops the listener, ends the waits and destroys every connection.

import type { AddressInfo } from 'node:net'
import { parseGameHost, type GameServer } from '../../api/index.ts'
import type { Client } from '../../runtime/index.ts'
import {
  createMinecraftFrontDoor,
  DEFAULT_HOLD_TIMEOUT_MS,
  MAX_HOLD_TIMEOUT_MS,
  type FrontDoorOptions,
  type MinecraftFrontDoor,
} from '../../platform/game-protocol/index.ts'
import { ClientLimits } from './client-limits.ts'
import { playerText } from './messages.ts'
import { routeOf } from './route.ts'
import { GameWaker, type GameServerCache, type WakeLog } from './wake.ts'

export interface MinecraftRouterOptions {
  /** The gateway's GameServer cache (ServerInformers). */
  cache: GameServerCache
  /** Writes the wake annotation (the gateway's ServiceAccount: patch on gameservers). */
  client: Pick<Client, 'patch'>
  /** Host names are `<name>[.<namespace>].<suffix>`. */
  suffix: string
  /** The gateway's own namespace: never routed (nor kube-*). */
  systemNamespace: string
  /** How long a login is held while its server wakes (default 25 s, at most 60 s). */
  holdTimeoutMs?: number
  handshakeTimeoutMs?: number
  /** Connections open at once, in all (default 1024). */
  maxConnections?: number
  /** Connections one client address may hold open at once (default 16). */
  maxConnectionsPerClient?: number
  log?: WakeLog & { debug?(obj: object, msg: string): void }
  now?: () => number
}

export interface MinecraftRouter {
  /** Where it listens. */
  readonly address: AddressInfo
  readonly connections: number
  readonly held: number
  close(): Promise<void>
}

export const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 16
/** A host suffix: lower-case DNS labels, dot-separated. */
const SUFFIX = /^(?=.{1,200}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/

/** The decision for one handshake (exported for tests; startMinecraftRouter wires it to a front door). */
export function minecraftDecider(opts: MinecraftRouterOptions, waker: GameWaker): FrontDoorOptions['decide'] {
  return (handshake) => {
    const target = parseGameHost(handshake.host, opts.suffix)
    const reserved = target !== undefined && (target.namespace.startsWith('kube-') || target.namespace === opts.systemNamespace)
    const gs = target && !reserved ? (opts.cache.get('GameServer', target.namespace, target.name) as GameServer | undefined) : undefined
    if (!target || !gs) {
      opts.log?.debug?.({ host: logText(handshake.host) }, 'Minecraft connection for no known server refused')
      return { action: 'refuse', message: playerText.unknownServer() }
    }
    const { namespace, name } = target
    const route = routeOf(gs)
    switch (route.kind) {
      case 'proxy':
        return { action: 'proxy', backend: route.backend }
      case 'sleeping':
        return {
          action: 'sleeping',
          motd: route.wakeOnConnect ? playerText.sleepingMotd(name) : playerText.sleepingNoWakeMotd(name),
          ...(route.maxPlayers === undefined ? {} : { maxPlayers: route.maxPlayers }),
          ...(route.wakeOnConnect ? { wake: () => waker.wake(namespace, name) } : {}),
          retryMessage: route.wakeOnConnect ? playerText.comeBackLater(name) : playerText.sleepingNoWake(name),
        }
      case 'starting':
        return {
          action: 'sleeping',
          motd: playerText.startingMotd(name),
          ...(route.maxPlayers === undefined ? {} : { maxPlayers: route.maxPlayers }),
          wake: () => waker.whenReady(namespace, name),
          retryMessage: playerText.comeBackLater(name),
        }
      case 'down':
        return { action: 'refuse', message: playerText.notRunning(name) }
    }
  }
}

/** Listens on `listen` and routes every connection; resolves once listening. */
export async function startMinecraftRouter(
  opts: MinecraftRouterOptions & { listen: { host: string; port: number } },
): Promise<MinecraftRouter> {
  if (!SUFFIX.test(opts.suffix))
    throw new Error(`game host suffix ${JSON.stringify(opts.suffix)} is not a DNS name: give one like play.example.com or localhost`)
  const holdTimeoutMs = Math.min(opts.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS, MAX_HOLD_TIMEOUT_MS)
  const waker = new GameWaker({ cache: opts.cache, client: opts.client, waitMs: holdTimeoutMs, log: opts.log, now: opts.now })
  const limits = new ClientLimits(opts.maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT)
  const door: MinecraftFrontDoor = createMinecraftFrontDoor({
    // Counted at accept, before the handshake: a client that opens sockets and sends nothing holds
    // at most its own share until the handshake timeout, never the router's whole budget.
    admit: (client) => limits.admit(client),
    decide: minecraftDecider(opts, waker),
    holdTimeoutMs,
    ...(opts.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: opts.handshakeTimeoutMs }),
    ...(opts.maxConnections === undefined ? {} : { maxConnections: opts.maxConnections }),
  })
  const address = await door.listen(opts.listen.port, opts.listen.host)
  return {
    address,
    get connections() {
      return door.connections
    },
    get held() {
      return door.held
    },
    async close() {
      waker.close()
      await door.close()
    },
  }
}

/** A client-supplied string as it may appear in a log: printable ASCII only (others as \uXXXX), at most `max` characters and "...". */
export function logText(s: string, max = 80): string {
  const escaped = s.slice(0, max).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return s.length > max || escaped.length > max ? `${escaped.slice(0, max)}...` : escaped
}
