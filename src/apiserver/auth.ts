// Static bearer tokens: <dataDir>/tokens.json (mode 0600), kube-apiserver's --token-auth-file in
// JSON. Each entry names a user and its groups: `{token, user, uid?, groups?}`. The older form
// `role: "admin"` reads as groups [system:masters] and `role: "read-only"` as [zlh:viewers] (bound
// to the "view" ClusterRole). A missing file is created with an admin and a reader.
//
// Guarantees
// - Every user a token names carries system:authenticated besides its own groups.
// - Tokens are compared in constant time (as digests) and appear in no error message or log.
// - A malformed entry stops the start with an error naming its index and field, never its token.

import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { existsSync, readFileSync, chmodSync } from 'node:fs'
import { writeFileDurableSync } from '../platform/durable-file.ts'
import { GROUP_AUTHENTICATED, GROUP_MASTERS, GROUP_VIEWERS, type UserInfo } from './user.ts'

/** The older two-identity form of an entry. */
export type Role = 'admin' | 'read-only'

export interface TokenEntry {
  token: string
  user: string
  uid?: string
  groups?: string[]
  /** Legacy: admin → system:masters, read-only → zlh:viewers (added to `groups`). */
  role?: Role
}

const ROLE_GROUPS: Record<Role, string> = { admin: GROUP_MASTERS, 'read-only': GROUP_VIEWERS }
const MIN_TOKEN_LENGTH = 16

function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The groups an entry's user has (without system:authenticated). */
export function entryGroups(e: TokenEntry): string[] {
  const groups = [...(e.groups ?? [])]
  if (e.role) groups.push(ROLE_GROUPS[e.role])
  return [...new Set(groups)]
}

function checkEntry(e: unknown, where: string): TokenEntry {
  const bad = (field: string, why: string) =>
    new Error(`${where}: ${field} ${why}; fix or remove the entry (or delete the file to regenerate an admin and a reader)`)
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad('the entry', 'must be an object {token, user, uid?, groups?}')
  const o = e as Record<string, unknown>
  if (typeof o.token !== 'string' || o.token.length < MIN_TOKEN_LENGTH || /\s/.test(o.token))
    throw bad('token', `must be a string of at least ${MIN_TOKEN_LENGTH} characters without spaces`)
  if (typeof o.user !== 'string' || o.user === '') throw bad('user', 'must be a non-empty string')
  if (o.uid !== undefined && typeof o.uid !== 'string') throw bad('uid', 'must be a string')
  if (o.groups !== undefined && !(Array.isArray(o.groups) && o.groups.every((g) => typeof g === 'string' && g !== '')))
    throw bad('groups', 'must be a list of non-empty strings')
  if (o.role !== undefined && o.role !== 'admin' && o.role !== 'read-only')
    throw bad('role', 'must be "admin" or "read-only" (or use groups)')
  return {
    token: o.token,
    user: o.user,
    uid: o.uid as string | undefined,
    groups: o.groups as string[] | undefined,
    role: o.role as Role | undefined,
  }
}

/** Reads the tokens file, creating it with an admin (system:masters) and a reader (zlh:viewers) when absent. `extra` entries are accepted in memory. */
export function loadTokens(file: string, extra: TokenEntry[] = []): TokenEntry[] {
  let tokens: TokenEntry[]
  if (existsSync(file)) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new Error(
        `${file} is not valid JSON (${(err as Error).message.split('\n')[0]}); fix it or delete it to regenerate an admin and a reader token`,
      )
    }
    const list = (parsed as { tokens?: unknown } | null)?.tokens
    if (!Array.isArray(list)) throw new Error(`${file}: expected {"tokens": [{token, user, groups?}, ...]}`)
    tokens = list.map((e, i) => checkEntry(e, `${file}: tokens[${i}]`))
    chmodSync(file, 0o600)
  } else {
    tokens = [
      { token: newToken(), user: 'admin', groups: [GROUP_MASTERS] },
      { token: newToken(), user: 'reader', groups: [GROUP_VIEWERS] },
    ]
    writeFileDurableSync(file, `${JSON.stringify({ tokens }, null, 2)}\n`, 0o600)
  }
  return [...tokens, ...extra.map((e, i) => checkEntry(e, `tokens option [${i}]`))]
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** The user of a token entry, as authentication hands it on. */
export function entryUser(e: TokenEntry): UserInfo {
  const groups = entryGroups(e)
  if (!groups.includes(GROUP_AUTHENTICATED)) groups.push(GROUP_AUTHENTICATED)
  return { name: e.user, ...(e.uid ? { uid: e.uid } : {}), groups }
}

/** Looks static tokens up by value. */
export class StaticTokens {
  #entries: Array<{ hash: Buffer; user: UserInfo }>

  constructor(tokens: TokenEntry[]) {
    this.#entries = tokens.map((t) => ({ hash: digest(t.token), user: entryUser(t) }))
  }

  /** The user `token` names, undefined when no entry has it. */
  lookup(token: string): UserInfo | undefined {
    const h = digest(token)
    let found: UserInfo | undefined
    for (const e of this.#entries) if (timingSafeEqual(e.hash, h)) found ??= e.user
    return found && structuredClone(found)
  }
}
