// A small client of the Proxmox VE REST API (/api2/json) authenticated with an API token.
//
// Guarantees:
// - The token travels only in the Authorization header of requests to the configured endpoint
//   and appears in no error message, log line or `details`.
// - Connection failures (refused, reset, timeout) are retried a bounded number of times with
//   backoff and then surface as a retryable `ProviderUnreachable` naming the endpoint.
// - PVE's errors (HTTP status + message in the status line / body `message`, parameter errors in
//   body `errors`) become `PveApiError`s that keep PVE's own text, so callers can recognise
//   "already exists", "is locked", "not running" without parsing HTTP.
// - `waitTask` polls a UPID's status until `stopped`; an exit status other than "OK" (warnings
//   included as success, as PVE's own GUI does) throws `TaskFailed` carrying the task log.

import https from 'node:https'
import { ProviderError } from '../errors.ts'
import { createPveAgent, type TlsPin } from './tls.ts'

export interface PveClientOptions extends TlsPin {
  /** e.g. https://pve.example:8006 */
  endpoint: string
  /** USER@REALM!TOKENID=SECRET */
  apiToken: string
  requestTimeoutMs?: number
  /** Attempts for a request that cannot connect, before ProviderUnreachable. Default 3. */
  connectAttempts?: number
  /** First backoff between connection attempts, doubled each time. Default 200 ms. */
  retryDelayMs?: number
}

export type PveParams = Record<string, string | number | boolean | undefined>

/** An error answer from PVE, with PVE's own message. Converted to ProviderError by callers. */
export class PveApiError extends ProviderError {
  readonly httpStatus: number
  readonly pveMessage: string

  constructor(httpStatus: number, pveMessage: string, method: string, path: string, paramErrors?: Record<string, string>) {
    const code = httpStatus === 401 ? 'ProviderAuthFailed' : httpStatus === 403 ? 'ProviderForbidden' : 'BackendFailed'
    const extra = paramErrors
      ? ` (${Object.entries(paramErrors)
          .map(([k, v]) => `${k}: ${v.trim()}`)
          .join('; ')})`
      : ''
    const hint =
      httpStatus === 401
        ? '; check the API token in the Secret named by spec.proxmox.credentialsSecretRef'
        : httpStatus === 403
          ? '; grant the API token the privilege named above'
          : ''
    super(code, `Proxmox VE ${method} ${path} failed: HTTP ${httpStatus} ${pveMessage}${extra}${hint}`, {
      httpStatus,
      pveMessage,
      paramErrors,
    })
    this.httpStatus = httpStatus
    // Parameter errors carry the interesting text ("VM 100 already exists" from nextid).
    this.pveMessage = [pveMessage, ...Object.values(paramErrors ?? {}).map((v) => v.trim())].join(' ')
  }
}

export interface PveTaskStatus {
  status: 'running' | 'stopped'
  exitstatus?: string
  upid: string
  type?: string
}

/** The request cannot have reached PVE: safe to repeat whatever the method. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])
/** The request may have reached PVE: repeated only when reading. */
const MAYBE_SENT = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ERR_REQUEST_TIMEOUT'])

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class PveClient {
  readonly endpoint: URL
  readonly #authorization: string
  readonly #agent: https.Agent
  readonly #timeoutMs: number
  readonly #attempts: number
  readonly #retryDelayMs: number

  constructor(options: PveClientOptions) {
    this.endpoint = new URL(options.endpoint)
    if (this.endpoint.protocol !== 'https:')
      throw new ProviderError(
        'InvalidConfig',
        `spec.proxmox.endpoint ${options.endpoint} must be https:// (the API token must not travel in clear)`,
        {},
      )
    if (!/^[^\s@!]+@[^\s@!]+![^\s=]+=\S+$/.test(options.apiToken)) {
      throw new ProviderError(
        'InvalidConfig',
        'the Proxmox API token must have the form USER@REALM!TOKENID=SECRET; fix the Secret named by spec.proxmox.credentialsSecretRef',
        {},
      )
    }
    this.#authorization = `PVEAPIToken=${options.apiToken}`
    this.#agent = createPveAgent(options)
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000
    this.#attempts = options.connectAttempts ?? 3
    this.#retryDelayMs = options.retryDelayMs ?? 200
  }

  get<T>(path: string, params?: PveParams): Promise<T> {
    return this.request<T>('GET', path, params)
  }
  post<T>(path: string, params?: PveParams): Promise<T> {
    return this.request<T>('POST', path, params)
  }
  put<T>(path: string, params?: PveParams): Promise<T> {
    return this.request<T>('PUT', path, params)
  }
  delete<T>(path: string, params?: PveParams): Promise<T> {
    return this.request<T>('DELETE', path, params)
  }

  /** One API call; returns the body's `data`. */
  async request<T>(method: string, path: string, params: PveParams = {}): Promise<T> {
    const form = new URLSearchParams()
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) form.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value))
    }
    const url = new URL(`/api2/json${path}`, this.endpoint)
    const hasBody = method === 'POST' || method === 'PUT'
    if (!hasBody) url.search = form.toString()
    let lastError: Error | undefined
    let attemptsMade = 0
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      try {
        return await this.#send<T>(method, url, hasBody ? form.toString() : undefined, path)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? ''
        if (err instanceof ProviderError || !(NOT_SENT.has(code) || MAYBE_SENT.has(code))) throw err
        lastError = err as Error
        // A create or stop that may have been applied is not blindly repeated; the caller's next
        // reconcile observes what happened (and ensure de-duplicates by owner tag).
        if (MAYBE_SENT.has(code) && method !== 'GET') {
          attemptsMade = attempt
          break
        }
        attemptsMade = attempt
        if (attempt < this.#attempts) await sleep(this.#retryDelayMs * 2 ** (attempt - 1))
      }
    }
    throw new ProviderError(
      'ProviderUnreachable',
      `cannot reach Proxmox VE at ${this.endpoint.origin} (${(lastError as NodeJS.ErrnoException).code}) after ${attemptsMade} attempt(s); check spec.proxmox.endpoint and that the node is up — will retry`,
      { attempts: attemptsMade },
      { cause: lastError },
    )
  }

  #send<T>(method: string, url: URL, body: string | undefined, path: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: this.#authorization, accept: 'application/json' }
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded'
        headers['content-length'] = String(Buffer.byteLength(body))
      }
      const req = https.request(url, { method, headers, agent: this.#agent, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: { data?: T; message?: string; errors?: Record<string, string> } = {}
          try {
            parsed = text ? JSON.parse(text) : {}
          } catch {
            /* PVE sends JSON; a proxy may not */
          }
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) return resolve(parsed.data as T)
          const message = (parsed.message ?? res.statusMessage ?? '').trim()
          reject(new PveApiError(status, message, method, path, parsed.errors))
        })
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ERR_REQUEST_TIMEOUT' })))
      req.on('error', (err) => {
        if (err instanceof ProviderError) return reject(err)
        const code = (err as NodeJS.ErrnoException).code ?? ''
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
          return reject(
            new ProviderError(
              'ProviderTlsFailed',
              `TLS verification of ${this.endpoint.origin} failed (${code}); set spec.proxmox.caData to the cluster CA or spec.proxmox.fingerprint to the node certificate's SHA-256`,
              {},
            ),
          )
        }
        reject(err)
      })
      req.end(body)
    })
  }

  /**
   * Polls a task until it stopped. Resolves when its exit status is OK (or only warnings);
   * otherwise throws TaskFailed with the task's log lines.
   */
  async waitTask(node: string, upid: string, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const path = `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}`
    let delay = 100
    for (;;) {
      const status = await this.get<PveTaskStatus>(`${path}/status`)
      if (status.status === 'stopped') {
        const exit = status.exitstatus ?? ''
        if (exit === 'OK' || /^WARNINGS: \d+$/.test(exit)) return
        const log = await this.get<Array<{ n: number; t: string }>>(`${path}/log`, { start: 0, limit: 500 }).catch(() => [])
        throw new ProviderError('TaskFailed', `Proxmox VE task ${status.type ?? ''} ${upid} failed: ${exit}`, {
          log: log.map((line) => line.t),
          exitstatus: exit,
          upid,
        })
      }
      if (Date.now() > deadline) throw new ProviderError('Timeout', `Proxmox VE task ${upid} still running after ${timeoutMs} ms`, { upid })
      await sleep(delay)
      delay = Math.min(delay * 2, 1000)
    }
  }

  close(): void {
    this.#agent.destroy()
  }
}
