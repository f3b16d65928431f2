// How many Minecraft connections one client address may hold open through the router at once (the
// front door bounds the total). Connections are counted from their accept, before any byte is read, until
// their socket closes, so sockets that never send a handshake count too.
// Guarantees: every admitted socket is released exactly once, on 'close'; an address with nothing open
// holds no memory. IPv4-mapped IPv6 addresses count as their IPv4 address.

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

function clientKey(address: string | undefined): string {
  if (!address) return '?'
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
