// The IDE session cookie: what a redeemed token turns into.
//
// `__Host-zlh-ide`, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain: the `__Host-` prefix makes
// browsers refuse it unless it is host-only, so one dev host (all `dev-*` hosts are same-site)
// can neither set nor read another's. Its value is
// `v2.<vmid>.<uid>.<api token id | ->.<session id>.<expiry s>.<user>.<HMAC>` under the
// "ide-session" purpose: bound to one DevServer (vmid and metadata.uid), to the portal API token
// that opened it (see session-binding.ts; the proxy checks both on every request) and expiring.
//
// Lifetime: a session is valid for `ttlSeconds` (default 30 min) after it was issued or last
// renewed, and renewed while in use: the proxy re-issues it on an HTTP response (or a WebSocket's
// 101) once half of that has passed. 30 minutes rather than the former 12 hours because a cookie
// that leaks (a shared machine, a copied header) should be worth little, while an IDE in use is
// never cut: code-server's page keeps WebSockets open and talks on them every few seconds
// (VS Code's keep-alives), which counts as use (see live-sessions.ts). An expired session is
// still accepted while its id has had WebSocket traffic within the last `ttlSeconds` — the case of
// a user who only types in a terminal and whose page makes no HTTP request for an hour: its
// requests and WebSocket reconnects keep working, and the first of them renews the cookie. So the
// browser must still hold the value after its signed expiry: Max-Age is `retainSeconds` (default
// 12 h), the longest a session can live on WebSocket traffic alone with no HTTP request or
// reconnect to renew it; past that a reconnect needs a new link from the portal. The session id
// is random per redeemed link and kept across renewals; it is not a secret (the MAC is).
//
// Hot path: verified values are remembered (bounded) so a request costs a Map lookup, not an HMAC.

import { randomBytes } from 'node:crypto'
import { stringifySetCookie } from 'cookie'
import { PurposeSigner } from './signing-key.ts'
import { checkBindingFields, isUid, NO_API_TOKEN, parseApiTokenId, type IdeBinding } from './session-binding.ts'

export const SESSION_COOKIE_NAME = '__Host-zlh-ide'
export const DEFAULT_SESSION_TTL_SECONDS = 30 * 60
export const DEFAULT_SESSION_RETAIN_SECONDS = 12 * 3600

export interface IdeSession extends IdeBinding {
  /** Random per redeemed link, the same across renewals. */
  readonly sid: string
  readonly expiresAtMs: number
}

const COOKIE_PREFIX = `${SESSION_COOKIE_NAME}=`
const VERIFIED_CACHE_MAX = 10_000
const SID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/

export class IdeSessionCookie {
  readonly ttlSeconds: number
  readonly retainSeconds: number
  private readonly signer: PurposeSigner
  private readonly now: () => number
  private readonly verified = new Map<string, IdeSession>()

  constructor(signingKey: Buffer, opts: { ttlSeconds?: number; retainSeconds?: number; now?: () => number } = {}) {
    this.signer = new PurposeSigner(signingKey, 'ide-session')
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS
    if (!(this.ttlSeconds >= 60)) throw new Error(`IDE session lifetime ${this.ttlSeconds}s too short: use at least 60`)
    this.retainSeconds = Math.max(opts.retainSeconds ?? DEFAULT_SESSION_RETAIN_SECONDS, this.ttlSeconds)
    this.now = opts.now ?? Date.now
  }

  /** A Set-Cookie header value starting a session (a new session id unless `sid` is given). */
  issue(binding: IdeBinding, sid = randomBytes(16).toString('base64url')): string {
    const { vmid, uid, apiTokenId, user } = binding
    checkBindingFields(uid, apiTokenId)
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds
    const value = this.signer.sign(
      `v2.${vmid}.${uid}.${apiTokenId ?? NO_API_TOKEN}.${sid}.${exp}.${Buffer.from(user, 'utf8').toString('base64url')}`,
    )
    return stringifySetCookie({
      name: SESSION_COOKIE_NAME,
      value,
      maxAge: this.retainSeconds,
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
    })
  }

  /** The same session with a new expiry. */
  renew(session: IdeSession): string {
    return this.issue(session, session.sid)
  }

  /**
   * The session a Cookie header carries for dev server `vmid`, or undefined. A session past its
   * expiry is returned only when `inUse(sid)` says it has had WebSocket traffic recently.
   */
  sessionFor(cookieHeader: string | undefined, vmid: number, inUse?: (sid: string) => boolean): IdeSession | undefined {
    if (!cookieHeader) return undefined
    let at = findCookie(cookieHeader, 0)
    // A browser sends one host-only cookie of a name; more than one means someone injected extras.
    // Accept only if exactly one of them is valid for this vmid.
    let found: IdeSession | undefined
    while (at !== -1) {
      const start = at + COOKIE_PREFIX.length
      let end = cookieHeader.indexOf(';', start)
      if (end === -1) end = cookieHeader.length
      const session = this.verify(cookieHeader.slice(start, end).trim(), vmid, inUse)
      if (session) {
        if (found) return undefined
        found = session
      }
      at = findCookie(cookieHeader, end)
    }
    return found
  }

  needsRenewal(session: IdeSession): boolean {
    return session.expiresAtMs - this.now() < (this.ttlSeconds * 1000) / 2
  }

  private verify(value: string, vmid: number, inUse: ((sid: string) => boolean) | undefined): IdeSession | undefined {
    let session = this.verified.get(value)
    if (session === undefined) {
      const payload = this.signer.verify(value)
      if (payload === undefined) return undefined
      const parts = payload.split('.')
      if (parts.length !== 7 || parts[0] !== 'v2') return undefined
      const [, vmidText, uid, tokenIdText, sid, expText, user64] = parts as [string, string, string, string, string, string, string]
      const user = Buffer.from(user64, 'base64url').toString('utf8')
      const apiTokenId = parseApiTokenId(tokenIdText)
      session = { vmid: Number(vmidText), uid, apiTokenId: apiTokenId ?? null, sid, user, expiresAtMs: Number(expText) * 1000 }
      if (
        !user ||
        apiTokenId === undefined ||
        !isUid(uid) ||
        !SID_PATTERN.test(sid) ||
        !Number.isSafeInteger(session.vmid) ||
        !Number.isFinite(session.expiresAtMs)
      )
        return undefined
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear()
      this.verified.set(value, session)
    }
    if (session.vmid !== vmid) return undefined
    if (session.expiresAtMs <= this.now() && !(inUse?.(session.sid) ?? false)) return undefined
    return session
  }
}

/** The Cookie header without our session cookie (undefined when nothing else is left). */
export function stripSessionCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader?.includes(COOKIE_PREFIX)) return cookieHeader
  const kept: string[] = []
  for (const part of cookieHeader.split(';')) {
    const p = part.trim()
    if (p && !p.startsWith(COOKIE_PREFIX)) kept.push(p)
  }
  return kept.length ? kept.join('; ') : undefined
}

/** Index of our cookie's name at a cookie-pair boundary, at or after `from`; -1 when absent. */
function findCookie(header: string, from: number): number {
  let at = header.indexOf(COOKIE_PREFIX, from)
  while (at !== -1) {
    let i = at - 1
    while (i >= 0 && header.charCodeAt(i) === 32) i--
    if (i < 0 || header.charCodeAt(i) === 59 /* ; */) return at
    at = header.indexOf(COOKIE_PREFIX, at + 1)
  }
  return -1
}
