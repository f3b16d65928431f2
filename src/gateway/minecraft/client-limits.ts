// How many Minecraft connections one client address may hold open through the router at once (the
// front door bounds the total). Connections are counted from their accept, before any byte is read, until
// their socket closes, so sockets that never send a handshake count too.
// Guarantees: every admitted socket is released exactly once, on 'close'; an address with nothing open
// holds no memory. IPv4-mapped IPv6 addresses count as their IPv4 address; other IPv6 addresses count
// by their /64, since one subscriber is usually given a whole /64 and could otherwise take a fresh
// address per connection.

import type { Socket } from 'node:net'

export class ClientLimits {
  readonly #max: number
  readonly #open = new Map<string, number>()

  constructor(maxPerClient: number) {
    if (!Number.isInteger(maxPerClient) || maxPerClient < 1)
      throw new Error(`connections per client must be a positive integer, got ${maxPerClient}`)
    this.#max = maxPerClient
  }

  /** Counts `socket` against its address; false (nothing counted) when that address is at its limit. */
  admit(socket: Socket): boolean {
    if (socket.destroyed) return false
    const key = clientKey(socket.remoteAddress)
    const n = this.#open.get(key) ?? 0
    if (n >= this.#max) return false
    this.#open.set(key, n + 1)
    socket.once('close', () => {
      const left = (this.#open.get(key) ?? 1) - 1
      if (left <= 0) this.#open.delete(key)
      else this.#open.set(key, left)
    })
    return true
  }

  /** Addresses with an open connection (tests). */
  get clients(): number {
    return this.#open.size
  }
}

export function clientKey(address: string | undefined): string {
  if (!address) return '?'
  if (!address.includes(':')) return address
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  return `${ipv6Network64(address)}::/64`
}

/** The first four groups of an IPv6 address, each without leading zeros (`2001:db8:0:1`). */
function ipv6Network64(address: string): string {
  const bare = address.split('%')[0]!
  const width = (groups: string[]): number => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const split = bare.split('::')
  const head = split[0] ? split[0].split(':') : []
  const tail = split.length > 1 && split[1] ? split[1].split(':') : []
  const groups = split.length > 1 ? [...head, ...Array<string>(Math.max(0, 8 - width(head) - width(tail))).fill('0'), ...tail] : head
  return groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16).toString(16) : '0'))
    .join(':')
}
