// HMAC-SHA256 signing under purpose-separated subkeys, so that a value signed for one purpose
// (an IDE token) can never be accepted as another (a session cookie). Verification compares
// MACs in constant time.

import { createHmac, timingSafeEqual } from 'node:crypto'

export const MIN_SIGNING_KEY_BYTES = 32

export class PurposeSigner {
  private readonly subkey: Buffer

  constructor(signingKey: Buffer, purpose: string) {
    if (signingKey.length < MIN_SIGNING_KEY_BYTES) {
      throw new Error(
        `signing key too short: ${signingKey.length} bytes, need at least ${MIN_SIGNING_KEY_BYTES} (generate one with: openssl rand -base64 32)`,
      )
    }
    this.subkey = createHmac('sha256', signingKey).update(`zlh-gateway/${purpose}`).digest()
  }

  /** `payload.<mac>` with the MAC in base64url. */
  sign(payload: string): string {
    return `${payload}.${this.mac(payload).toString('base64url')}`
  }

  /** The payload when `signed` carries a valid MAC, else undefined. */
  verify(signed: string): string | undefined {
    const dot = signed.lastIndexOf('.')
    if (dot <= 0) return undefined
    const payload = signed.slice(0, dot)
    const given = Buffer.from(signed.slice(dot + 1), 'base64url')
    const expected = this.mac(payload)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    return payload
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.subkey).update(payload).digest()
  }
}
