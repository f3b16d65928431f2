// One-time IDE tokens: what the portal hands a signed-in user to open one dev server's IDE.
//
// A token is `v1.<vmid>.<expiry s>.<nonce>.<user, base64url>.<HMAC>`, signed under the
// "ide-token" purpose. It is bound to one vmid and one user, lives at most 60 seconds, and is
// redeemable once: redeeming claims its nonce in a ReplayCache until it expires, and in the
// SharedClaims store when there is one (so a restart or another replica cannot redeem it again).
// Minting is stateless (any holder of the key can mint); redeeming is where single use is enforced.

import { randomBytes } from 'node:crypto'
import { PurposeSigner } from './signing-key.ts'
import { ReplayCache, type SharedClaims } from './replay-cache.ts'

export const MAX_IDE_TOKEN_TTL_SECONDS = 60
/** Characters a token can contain; used to accept a token in a URL without reflecting anything else. */
export const IDE_TOKEN_PATTERN = /^[A-Za-z0-9_.-]{1,1024}$/

export type TokenRejection = 'malformed' | 'forged' | 'other-vmid' | 'expired' | 'replayed' | 'unverifiable'

export type TokenRedemption =
  | { ok: true; vmid: number; user: string }
  | { ok: false; reason: TokenRejection }

const REJECTION_TEXT: Record<TokenRejection, string> = {
  malformed: 'the link is damaged or incomplete',
  forged: 'the link was not issued by this service',
  'other-vmid': 'the link was issued for a different dev server',
  expired: 'the link has expired',
  replayed: 'the link has already been used',
  unverifiable: 'the service could not check whether the link was already used',
}

export const describeRejection = (r: TokenRejection): string => REJECTION_TEXT[r]

export interface MintedIdeToken {
  token: string
  expiresAt: Date
}

export class IdeTokenIssuer {
  private readonly signer: PurposeSigner
  private readonly replay: ReplayCache
  private readonly shared: SharedClaims | undefined
  private readonly now: () => number

  constructor(signingKey: Buffer, opts: { replayCache?: ReplayCache; sharedClaims?: SharedClaims; now?: () => number } = {}) {
    this.signer = new PurposeSigner(signingKey, 'ide-token')
    this.replay = opts.replayCache ?? new ReplayCache()
    this.shared = opts.sharedClaims
    this.now = opts.now ?? Date.now
  }

  mint(vmid: number, user: string, ttlSeconds = MAX_IDE_TOKEN_TTL_SECONDS): MintedIdeToken {
    if (!Number.isSafeInteger(vmid) || vmid < 1) throw new Error(`invalid vmid ${vmid}: expected a positive integer`)
    if (!user) throw new Error('an IDE token needs the user it is issued to')
    if (!(ttlSeconds > 0 && ttlSeconds <= MAX_IDE_TOKEN_TTL_SECONDS)) {
      throw new Error(`IDE token lifetime ${ttlSeconds}s out of range: must be in (0, ${MAX_IDE_TOKEN_TTL_SECONDS}]`)
    }
    const exp = Math.floor(this.now() / 1000) + Math.ceil(ttlSeconds)
    const nonce = randomBytes(16).toString('base64url')
    const token = this.signer.sign(`v1.${vmid}.${exp}.${nonce}.${Buffer.from(user, 'utf8').toString('base64url')}`)
    return { token, expiresAt: new Date(exp * 1000) }
  }

  /** Verifies `token` for the dev server `vmid` and consumes it. */
  async redeem(token: string, vmid: number): Promise<TokenRedemption> {
    if (!IDE_TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' }
    const payload = this.signer.verify(token)
    if (payload === undefined) return { ok: false, reason: 'forged' }
    const parts = payload.split('.')
    if (parts.length !== 5 || parts[0] !== 'v1') return { ok: false, reason: 'malformed' }
    const [, vmidText, expText, nonce, userB64] = parts as [string, string, string, string, string]
    if (Number(vmidText) !== vmid) return { ok: false, reason: 'other-vmid' }
    const expMs = Number(expText) * 1000
    const now = this.now()
    if (!(expMs > now)) return { ok: false, reason: 'expired' }
    // A token that claims a lifetime beyond the maximum was not minted by us (or the clock jumped).
    if (expMs - now > (MAX_IDE_TOKEN_TTL_SECONDS + 5) * 1000) return { ok: false, reason: 'malformed' }
    const user = Buffer.from(userB64, 'base64url').toString('utf8')
    if (!user) return { ok: false, reason: 'malformed' }
    if (!this.replay.claim(nonce, expMs, now)) return { ok: false, reason: 'replayed' }
    if (this.shared) {
      try {
        if (!(await this.shared.claim(nonce, expMs))) return { ok: false, reason: 'replayed' }
      } catch {
        return { ok: false, reason: 'unverifiable' }
      }
    }
    return { ok: true, vmid, user }
  }
}
