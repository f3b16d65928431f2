// The HTTP transport to the API server. Configuration and authentication come from
// @kubernetes/client-node's KubeConfig (kubeconfig files, in-cluster, tokens, client certs, exec
// plugins), applied through its applyToHTTPSOptions; requests go over node:https with keep-alive.
// A generic (dynamic) client needs things the generated typed clients do not offer together:
// any kind by GVK, the status subresource, every patch type and streaming watches with our own
// inactivity timeout.
//
// Guarantees: every non-2xx answer becomes an ApiError carrying the server's metav1.Status;
// transport failures become RuntimeError RT_API_TRANSPORT. Tokens never appear in errors or logs.

import http from 'node:http'
import https from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { ApiError, type StatusBody } from './api-error.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'

export type Query = Record<string, string | number | boolean | undefined>

export interface RequestOptions {
  query?: Query
  body?: unknown
  contentType?: string
  signal?: AbortSignal
  /** Whole-request timeout in ms (default 30 s). */
  timeoutMs?: number
}

const AUTH_REFRESH_MS = 60_000

export class RestClient {
  readonly server: URL
  readonly #kubeConfig: KubeConfig
  #base: Promise<https.RequestOptions> | undefined
  #baseAt = 0
  #agent: http.Agent | undefined
  #streamAgent: http.Agent | undefined

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster()
    if (cluster === null) {
      throw new RuntimeError(
        ErrorCodes.NO_CLUSTER,
        'the kubeconfig has no current cluster: set current-context, or pass a KubeConfig loaded from a file',
      )
    }
    this.server = new URL(cluster.server)
    this.#kubeConfig = kubeConfig
  }

  /** TLS material and auth headers from the kubeconfig, refreshed now and then for rotating tokens. */
  async #options(): Promise<https.RequestOptions> {
    const now = Date.now()
    if (this.#base === undefined || now - this.#baseAt > AUTH_REFRESH_MS) {
      this.#baseAt = now
      this.#base = (async () => {
        const opts: https.RequestOptions = {}
        await this.#kubeConfig.applyToHTTPSOptions(opts)
        return opts
      })()
      this.#base.catch(() => {
        this.#base = undefined
      })
    }
    return this.#base
  }

  #agents(opts: https.RequestOptions): { agent: http.Agent; streamAgent: http.Agent } {
    if (this.#agent === undefined || this.#streamAgent === undefined) {
      const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername }
      const secure = this.server.protocol === 'https:'
      this.#agent = secure
        ? new https.Agent({ ...tls, keepAlive: true, maxSockets: 64 })
        : new http.Agent({ keepAlive: true, maxSockets: 64 })
      this.#streamAgent = secure ? new https.Agent({ ...tls, keepAlive: false }) : new http.Agent({ keepAlive: false })
    }
    return { agent: this.#agent, streamAgent: this.#streamAgent }
  }

  #url(path: string, query?: Query): URL {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server)
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v))
    return url
  }

  async #send(method: string, path: string, opts: RequestOptions, stream: boolean): Promise<http.IncomingMessage> {
    const base = await this.#options()
    const { agent, streamAgent } = this.#agents(base)
    const url = this.#url(path, opts.query)
    const headers: Record<string, string> = { accept: 'application/json' }
    for (const [k, v] of Object.entries(base.headers ?? {})) if (typeof v === 'string') headers[k] = v
    let payload: Buffer | undefined
    if (opts.body !== undefined) {
      payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body))
      headers['content-type'] = opts.contentType ?? 'application/json'
      headers['content-length'] = String(payload.length)
    }
    const lib = url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          headers,
          agent: stream ? streamAgent : agent,
          signal: opts.signal,
          ...(stream ? {} : { timeout: opts.timeoutMs ?? 30_000 }),
        },
        resolve,
      )
      req.on('timeout', () =>
        req.destroy(
          new RuntimeError(ErrorCodes.API_TRANSPORT, `${method} ${url.pathname}: no answer within ${opts.timeoutMs ?? 30_000} ms`),
        ),
      )
      req.on('error', (err) => {
        if (err instanceof RuntimeError || err.name === 'AbortError') reject(err)
        else
          reject(
            new RuntimeError(
              ErrorCodes.API_TRANSPORT,
              `${method} ${url.pathname}: ${err.message}; is the API server at ${this.server.origin} up?`,
              { cause: err },
            ),
          )
      })
      req.end(payload)
    })
  }

  async #error(res: http.IncomingMessage, method: string, path: string): Promise<ApiError> {
    const text = await readBody(res)
    let status: StatusBody
    try {
      status = JSON.parse(text) as StatusBody
    } catch {
      status = { message: text.slice(0, 500) }
    }
    return new ApiError(res.statusCode ?? 0, method, path, status)
  }

  /** One request; resolves with the parsed JSON body of a 2xx answer. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, opts, false)
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) throw await this.#error(res, method, path)
    const text = await readBody(res)
    return (text === '' ? {} : JSON.parse(text)) as T
  }

  /** A streaming GET (watch); resolves with the open 200 response. The caller consumes and destroys it. */
  async stream(path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.#send('GET', path, opts, true)
    if (res.statusCode !== 200) throw await this.#error(res, 'GET', path)
    return res
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent?.destroy()
    this.#streamAgent?.destroy()
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
  })
}
