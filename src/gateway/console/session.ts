// The web console's session: a portal token held in an HttpOnly cookie, sealed, and the rules by
// which the portal accepts that cookie instead of an Authorization header.
//
// Expected flow
//  1. Sign-in (routes.ts) checks a portal token against the token registry, then `open()` seals
//     {token, csrf} into the cookie value: a JWE (dir, A256GCM) whose key is derived with HKDF from
//     the gateway's signing key, so no replica needs more state and nothing in the cookie is readable.
//  2. The page keeps the CSRF value (returned at sign-in and by GET /console/session) in memory and
//     sends it as `X-ZLH-CSRF` on every API call; WebSockets cannot carry a header, so an upgrade
//     with the cookie is accepted only when its `Origin` is the gateway's own origin.
//  3. `authenticate()` is what the portal's auth hook and console WebSocket call: it answers the
//     sealed token (still to be checked against the registry: a revoked token ends the session),
//     a refusal (cookie without its proof), or nothing (no cookie, or one that is forged or expired).
// Guarantees: the token never appears in clear in the cookie, in a log or in an answer; a forged,
// tampered or expired cookie is the same as no cookie; CSRF values are compared in constant time.
// Assumptions: every replica has the same signing key (the gateway's Secret), so a session opened
// on one is read on all; browsers send `Origin` on cross-origin WebSocket handshakes (they all do).

import { hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { parseCookie, stringifySetCookie } from 'cookie'
import { EncryptJWT, jwtDecrypt } from 'jose'

/** The header API calls made with the session cookie must carry (its value: the session's CSRF value). */
export const CSRF_HEADER = 'x-zlh-csrf'
/** How long a console session lasts (it also ends when its token is revoked). */
export const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60

const KEY_INFO = 'zlh web console session v1'
const AUDIENCE = 'zlh-console'

export interface ConsoleSessionOptions {
  /** `https` (the default): the cookie is `__Host-` prefixed and Secure. */
  publicScheme?: 'https' | 'http'
  ttlSeconds?: number
  /** Clock in ms (tests); Date.now when absent. */
  now?: () => number
}

/** What the portal's auth decides with (see the header, step 3). */
export type SessionVerdict = { token: string } | { refused: string } | undefined

/** What the portal needs of the console's session: the token a request's cookie stands for. */
export interface SessionCookieReader {
  /** `api`: the request must carry X-ZLH-CSRF; `websocket`: its Origin must be the gateway's own. */
  authenticate(headers: IncomingHttpHeaders, use: 'api' | 'websocket'): Promise<SessionVerdict>
}

export interface OpenedSession {
  /** The Set-Cookie header value. */
  setCookie: string
  csrf: string
  expiresAt: Date
}

export class ConsoleSessions implements SessionCookieReader {
  readonly cookieName: string
  readonly ttlSeconds: number
  readonly #key: Uint8Array
  readonly #secure: boolean
  readonly #scheme: 'https' | 'http'
  readonly #now: () => number

  constructor(signingKey: Buffer, opts: ConsoleSessionOptions = {}) {
    if (signingKey.length < 32) throw new Error('the console session key is derived from a signing key of at least 32 bytes')
    this.#key = new Uint8Array(hkdfSync('sha256', signingKey, Buffer.alloc(0), KEY_INFO, 32))
    this.#scheme = opts.publicScheme ?? 'https'
    this.#secure = this.#scheme === 'https'
    // `__Host-` makes the browser refuse the cookie unless Secure, Path=/ and host-only: no
    // sibling host (a dev-* IDE host included) can set or shadow it.
    this.cookieName = this.#secure ? '__Host-zlh-console' : 'zlh-console'
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS
    this.#now = opts.now ?? Date.now
  }

  /** Seals `token` (already checked by the caller) into a new session cookie. */
  async open(token: string): Promise<OpenedSession> {
    const csrf = randomBytes(32).toString('base64url')
    const nowSeconds = Math.floor(this.#now() / 1000)
    const exp = nowSeconds + this.ttlSeconds
    const sealed = await new EncryptJWT({ tok: token, csrf })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .encrypt(this.#key)
    return { setCookie: this.#cookie(sealed, this.ttlSeconds), csrf, expiresAt: new Date(exp * 1000) }
  }

  /** The Set-Cookie header value that ends the session in the browser. */
  clearCookie(): string {
    return this.#cookie('', 0)
  }

  /** The sealed token and CSRF value of a request's cookie; undefined when absent, forged, tampered or expired. */
  async read(headers: IncomingHttpHeaders): Promise<{ token: string; csrf: string; expiresAt: Date } | undefined> {
    const raw = headers.cookie
    if (!raw) return undefined
    const value = parseCookie(raw)[this.cookieName]
    if (!value || value.length > 4096) return undefined
    try {
      const { payload } = await jwtDecrypt(value, this.#key, {
        audience: AUDIENCE,
        contentEncryptionAlgorithms: ['A256GCM'],
        keyManagementAlgorithms: ['dir'],
        currentDate: new Date(this.#now()),
      })
      if (typeof payload.tok !== 'string' || typeof payload.csrf !== 'string' || typeof payload.exp !== 'number') return undefined
      return { token: payload.tok, csrf: payload.csrf, expiresAt: new Date(payload.exp * 1000) }
    } catch {
      return undefined
    }
  }

  async authenticate(headers: IncomingHttpHeaders, use: 'api' | 'websocket'): Promise<SessionVerdict> {
    const session = await this.read(headers)
    if (!session) return undefined
    if (use === 'websocket') {
      return this.isOwnOrigin(headers)
        ? { token: session.token }
        : { refused: "a WebSocket opened with the console's cookie must come from the gateway's own origin" }
    }
    const sent = headers[CSRF_HEADER]
    if (typeof sent !== 'string' || !sameSecret(sent, session.csrf)) {
      return { refused: `${sent === undefined ? 'no' : 'a wrong'} X-ZLH-CSRF header came with the session cookie` }
    }
    return { token: session.token }
  }

  /** Whether `Origin` names the host the request was sent to, on the gateway's public scheme. */
  isOwnOrigin(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin
    const host = headers.host
    if (typeof origin !== 'string' || !host) return false
    try {
      return new URL(origin).origin === new URL(`${this.#scheme}://${host}`).origin
    } catch {
      return false
    }
  }

  #cookie(value: string, maxAge: number): string {
    return stringifySetCookie({
      name: this.cookieName,
      value,
      httpOnly: true,
      secure: this.#secure,
      sameSite: 'strict',
      path: '/',
      maxAge,
    })
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
