// Loopback ports for process containers: whether one can be listened on right now, and which ones
// the kernel hands out as ephemeral source ports — a listener there can find its port taken by any
// outgoing connection, for as long as that connection lives.

import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Whether a listener could bind 127.0.0.1:`port` right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)))
  })
}

/** The kernel's ephemeral port range (Linux `ip_local_port_range`; its default where unreadable). */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) return { low: low!, high: high! }
  } catch {
    /* not Linux, or no /proc */
  }
  return { low: 32768, high: 60999 }
}

/**
 * A random base for `span` consecutive loopback ports between `min` and the ephemeral range, on
 * a 100-port grid (so parallel test files and benchmarks rarely pick the same ports, and never
 * ports an outgoing connection can take).
 */
export function randomPortBaseBelowEphemeral(span: number, min = 20_000): number {
  const { low } = ephemeralPortRange()
  const slots = Math.floor((low - span - min) / 100)
  if (slots < 1) throw new Error(`no room for ${span} ports between ${min} and the ephemeral range (${low})`)
  return min + Math.floor(Math.random() * slots) * 100
}
