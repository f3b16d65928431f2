// One-time IDE tokens: what the portal hands a signed-in user to open one dev server's IDE.
//
// A token is `v2.<vmid>.<uid>.<api token id | ->.<expiry s>.<nonce>.<user, base64url>.<HMAC>`,
// signed under the "ide-token" purpose. It is bound to one DevServer (vmid and metadata.uid), one
// user and the portal API token that asked for it (see session-binding.ts), lives at most 60
// seconds, and is redeemable once: redeeming claims its nonce in a ReplayCache until it expires,
// and in the SharedClaims store when there is one (so a restart or another replica cannot redeem
// it again). Minting is stateless (any holder of the key can mint); redeeming is where single use
// and the binding (checked by the caller's `stillBound` before the nonce is claimed, so a link
// refused because the route table lags behind is not used up) are enforced.

import { randomBytes } from 'node:crypto'
import { PurposeSigner } from './signing-key.ts'
import { ReplayCache, type SharedClaims } from './replay-cache.ts'
import { checkBindingFields, isUid, NO_API_TOKEN, parseApiTokenId, type BindingEnd, type IdeBinding } from './session-binding.ts'

export const MAX_IDE_TOKEN_TTL_SECONDS = 60
/** Characters a token can contain; used to accept a token in a URL without reflecting anything else. */
export const IDE_TOKEN_PATTERN = /^[A-Za-z0-9_.-]{1,1024}$/

export type TokenRejection = 'malformed' | 'forged' | 'other-vmid' | 'expired' | 'replayed' | 'unverifiable' | BindingEnd

export type TokenRedemption = { ok: true; binding: IdeBinding } | { ok: false; reason: TokenRejection }

const REJECTION_TEXT: Record<TokenRejection, string> = {
  malformed: 'the link is damaged or incomplete',
  forged: 'the link was not issued by this service',
  'other-vmid': 'the link was issued for a different dev server',
  expired: 'the link has expired',
  replayed: 'the link has already been used',
  unverifiable: 'the service could not check whether the link was already used',
  'devserver-gone': 'the dev server the link was issued for no longer exists',
  'devserver-replaced': 'the dev server the link was issued for was deleted; another one now has its number',
  'token-revoked': 'the portal token that asked for the link was revoked',
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

  mint(binding: IdeBinding, ttlSeconds = MAX_IDE_TOKEN_TTL_SECONDS): MintedIdeToken {
    const { vmid, uid, apiTokenId, user } = binding
    if (!Number.isSafeInteger(vmid) || vmid < 1) throw new Error(`invalid vmid ${vmid}: expected a positive integer`)
    if (!user) throw new Error('an IDE token needs the user it is issued to')
    checkBindingFields(uid, apiTokenId)
    if (!(ttlSeconds > 0 && ttlSeconds <= MAX_IDE_TOKEN_TTL_SECONDS)) {
      throw new Error(`IDE token lifetime ${ttlSeconds}s out of range: must be in (0, ${MAX_IDE_TOKEN_TTL_SECONDS}]`)
    }
    const exp = Math.floor(this.now() / 1000) + Math.ceil(ttlSeconds)
    const nonce = randomBytes(16).toString('base64url')
    const user64 = Buffer.from(user, 'utf8').toString('base64url')
    const token = this.signer.sign(`v2.${vmid}.${uid}.${apiTokenId ?? NO_API_TOKEN}.${exp}.${nonce}.${user64}`)
    return { token, expiresAt: new Date(exp * 1000) }
  }

  /**
   * Verifies `token` for the dev server `vmid`, asks `stillBound` whether its binding holds, and
   * consumes it. A token refused before the claim (any reason but replayed/unverifiable) stays unused.
   */
  async redeem(
    token: string,
    vmid: number,
    stillBound: (binding: IdeBinding) => BindingEnd | undefined = () => undefined,
  ): Promise<TokenRedemption> {
    if (!IDE_TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' }
    const payload = this.signer.verify(token)
    if (payload === undefined) return { ok: false, reason: 'forged' }
    const parts = payload.split('.')
    if (parts.length !== 7 || parts[0] !== 'v2') return { ok: false, reason: 'malformed' }
    const [, vmidText, uid, tokenIdText, expText, nonce, userB64] = parts as [string, string, string, string, string, string, string]
    if (Number(vmidText) !== vmid) return { ok: false, reason: 'other-vmid' }
    const expMs = Number(expText) * 1000
    const now = this.now()
    if (!(expMs > now)) return { ok: false, reason: 'expired' }
    // A token that claims a lifetime beyond the maximum was not minted by us (or the clock jumped).
    if (expMs - now > (MAX_IDE_TOKEN_TTL_SECONDS + 5) * 1000) return { ok: false, reason: 'malformed' }
    const user = Buffer.from(userB64, 'base64url').toString('utf8')
    const apiTokenId = parseApiTokenId(tokenIdText)
    if (!user || !isUid(uid) || apiTokenId === undefined) return { ok: false, reason: 'malformed' }
    const binding: IdeBinding = { vmid, uid, apiTokenId, user }
    const ended = stillBound(binding)
    if (ended) return { ok: false, reason: ended }
    if (!this.replay.claim(nonce, expMs, now)) return { ok: false, reason: 'replayed' }
    if (this.shared) {
      try {
        if (!(await this.shared.claim(nonce, expMs))) return { ok: false, reason: 'replayed' }
      } catch {
        return { ok: false, reason: 'unverifiable' }
      }
    }
    return { ok: true, binding }
  }
}
