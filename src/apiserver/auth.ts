// Bearer-token authentication and the two roles the server knows: admin and read-only (what each
// may do is authorizer.ts's decision). Tokens live in <dataDir>/tokens.json (mode 0600), generated on
// first start. Tokens are compared in constant time and never logged.

import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'

export type Role = 'admin' | 'read-only'

export interface TokenEntry {
  token: string
  user: string
  role: Role
}

export interface User { name: string; role: Role }

function newToken(): string { return randomBytes(32).toString('base64url') }

/** Reads the tokens file, creating it with an admin and a read-only token when absent. Extra tokens are added in memory. */
export function loadTokens(file: string, extra: TokenEntry[] = []): TokenEntry[] {
  let tokens: TokenEntry[]
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { tokens?: TokenEntry[] }
    tokens = (parsed.tokens ?? []).filter((t) => typeof t.token === 'string' && t.token.length >= 16 && (t.role === 'admin' || t.role === 'read-only'))
    chmodSync(file, 0o600)
  } else {
    tokens = [
      { token: newToken(), user: 'admin', role: 'admin' },
      { token: newToken(), user: 'reader', role: 'read-only' },
    ]
    writeFileSync(file, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 })
  }
  return [...tokens, ...extra]
}

const digest = (s: string) => createHash('sha256').update(s).digest()

export class Authenticator {
  #entries: Array<{ hash: Buffer; user: User }>

  constructor(tokens: TokenEntry[]) {
    this.#entries = tokens.map((t) => ({ hash: digest(t.token), user: { name: t.user, role: t.role } }))
  }

  /** The user a request's Authorization header names, null for no credentials, undefined for a bad token. */
  authenticate(header: string | undefined): User | null | undefined {
    if (!header) return null
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) return undefined
    const h = digest(m[1])
    let found: User | undefined
    for (const e of this.#entries) if (timingSafeEqual(e.hash, h)) found = e.user
    return found
  }
}
