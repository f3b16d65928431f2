// A loopback TCP relay between a client and the real embedded API server, for injecting
// network faults: cut every open connection, stall them (bytes stop flowing, sockets stay open),
// or refuse new ones for a while. TLS passes through untouched; it is not an API server.

import net from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import type { ApiServer } from '../../../src/apiserver/index.ts'

export class FaultProxy {
  readonly #server: net.Server
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>()
  #refusing = false
  port = 0
  connections = 0

  private constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      if (this.#refusing) {
        client.destroy()
        return
      }
      this.connections++
      const upstream = net.connect(targetPort, '127.0.0.1')
      const pair = { client, upstream }
      this.#pairs.add(pair)
      client.pipe(upstream)
      upstream.pipe(client)
      const end = (): void => {
        client.destroy()
        upstream.destroy()
        this.#pairs.delete(pair)
      }
      client.on('error', end).on('close', end)
      upstream.on('error', end).on('close', end)
    })
  }

  static async start(targetPort: number): Promise<FaultProxy> {
    const p = new FaultProxy(targetPort)
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve))
    p.port = (p.#server.address() as net.AddressInfo).port
    return p
  }

  /** A KubeConfig for `server` that goes through this proxy. */
  kubeConfig(server: ApiServer): KubeConfig {
    const kc = new KubeConfig()
    kc.loadFromString(server.kubeconfigYaml().replace(`127.0.0.1:${server.port}`, `127.0.0.1:${this.port}`))
    return kc
  }

  get open(): number {
    return this.#pairs.size
  }

  /** Resets every open connection (a server or network dying mid-stream). */
  cut(): void {
    for (const p of this.#pairs) {
      p.client.resetAndDestroy()
      p.upstream.destroy()
    }
    this.#pairs.clear()
  }

  /** Stops forwarding server→client on open connections without closing them (a silent hang). */
  stall(): void {
    for (const p of this.#pairs) p.upstream.unpipe(p.client)
  }

  /** Refuse (reset) new connections until allow(). */
  refuse(): void {
    this.#refusing = true
  }
  allow(): void {
    this.#refusing = false
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

/** Polls `cond` until true or `timeoutMs` passes (then throws naming `what`). */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
}
