// Credentials for a component that runs as a ServiceAccount (the controller, the gateway): a token
// from the TokenRequest API (`kubectl create token`'s call), kept in a token file, and a kubeconfig
// that names that file; both 0600 in a 0700 directory.
//
// Lifetime: short tokens rotated while running, not a long one re-minted at every start. A token is
// a credential that outlives the process that leaked it; an hour bounds that. It is also how a Pod
// gets its token on a real cluster (the kubelet re-requests it at 80 % of its lifetime into a
// projected file that client libraries re-read), so the components run the same code path here as
// in-cluster: the kubeconfig's user is client-node's `tokenFile` auth provider (the one its
// in-cluster loader uses), which re-reads the file every minute, and the runtime client re-applies
// auth every minute (src/runtime/client/rest-client.ts). Rotating at 80 % leaves 12 minutes for
// those two refreshes, and for retries when a rotation fails.
//
// Expected flow
//  1. mint(): request a token, write the token file, write the kubeconfig.
//  2. At 80 % of the token's lifetime, request a new one and replace the file atomically (a reader
//     sees the old or the new token, never a part); a failed request is logged at warn and retried
//     every 30 s (the old token still works for the remaining 20 %; once it expired, the
//     component's calls are refused with 401 until a retry succeeds).
//  3. stop(): no more rotation. The files stay (the next start overwrites them).
// Guarantees: the token is never logged and never in an error message.
// Caveats: the kubeconfig is for client-node (our components); kubectl does not know the
// `tokenFile` auth provider: use the people's kubeconfigs (or `--token "$(cat <name>.token)"`).
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { stringify } from 'yaml'
import { serviceAccountUserName } from '../../apiserver/user.ts'
import type { Client } from '../../runtime/index.ts'
import { writePrivateFile } from '../state-dir.ts'

export interface ServiceAccountRef {
  namespace: string
  name: string
}

/** Where the API server is, as a kubeconfig's cluster entry says it. */
export interface ClusterEndpoint {
  server: string
  caPem?: string
  /** Only for a plain-HTTP loopback hop (a test's recording proxy). */
  insecureSkipTlsVerify?: boolean
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
const ROTATE_AT = 0.8
const RETRY_MS = 30_000

/** The user name a ServiceAccount authenticates as (Kubernetes' convention). */
export function serviceAccountUser(sa: ServiceAccountRef): string {
  return serviceAccountUserName(sa.namespace, sa.name)
}

/** A token for `sa` from the TokenRequest API (POST …/serviceaccounts/<name>/token), asked by
 * `client`, which needs `create` on `serviceaccounts/token` there (the admin identity). */
export async function requestServiceAccountToken(
  client: Client,
  sa: ServiceAccountRef,
  expirationSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const path = `/api/v1/namespaces/${encodeURIComponent(sa.namespace)}/serviceaccounts/${encodeURIComponent(sa.name)}/token`
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } }
  const answer = await client.rest.request<{ status?: { token?: string; expirationTimestamp?: string } }>('POST', path, { body })
  const token = answer.status?.token
  if (typeof token !== 'string' || token === '')
    throw new Error(`TokenRequest for ServiceAccount ${sa.namespace}/${sa.name} answered without status.token`)
  const stamped = answer.status?.expirationTimestamp ? new Date(answer.status.expirationTimestamp) : undefined
  const expiresAt = stamped !== undefined && !Number.isNaN(stamped.getTime()) ? stamped : new Date(Date.now() + expirationSeconds * 1000)
  return { token, expiresAt }
}

/** A kubeconfig for `sa` whose token is read (and re-read) from `tokenFile`. */
export function serviceAccountKubeconfigYaml(endpoint: ClusterEndpoint, sa: ServiceAccountRef, tokenFile: string): string {
  const cluster: Record<string, unknown> = { server: endpoint.server }
  if (endpoint.caPem !== undefined) cluster['certificate-authority-data'] = Buffer.from(endpoint.caPem).toString('base64')
  if (endpoint.insecureSkipTlsVerify === true) cluster['insecure-skip-tls-verify'] = true
  const user = serviceAccountUser(sa)
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'zlh', cluster }],
    users: [{ name: user, user: { 'auth-provider': { name: 'tokenFile', config: { tokenFile } } } }],
    contexts: [{ name: sa.name, context: { cluster: 'zlh', user, namespace: sa.namespace } }],
    'current-context': sa.name,
  })
}

export interface MintOptions {
  /** Asks for the tokens: needs `create` on serviceaccounts/token in the SA's namespace. */
  client: Client
  sa: ServiceAccountRef
  /** Directory for <name>.token and <name>.kubeconfig (created 0700). */
  dir: string
  endpoint: ClusterEndpoint
  lifetimeSeconds?: number
  /** Delay before retrying a failed rotation (default 30 s). */
  retryMs?: number
  log?: Logger
}

export class ServiceAccountCredentials {
  readonly sa: ServiceAccountRef
  readonly tokenFile: string
  readonly kubeconfig: string
  readonly #opts: MintOptions
  #timer: NodeJS.Timeout | undefined
  #expiresAt = new Date(0)
  #stopped = false

  private constructor(opts: MintOptions) {
    this.#opts = opts
    this.sa = opts.sa
    this.tokenFile = join(opts.dir, `${opts.sa.name}.token`)
    this.kubeconfig = join(opts.dir, `${opts.sa.name}.kubeconfig`)
  }

  /** Requests the first token and writes both files; rotation runs until stop(). */
  static async mint(opts: MintOptions): Promise<ServiceAccountCredentials> {
    const c = new ServiceAccountCredentials(opts)
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
    chmodSync(opts.dir, 0o700)
    await c.#renew()
    writePrivateFile(c.kubeconfig, serviceAccountKubeconfigYaml(opts.endpoint, opts.sa, c.tokenFile))
    c.#schedule()
    return c
  }

  get expiresAt(): Date {
    return this.#expiresAt
  }

  /** Replaces the token now (also what the timer does). */
  async rotate(): Promise<void> {
    await this.#renew()
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async #renew(): Promise<void> {
    const { token, expiresAt } = await requestServiceAccountToken(
      this.#opts.client,
      this.sa,
      this.#opts.lifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    )
    // No trailing newline: the auth provider sends the file's bytes as they are.
    writePrivateFile(this.tokenFile, token)
    this.#expiresAt = expiresAt
    this.#opts.log?.info(
      { serviceAccount: serviceAccountUser(this.sa), expiresAt: expiresAt.toISOString() },
      'service account token written',
    )
  }

  #schedule(delayMs?: number): void {
    if (this.#stopped) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    const left = this.#expiresAt.getTime() - Date.now()
    const wait = delayMs ?? Math.max(1000, left * ROTATE_AT)
    this.#timer = setTimeout(() => {
      this.#renew().then(
        () => this.#schedule(),
        (err: unknown) => {
          const retryMs = this.#opts.retryMs ?? RETRY_MS
          this.#opts.log?.warn(
            { serviceAccount: serviceAccountUser(this.sa), err: (err as Error).message, expiresAt: this.#expiresAt.toISOString() },
            `service account token rotation failed; retrying in ${retryMs / 1000} s`,
          )
          this.#schedule(retryMs)
        },
      )
    }, wait)
    this.#timer.unref()
  }
}
