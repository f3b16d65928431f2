// Authentication of the embedded API server: who a request's bearer token names. Two token kinds,
// tried as kube-apiserver's union authenticator would: the static tokens of tokens.json (auth.ts)
// and ServiceAccount JWTs (service-account-tokens.ts). Impersonation (impersonation.ts) runs after
// this, on the authenticated user.
//
// Guarantees
// - No credentials → null (401 as with --anonymous-auth=false); a token no authenticator accepts
//   → undefined (401). A token never reaches a log or an error message.

import { StaticTokens, type TokenEntry } from '../auth.ts'
import type { UserInfo } from '../user.ts'
import { API_AUDIENCES, looksLikeJwt, ServiceAccountTokens, type ServiceAccountRef } from './service-account-tokens.ts'

export { impersonate } from './impersonation.ts'
export { API_AUDIENCES, ServiceAccountTokens } from './service-account-tokens.ts'

export class Authenticator {
  readonly staticTokens: StaticTokens
  readonly serviceAccountTokens: ServiceAccountTokens

  constructor(
    tokens: TokenEntry[],
    signingKeyFile: string,
    lookupServiceAccount: (namespace: string, name: string) => ServiceAccountRef | undefined,
  ) {
    this.staticTokens = new StaticTokens(tokens)
    this.serviceAccountTokens = new ServiceAccountTokens(signingKeyFile, lookupServiceAccount)
  }

  /** The user an Authorization header names: null for none, undefined for a bad one. */
  async authenticateHeader(header: string | undefined): Promise<UserInfo | null | undefined> {
    if (!header) return null
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) return undefined
    return (await this.authenticateToken(m[1]))?.user
  }

  /**
   * The user `token` names and which of `audiences` it is good for (TokenReview), undefined when
   * none: static tokens are good for the API server's own audience only (as kube wraps its
   * audience-agnostic token file), ServiceAccount tokens for those in their `aud` claim.
   */
  async authenticateToken(
    token: string,
    audiences: string[] = API_AUDIENCES,
  ): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const user = this.staticTokens.lookup(token)
    if (user) {
      const good = audiences.filter((a) => API_AUDIENCES.includes(a))
      return good.length ? { user, audiences: good } : undefined
    }
    if (looksLikeJwt(token)) {
      const r = await this.serviceAccountTokens.verify(token, audiences)
      return r?.audiences.length ? r : undefined
    }
    return undefined
  }
}
