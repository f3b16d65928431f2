// The manager's HTTP endpoint: /healthz and /readyz (kubelet probes) and /metrics (Prometheus).
// Binds loopback by default. /metrics exposes internals, so binding anything but loopback
// requires a bearer token for it; the probes stay open (kubelet sends no credentials).

import http from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { ErrorCodes, RuntimeError } from '../errors.ts'

export type Check = () => boolean | Promise<boolean>

export interface ProbeServerOptions {
  host?: string
  port?: number
  registry: Registry
  healthChecks: Map<string, Check>
  readyChecks: Map<string, Check>
  metricsToken?: string
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export class ProbeServer {
  readonly #opts: ProbeServerOptions
  #server: http.Server | undefined

  constructor(opts: ProbeServerOptions) {
    if (!LOOPBACK.has(opts.host ?? '127.0.0.1') && !opts.metricsToken) {
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        `probe/metrics address ${opts.host} is not loopback: set metricsToken so /metrics is not open to the network`,
      )
    }
    this.#opts = opts
  }

  async start(): Promise<AddressInfo> {
    const server = http.createServer((req, res) => {
      void this.#handle(req, res)
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#opts.port ?? 0, this.#opts.host ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    return server.address() as AddressInfo
  }

  async stop(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      // Only origin-form targets (`/path?query`): an absolute-form or malformed one is a client
      // error, and parsing it must not throw outside this try (that would end the process).
      const target = req.url ?? ''
      if (!target.startsWith('/') || target.startsWith('//')) {
        send(res, 400, 'bad request: the request target must be a path, e.g. GET /healthz\n')
        return
      }
      const path = new URL(target, 'http://x').pathname
      if (req.method !== 'GET') {
        send(res, 405, 'method not allowed: use GET\n')
        return
      }
      if (path === '/healthz' || path === '/livez') {
        await this.#checks(res, this.#opts.healthChecks, req.url ?? '')
        return
      }
      if (path === '/readyz') {
        await this.#checks(res, this.#opts.readyChecks, req.url ?? '')
        return
      }
      if (path === '/metrics') {
        if (!this.#authorized(req)) {
          send(res, 401, 'unauthorized: send Authorization: Bearer <metrics token>\n')
          return
        }
        const body = await this.#opts.registry.metrics()
        res.writeHead(200, { 'content-type': this.#opts.registry.contentType })
        res.end(body)
        return
      }
      send(res, 404, 'not found: try /healthz, /readyz or /metrics\n')
    } catch (err) {
      send(res, 500, `internal error: ${(err as Error).message}\n`)
    }
  }

  #authorized(req: http.IncomingMessage): boolean {
    const token = this.#opts.metricsToken
    if (!token) return true
    const got = Buffer.from(req.headers.authorization ?? '')
    const want = Buffer.from(`Bearer ${token}`)
    return got.length === want.length && timingSafeEqual(got, want)
  }

  async #checks(res: http.ServerResponse, checks: Map<string, Check>, url: string): Promise<void> {
    const lines: string[] = []
    let ok = true
    for (const [name, check] of checks) {
      let passed = false
      try {
        passed = await check()
      } catch {
        passed = false
      }
      ok &&= passed
      lines.push(`[${passed ? '+' : '-'}]${name} ${passed ? 'ok' : 'failed'}`)
    }
    const verbose = url.includes('verbose')
    send(res, ok ? 200 : 500, verbose || !ok ? `${lines.join('\n')}\n${ok ? 'ok' : 'check failed'}\n` : 'ok')
  }
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
  res.end(body)
}
