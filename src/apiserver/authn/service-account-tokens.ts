// ServiceAccount tokens: signed JWTs shaped like kube-apiserver's bound tokens (iss, sub, aud,
// exp, iat, nbf, jti, `kubernetes.io: {namespace, serviceaccount: {name, uid}}`), issued by the
// TokenRequest API and accepted as bearer tokens.
//
// Guarantees
// - The signing key (ES256) is made once and kept in <dataDir>/service-account.key (0600, written
//   atomically); deleting the file revokes every token issued so far at the next start.
// - A token authenticates only while its signature, time window (nbf..exp) and audience check out
//   AND its ServiceAccount still exists with the uid it was issued for and is not being deleted:
//   deleting (or re-creating) the ServiceAccount revokes its tokens at once.
// - The identity is system:serviceaccount:<ns>:<name> in groups system:serviceaccounts,
//   system:serviceaccounts:<ns> and system:authenticated; uid is the ServiceAccount's.
// - Nothing here logs or returns a token except issue()'s result.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { existsSync, readFileSync, chmodSync } from 'node:fs'
import { writeFileDurableSync } from '../../platform/durable-file.ts'
import { SignJWT, jwtVerify } from 'jose'
import { GROUP_AUTHENTICATED, serviceAccountGroups, serviceAccountUserName, type UserInfo } from '../user.ts'

/** kube-apiserver's usual --service-account-issuer; also the default (and only) API audience. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local'
export const API_AUDIENCES = [SERVICE_ACCOUNT_ISSUER]
/** TokenRequest defaults and bounds (kube: default 1 h, at least 10 min). */
export const DEFAULT_EXPIRATION_SECONDS = 3600
export const MIN_EXPIRATION_SECONDS = 600
/** Longer requests are shortened to this, as kube does with --service-account-max-token-expiration. */
export const MAX_EXPIRATION_SECONDS = 365 * 24 * 3600
/** The user-extra key kube-apiserver puts a token's jti under. */
export const CREDENTIAL_ID_EXTRA = 'authentication.kubernetes.io/credential-id'

const ALG = 'ES256'

/** A ServiceAccount as far as token checks care. */
export interface ServiceAccountRef {
  uid: string
  deleting: boolean
}

export interface IssuedToken {
  token: string
  expirationTimestamp: string
}

/** Loads the signing key from `file`, creating it (0600) when absent. */
function loadSigningKey(file: string): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
  let pem: string
  if (existsSync(file)) {
    pem = readFileSync(file, 'utf8')
    chmodSync(file, 0o600)
  } else {
    pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    writeFileDurableSync(file, pem, 0o600)
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem)
  } catch {
    throw new Error(`${file} is not a PEM private key; delete it to make a new one (tokens issued so far stop working)`)
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${file} is not a P-256 (ES256) key; delete it to make a new one (tokens issued so far stop working)`)
  }
  const publicKey = createPublicKey(privateKey)
  const kid = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
  return { privateKey, publicKey, kid }
}

/** Whether `token` has the shape of a JWT (three base64url parts), so it is worth verifying as one. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)
}

interface KubernetesClaim {
  namespace?: unknown
  serviceaccount?: { name?: unknown; uid?: unknown }
}

export class ServiceAccountTokens {
  #privateKey: KeyObject
  #publicKey: KeyObject
  #kid: string
  #lookup: (namespace: string, name: string) => ServiceAccountRef | undefined

  /** `lookup` reads the live ServiceAccount (undefined when it does not exist). */
  constructor(keyFile: string, lookup: (namespace: string, name: string) => ServiceAccountRef | undefined) {
    const k = loadSigningKey(keyFile)
    this.#privateKey = k.privateKey
    this.#publicKey = k.publicKey
    this.#kid = k.kid
    this.#lookup = lookup
  }

  /** Signs a token for the ServiceAccount; `expirationSeconds` is already validated and capped. */
  async issue(
    sa: { namespace: string; name: string; uid: string },
    audiences: string[],
    expirationSeconds: number,
    now = Date.now(),
  ): Promise<IssuedToken> {
    const iat = Math.floor(now / 1000)
    const exp = iat + expirationSeconds
    const token = await new SignJWT({ 'kubernetes.io': { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } } })
      .setProtectedHeader({ alg: ALG, kid: this.#kid })
      .setIssuer(SERVICE_ACCOUNT_ISSUER)
      .setSubject(serviceAccountUserName(sa.namespace, sa.name))
      .setAudience(audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.#privateKey)
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') }
  }

  /**
   * The user a token names, or undefined when it is not a valid token of this server for one of
   * `audiences` (bad signature, outside its time window, wrong audience or issuer, or its
   * ServiceAccount gone, re-created or being deleted). Returns the audiences it matched too.
   */
  async verify(token: string, audiences: string[] = API_AUDIENCES): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    let payload
    try {
      ;({ payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: [ALG],
        issuer: SERVICE_ACCOUNT_ISSUER,
        audience: audiences,
        requiredClaims: ['exp', 'nbf', 'sub'],
      }))
    } catch {
      return undefined
    }
    const k = payload['kubernetes.io'] as KubernetesClaim | undefined
    const namespace = k?.namespace
    const name = k?.serviceaccount?.name
    const uid = k?.serviceaccount?.uid
    if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string') return undefined
    if (payload.sub !== serviceAccountUserName(namespace, name)) return undefined
    const live = this.#lookup(namespace, name)
    if (!live || live.uid !== uid || live.deleting) return undefined
    const tokenAudiences = [payload.aud ?? []].flat()
    const user: UserInfo = {
      name: serviceAccountUserName(namespace, name),
      uid,
      groups: [...serviceAccountGroups(namespace), GROUP_AUTHENTICATED],
      ...(typeof payload.jti === 'string' ? { extra: { [CREDENTIAL_ID_EXTRA]: [`JTI=${payload.jti}`] } } : {}),
    }
    return { user, audiences: audiences.filter((a) => tokenAudiences.includes(a)) }
  }
}
