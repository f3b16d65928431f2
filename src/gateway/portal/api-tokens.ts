// Portal API tokens: random bearer tokens with scopes and tenant namespaces, stored hashed in one
// Secret of the gateway's system namespace (key = token id, value = JSON {sha256, user, scopes,
// namespaces?, createdAt}). Which namespaces a token reaches is tenancy.ts's rule.
//
// Token format: `zlh_<id>_<secret>` — id: 12 hex chars (the lookup key, not secret), secret: 32
// random bytes in base64url. Only sha256(token) is stored: the tokens carry 256 bits of entropy,
// so a fast hash is enough (no password-style stretching needed) and nothing stored can be
// replayed as a token.
//
// Guarantees
//  - authenticate() compares hashes in constant time and never logs or returns the token.
//  - Every replica sees issued/revoked tokens: the cache follows the Secret through a watch
//    (reflector), and the issuing replica also applies its own write at once.
//  - isActive(id) is a read of that cache (the IDE proxy asks it on every request of a session
//    opened through a token); onChange listeners run after each reload, so the gateway can close
//    the WebSockets of sessions whose token was revoked.
// Assumptions: one writer at a time per token id (ids are random, so concurrent issues never
//  collide); writes are JSON merge patches of single keys, so they never overwrite each other.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { PatchType, Reflector, type Client } from '../../runtime/index.ts'
import { GATEWAY_FIELD_MANAGER, SECRET } from './kinds.ts'
import { ensureNamespace, getOrCreateSecret, type SecretObject } from './system-secrets.ts'
import { isNamespaceName } from './namespace-name.ts'

export const API_TOKENS_SECRET = 'zlh-gateway-api-tokens'

/** What a token may do. `admin` implies every other scope. */
export const SCOPES = ['servers:read', 'servers:write', 'ide', 'console', 'files', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

export interface Principal {
  /** Token id (safe to log). */
  readonly tokenId: string
  readonly user: string
  readonly scopes: readonly Scope[]
  /** The tenant namespaces it was issued for, home first; empty for a token issued without any. */
  readonly namespaces: readonly string[]
}

interface StoredToken {
  sha256: string
  user: string
  scopes: Scope[]
  namespaces?: string[]
  createdAt: string
}

const TOKEN_PATTERN = /^zlh_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex')

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes(scope) || p.scopes.includes('admin')
}

export class ApiTokenStore {
  readonly #client: Client
  readonly #namespace: string
  readonly #name: string
  #records = new Map<string, StoredToken>()
  #loadedRv = 0
  readonly #listeners: Array<() => void> = []

  constructor(client: Client, opts: { namespace: string; secretName?: string }) {
    this.#client = client
    this.#namespace = opts.namespace
    this.#name = opts.secretName ?? API_TOKENS_SECRET
  }

  /** Creates the Secret if absent, starts following it; resolves once the cache is filled. */
  async start(signal: AbortSignal): Promise<void> {
    await ensureNamespace(this.#client, this.#namespace)
    this.#load(await getOrCreateSecret(this.#client, this.#namespace, this.#name, () => ({})))
    const reflector = new Reflector<SecretObject>(this.#client, SECRET, {
      namespace: this.#namespace,
      fieldSelector: `metadata.name=${this.#name}`,
    })
    reflector.addEventHandler({
      onAdd: (s) => this.#load(s),
      onUpdate: (_old, s) => this.#load(s),
      onDelete: () => {
        this.#records = new Map()
        this.#loadedRv = 0
        this.#changed()
      },
    })
    void reflector.run(signal).catch(() => {})
    await reflector.waitForSync(signal)
  }

  /** The principal a bearer token stands for, or undefined. */
  authenticate(token: string | undefined): Principal | undefined {
    if (!token) return undefined
    const m = TOKEN_PATTERN.exec(token)
    if (!m) return undefined
    const id = m[1]!
    const rec = this.#records.get(id)
    if (!rec) return undefined
    const given = Buffer.from(sha256Hex(token), 'hex')
    const stored = Buffer.from(rec.sha256, 'hex')
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined
    return { tokenId: id, user: rec.user, scopes: rec.scopes, namespaces: rec.namespaces ?? [] }
  }

  /**
   * Issues a new token; the returned string is the only copy (only its hash is stored).
   * `namespaces` (home first) are the tenants it belongs to; none = the portal's namespace.
   */
  async issue(user: string, scopes: readonly Scope[], namespaces: readonly string[] = []): Promise<{ id: string; token: string }> {
    const bad = namespaces.find((n) => !isNamespaceName(n))
    if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a namespace name (a lowercase RFC 1123 label)`)
    const id = randomBytes(6).toString('hex')
    const token = `zlh_${id}_${randomBytes(32).toString('base64url')}`
    await this.#put(id, {
      sha256: sha256Hex(token),
      user,
      scopes: [...scopes],
      ...(namespaces.length > 0 ? { namespaces: [...namespaces] } : {}),
      createdAt: new Date().toISOString(),
    })
    return { id, token }
  }

  /** Registers a token chosen elsewhere (e.g. read from a file); it must have the token format. */
  async register(token: string, user: string, scopes: readonly Scope[]): Promise<string> {
    const m = TOKEN_PATTERN.exec(token)
    if (!m)
      throw new Error(
        'the token does not have the zlh_<12 hex>_<43 base64url> format; generate one with the gateway (leave the file absent)',
      )
    await this.#put(m[1]!, { sha256: sha256Hex(token), user, scopes: [...scopes], createdAt: new Date().toISOString() })
    return m[1]!
  }

  async revoke(id: string): Promise<boolean> {
    if (!this.#records.has(id)) return false
    const s = await this.#client.patch<SecretObject>(SECRET, this.#name, this.#namespace, { data: { [id]: null } }, PatchType.merge, {
      fieldManager: GATEWAY_FIELD_MANAGER,
    })
    this.#load(s)
    return true
  }

  /** Whether a token with this id exists (it was not revoked): an in-memory read, no API call. */
  isActive(id: string): boolean {
    return this.#records.has(id)
  }

  /** Calls `listener` after the set of tokens was reloaded (an issue or a revocation, here or on another replica). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener)
  }

  /** Token ids with their user, scopes and namespaces (never hashes). */
  list(): Array<{ id: string; user: string; scopes: Scope[]; namespaces: string[]; createdAt: string }> {
    return [...this.#records].map(([id, r]) => ({
      id,
      user: r.user,
      scopes: r.scopes,
      namespaces: r.namespaces ?? [],
      createdAt: r.createdAt,
    }))
  }

  get size(): number {
    return this.#records.size
  }

  async #put(id: string, rec: StoredToken): Promise<void> {
    const value = Buffer.from(JSON.stringify(rec)).toString('base64')
    const s = await this.#client.patch<SecretObject>(SECRET, this.#name, this.#namespace, { data: { [id]: value } }, PatchType.merge, {
      fieldManager: GATEWAY_FIELD_MANAGER,
    })
    this.#load(s)
  }

  #load(secret: SecretObject): void {
    // A watch event can trail this replica's own write; never go back to an older copy.
    // (resourceVersions are opaque in general; integers, as etcd and the embedded server use, are compared.)
    const rv = Number(secret.metadata?.resourceVersion)
    if (Number.isSafeInteger(rv)) {
      if (rv < this.#loadedRv) return
      this.#loadedRv = rv
    }
    const next = new Map<string, StoredToken>()
    for (const [id, b64] of Object.entries(secret.data ?? {})) {
      try {
        const rec = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as StoredToken
        if (/^[0-9a-f]{64}$/.test(rec.sha256) && typeof rec.user === 'string' && Array.isArray(rec.scopes)) {
          // A hand-edited namespace list that is not one grants nothing (no namespace means the portal's).
          if (
            rec.namespaces !== undefined &&
            (!Array.isArray(rec.namespaces) || rec.namespaces.length === 0 || !rec.namespaces.every(isNamespaceName))
          )
            continue
          next.set(id, { ...rec, scopes: rec.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)) })
        }
      } catch {
        /* a hand-edited, unreadable entry grants nothing */
      }
    }
    this.#records = next
    this.#changed()
  }

  #changed(): void {
    for (const listener of this.#listeners) listener()
  }
}
