// What the Minecraft router does with a GameServer as the gateway's informer cache shows it: pure
// functions of the object, no I/O. The router (router.ts) turns the answer into a front-door decision.
//
// Guarantees
//  - A backend is only ever built from status.address (an IP literal or a DNS name, nothing else) and
//    spec.server.port: never from anything a client sent.
//  - A server is routable (`proxy`) while its container runs and answers for the game: phase Running, or
//    asleep at process level (the agent's own front door holds the game port and wakes the game itself).
//  - Asleep at container level (status.sleep.level container) → `sleeping`: the gateway holds the port.
//  - Coming up (Pending … Starting, spec.running not false) → `starting`: a login is held until Ready.
//  - Anything else (Stopped, Crashed, Backoff, Error, Terminating, no address) → `down`.

import { isIP } from 'node:net'
import type { GameServer } from '../../api/index.ts'
import type { Backend } from '../../platform/game-protocol/index.ts'

export type GameRoute =
  | { kind: 'proxy'; backend: Backend }
  | { kind: 'sleeping'; wakeOnConnect: boolean; maxPlayers?: number }
  | { kind: 'starting'; maxPlayers?: number }
  | { kind: 'down'; phase: string }

const DEFAULT_GAME_PORT = 25565
// Sleeping without status.sleep: a wake cleared the sleep and the driver has not yet moved the phase on.
const COMING_UP = new Set(['Pending', 'Provisioning', 'Installing', 'Starting', 'Sleeping'])
/** A DNS name (labels of letters, digits and hyphens) as a status.address may hold one. */
const DNS_NAME = /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/

/** Where the game of `gs` answers, from its status and spec only; undefined without a usable address. */
export function backendOf(gs: GameServer): Backend | undefined {
  const address = gs.status?.address
  if (typeof address !== 'string' || !(isIP(address) !== 0 || DNS_NAME.test(address))) return undefined
  const port = gs.spec?.server?.port ?? DEFAULT_GAME_PORT
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined
  return { host: address, port }
}

/** Running, Ready=True and an address: a woken server may take players (what a held login waits for). */
export function readyBackend(gs: GameServer): Backend | undefined {
  if (gs.status?.phase !== 'Running') return undefined
  const ready = gs.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
  return ready ? backendOf(gs) : undefined
}

export function routeOf(gs: GameServer): GameRoute {
  const status = gs.status ?? {}
  const maxPlayers = status.players?.max
  const withMax = maxPlayers === undefined ? {} : { maxPlayers }
  if (status.sleep?.level === 'container') return { kind: 'sleeping', wakeOnConnect: gs.spec?.idle?.wake !== 'never', ...withMax }
  const backend = backendOf(gs)
  if (backend && (status.phase === 'Running' || status.sleep?.level === 'process')) return { kind: 'proxy', backend }
  if (gs.spec?.running !== false && COMING_UP.has(status.phase ?? 'Pending')) return { kind: 'starting', ...withMax }
  return { kind: 'down', phase: status.phase ?? 'Pending' }
}
