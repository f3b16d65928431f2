// The IDE session cookie: what a redeemed token turns into.
//
// `__Host-zlh-ide`, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain: the `__Host-` prefix makes
// browsers refuse it unless it is host-only, so one dev host (all `dev-*` hosts are same-site)
// can neither set nor read another's. Its value is `v1.<vmid>.<expiry s>.<user>.<HMAC>` under the
// "ide-session" purpose: bound to the vmid (a copied value does not open another dev server) and
// expiring; `needsRenewal` tells the proxy to re-issue it once half its lifetime has passed.
//
// Hot path: verified values are remembered (bounded) so a request costs a Map lookup, not an HMAC.

import { stringifySetCookie } from 'cookie'
import { PurposeSigner } from './signing-key.ts'

export const SESSION_COOKIE_NAME = '__Host-zlh-ide'
export const DEFAULT_SESSION_TTL_SECONDS = 12 * 3600

export interface IdeSession {
  readonly vmid: number
  readonly user: string
  readonly expiresAtMs: number
}

const COOKIE_PREFIX = `${SESSION_COOKIE_NAME}=`
const VERIFIED_CACHE_MAX = 10_000

export class IdeSessionCookie {
  readonly ttlSeconds: number
  private readonly signer: PurposeSigner
  private readonly now: () => number
  private readonly verified = new Map<string, IdeSession>()

  constructor(signingKey: Buffer, opts: { ttlSeconds?: number; now?: () => number } = {}) {
    this.signer = new PurposeSigner(signingKey, 'ide-session')
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS
    if (!(this.ttlSeconds >= 60)) throw new Error(`IDE session lifetime ${this.ttlSeconds}s too short: use at least 60`)
    this.now = opts.now ?? Date.now
  }

  /** A Set-Cookie header value starting a session for `user` on dev server `vmid`. */
  issue(vmid: number, user: string): string {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds
    const value = this.signer.sign(`v1.${vmid}.${exp}.${Buffer.from(user, 'utf8').toString('base64url')}`)
    return stringifySetCookie({
      name: SESSION_COOKIE_NAME,
      value,
      maxAge: this.ttlSeconds,
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
    })
  }

  /** The session a Cookie header carries for dev server `vmid`, or undefined. */
  sessionFor(cookieHeader: string | undefined, vmid: number): IdeSession | undefined {
    if (!cookieHeader) return undefined
    let at = findCookie(cookieHeader, 0)
    // A browser sends one host-only cookie of a name; more than one means someone injected extras.
    // Accept only if exactly one of them is valid for this vmid.
    let found: IdeSession | undefined
    while (at !== -1) {
      const start = at + COOKIE_PREFIX.length
      let end = cookieHeader.indexOf(';', start)
      if (end === -1) end = cookieHeader.length
      const session = this.verify(cookieHeader.slice(start, end).trim(), vmid)
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

  private verify(value: string, vmid: number): IdeSession | undefined {
    const now = this.now()
    let session = this.verified.get(value)
    if (session === undefined) {
      const payload = this.signer.verify(value)
      if (payload === undefined) return undefined
      const parts = payload.split('.')
      if (parts.length !== 4 || parts[0] !== 'v1') return undefined
      const user = Buffer.from(parts[3]!, 'base64url').toString('utf8')
      session = { vmid: Number(parts[1]), user, expiresAtMs: Number(parts[2]) * 1000 }
      if (!user || !Number.isSafeInteger(session.vmid) || !Number.isFinite(session.expiresAtMs)) return undefined
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear()
      this.verified.set(value, session)
    }
    if (session.vmid !== vmid || session.expiresAtMs <= now) return undefined
    return session
  }
}

/** The Cookie header without our session cookie (undefined when nothing else is left). */
export function stripSessionCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || !cookieHeader.includes(COOKIE_PREFIX)) return cookieHeader
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
