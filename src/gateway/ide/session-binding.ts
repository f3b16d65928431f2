// What an IDE token or session is bound to, and whether that binding still holds.
//
// A binding names one DevServer (its vmid AND its metadata.uid, so a DevServer recreated under
// the same vmid is another DevServer) and the portal API token that asked for the link (its id,
// never the token). It holds while the route table still routes that vmid to that uid and the
// API token is still in the token store. Both are in-memory reads of caches that follow the API
// by watches (the DevServer informer, the token Secret's reflector): no API call per request.
//
// A binding without an API token (`apiTokenId: null`) is explicit: the link was minted by an
// embedder or a test calling the gateway directly, with no portal token behind it; such a session
// ends only with its DevServer or when it expires.

import type { ResolvedRoute } from './route-table.ts'

export interface IdeBinding {
  readonly vmid: number
  /** metadata.uid of the DevServer the link was minted for. */
  readonly uid: string
  /** Id of the portal API token that asked for the link; null when none did (see the header). */
  readonly apiTokenId: string | null
  readonly user: string
}

/** Which portal API tokens exist (ApiTokenStore follows its Secret and implements this). */
export interface ApiTokenRegistry {
  /** Whether the token with this id exists (not revoked); an in-memory read. */
  isActive(tokenId: string): boolean
  /** Calls `listener` after the set of tokens may have changed (a revocation, a new token). */
  onChange?(listener: () => void): void
}

export type BindingEnd = 'devserver-gone' | 'devserver-replaced' | 'token-revoked'

const END_TEXT: Record<BindingEnd, string> = {
  'devserver-gone': 'the dev server this session was opened for no longer exists',
  'devserver-replaced': 'the dev server this session was opened for was deleted; another one now has its number',
  'token-revoked': 'the portal token that opened this session was revoked',
}

export const describeBindingEnd = (e: BindingEnd): string => END_TEXT[e]

/** Ids are the portal's 12 hex chars; uids are UUIDs. Both travel in signed, dot-separated values. */
const UID_PATTERN = /^[A-Za-z0-9-]{1,128}$/
const TOKEN_ID_PATTERN = /^[A-Za-z0-9]{1,64}$/
/** How a binding without an API token is written in tokens and cookies. */
export const NO_API_TOKEN = '-'

export function checkBindingFields(uid: string, apiTokenId: string | null): void {
  if (!UID_PATTERN.test(uid)) throw new Error(`invalid DevServer uid ${JSON.stringify(uid)}: expected a Kubernetes uid`)
  if (apiTokenId !== null && !TOKEN_ID_PATTERN.test(apiTokenId)) throw new Error(`invalid API token id ${JSON.stringify(apiTokenId)}`)
}

export function parseApiTokenId(field: string): string | null | undefined {
  if (field === NO_API_TOKEN) return null
  return TOKEN_ID_PATTERN.test(field) ? field : undefined
}

export const isUid = (s: string): boolean => UID_PATTERN.test(s)

/**
 * Why `binding` no longer holds, or undefined while it does. `route` is the route table's
 * current entry for the binding's vmid; a binding that names an API token and a gateway with no
 * registry to check it against fails closed.
 */
export function bindingEnded(
  binding: IdeBinding,
  route: ResolvedRoute | undefined,
  apiTokens: ApiTokenRegistry | undefined,
): BindingEnd | undefined {
  if (!route) return 'devserver-gone'
  if (route.uid !== binding.uid) return 'devserver-replaced'
  if (binding.apiTokenId !== null && !(apiTokens?.isActive(binding.apiTokenId) ?? false)) return 'token-revoked'
  return undefined
}
