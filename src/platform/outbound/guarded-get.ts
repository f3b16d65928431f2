// An HTTP(S) GET that goes only where the outbound source policy allows (source-policy.ts).
//
// Expected flow, for the URL and again for every redirect hop (at most `maxRedirects`, default 5):
//   1. The URL is matched against the declared sources; no match → OutboundError
//      OUTBOUND_NOT_ALLOWED before anything is resolved or connected.
//   2. A host name is resolved once; every address it resolves to must be allowed for that
//      source (see addressAllowed), else OUTBOUND_NOT_ALLOWED. An IP literal is checked as is.
//   3. The connection goes to the first checked address itself (the name is sent as Host and,
//      for https, as SNI and the name the certificate is verified against), so no second
//      resolution can swap the address between check and connect.
//   4. A 3xx with Location is drained and followed by hand from step 1.
// Guarantees: nothing is sent to an address the policy refuses; a refusal's message names only
// the URL the caller asked for, never a redirect target or anything a refused target said. The
// returned response already has an 'error' listener, so a connection that breaks before the
// caller consumes the body cannot crash the process (pipeline / async iteration still see it).
// Errors: OutboundError (OUTBOUND_NOT_ALLOWED, OUTBOUND_TOO_MANY_REDIRECTS,
// OUTBOUND_HEADERS_TIMEOUT), or the socket's own errors (ECONNREFUSED, ...) for allowed targets.
import http from 'node:http'
import { addressAllowed, matchSource, type NormalizedUrl, type SourceRules } from './source-policy.ts'

export type OutboundErrorCode = 'OUTBOUND_NOT_ALLOWED' | 'OUTBOUND_TOO_MANY_REDIRECTS' | 'OUTBOUND_HEADERS_TIMEOUT'

export class OutboundError extends Error {
  readonly code: OutboundErrorCode
  /** the URL the caller asked for */
  readonly url: string
  constructor(code: OutboundErrorCode, url: string, message: string) {
    super(message)
    this.name = 'OutboundError'
    this.code = code
    this.url = url
  }
}

export function isOutboundError(err: unknown): err is OutboundError {
  return err instanceof OutboundError
}

export interface GuardedGetOptions {
  rules: SourceRules
  headers?: Record<string, string>
  signal?: AbortSignal
  /** default 5 */
  maxRedirects?: number
  /** fail when no response headers arrive for this long (default 30 s) */
  headersTimeoutMs?: number
  /** what the reader of a refusal should do, appended to its message */
  refusalHint?: string
  /** host name → addresses (default: the system resolver, every address) */
  resolve?: (hostname: string) => Promise<Array<{ address: string }>>
  /** observes every connection just before it is opened (logs, tests) */
  onConnect?: (address: string, port: number) => void
}

export interface GuardedResponse {
  response: http.IncomingMessage
  /** the URL that answered (after redirects) */
  url: string
}

// dns and https are loaded by the first fetch that needs them: a process that never fetches (an idle
// agent) does not pay their memory.
const systemResolve = (hostname: string): Promise<Array<{ address: string }>> =>
  process.getBuiltinModule('node:dns/promises').lookup(hostname, { all: true })

/** GET `url` under the policy; resolves with the first non-redirect response. */
export async function guardedGet(url: string, opts: GuardedGetOptions): Promise<GuardedResponse> {
  const maxRedirects = opts.maxRedirects ?? 5
  const hint = opts.refusalHint !== undefined ? `; ${opts.refusalHint}` : ''
  let current = url
  for (let hop = 0; ; hop++) {
    const refuse = (why: string): OutboundError =>
      new OutboundError(
        'OUTBOUND_NOT_ALLOWED',
        url,
        hop === 0 ? `${url} ${why}${hint}` : `${url} redirected to a URL that is not an allowed source${hint}`,
      )
    const decision = matchSource(current, opts.rules)
    if (!decision.allowed) throw refuse(decision.reason)
    const { target, source } = decision
    let addresses: string[]
    if (target.ip) {
      addresses = [target.host]
    } else {
      opts.signal?.throwIfAborted()
      addresses = (await (opts.resolve ?? systemResolve)(target.host)).map((a) => a.address)
    }
    if (addresses.length === 0 || !addresses.every((a) => addressAllowed(a, source, opts.rules))) {
      throw refuse('is not an allowed source (its host resolves to an address that is neither public nor in allowedNetworks)')
    }
    const response = await requestOnce(url, target, addresses[0] as string, opts)
    const status = response.statusCode ?? 0
    const location = response.headers.location
    if (status < 300 || status >= 400 || location === undefined) return { response, url: current }
    response.resume()
    if (hop >= maxRedirects)
      throw new OutboundError('OUTBOUND_TOO_MANY_REDIRECTS', url, `${url} redirected more than ${maxRedirects} times`)
    try {
      current = new URL(location, target.url).toString()
    } catch {
      throw refuse('is not an allowed source')
    }
  }
}

function requestOnce(asked: string, target: NormalizedUrl, address: string, opts: GuardedGetOptions): Promise<http.IncomingMessage> {
  const timeoutMs = opts.headersTimeoutMs ?? 30_000
  return new Promise((resolve, reject) => {
    const client = target.protocol === 'https:' ? process.getBuiltinModule('node:https') : http
    opts.onConnect?.(address, target.port)
    const req = client.request(
      {
        host: address,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: 'GET',
        headers: { 'user-agent': 'zlh', ...opts.headers, host: target.url.host },
        ...(target.protocol === 'https:' && !target.ip ? { servername: target.host } : {}),
        agent: false,
        signal: opts.signal,
      },
      (res) => {
        clearTimeout(timer)
        res.on('error', () => {
          /* seen by whoever consumes the body */
        })
        resolve(res)
      },
    )
    const timer = setTimeout(() => {
      req.destroy(new OutboundError('OUTBOUND_HEADERS_TIMEOUT', asked, `no response headers from ${asked} within ${timeoutMs} ms`))
    }, timeoutMs)
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.end()
  })
}
