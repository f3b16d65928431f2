// The gateway's side of a tenant namespace: the namespace itself, and the RoleBinding that lets
// the gateway's ServiceAccount read the agent-token Secrets there (ClusterRole
// `zlh-gateway-agent-tokens`, secrets get; manifests/base/rbac-gateway.yaml). The gateway holds
// no cluster-wide Secret access: it reads agent tokens only in namespaces that were made tenants.
//
// Expected flow
//  1. A token is issued for namespaces N (token-routes.ts), or the gateway starts (service.ts,
//     every namespace of every stored token): provision(N).
//  2. Each namespace is created when absent (`create` on namespaces).
//  3. The gateway learns who it is once (SelfSubjectReview). When it is a ServiceAccount, it
//     creates RoleBinding `zlh-gateway-agent-tokens` in each namespace naming itself; the API
//     server allows that because its ClusterRole has `create` on rolebindings and `bind` on
//     exactly this ClusterRole (Kubernetes' escalation prevention lets it bind nothing else).
//     When it is not a ServiceAccount (a person's admin kubeconfig) it binds nothing: that
//     identity reads Secrets anyway.
// Guarantees: idempotent (an existing namespace or binding is left as it is); a failure is thrown
// before the caller records anything (no token for a tenant the gateway could not prepare).
// Caveats: an existing binding of that name is trusted, not compared; an API server without
// SelfSubjectReview (Kubernetes < 1.28) is treated as "not a ServiceAccount" and logged once.

import { ApiError, ErrorCodes, isConflict, isNotFound, RuntimeError, type Client, type KObject } from '../../runtime/index.ts'
import { GATEWAY_FIELD_MANAGER, SELF_SUBJECT_REVIEW } from './kinds.ts'
import { ensureNamespace } from './system-secrets.ts'

/** The ClusterRole (secrets get) the gateway binds in each tenant namespace, and the binding's name. */
export const AGENT_TOKENS_ROLE = 'zlh-gateway-agent-tokens'

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/

/** Who the API server says the gateway is. */
export interface GatewayIdentity {
  username: string
  groups: string[]
  /** Set when the identity is a ServiceAccount. */
  serviceAccount?: { namespace: string; name: string }
}

export interface TenantNamespacesOptions {
  /** Where a step that is skipped or failed is reported (never a token). */
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

export class TenantNamespaces {
  readonly #client: Client
  readonly #log: TenantNamespacesOptions['log']
  #identity: Promise<GatewayIdentity | undefined> | undefined

  constructor(client: Client, opts: TenantNamespacesOptions = {}) {
    this.#client = client
    this.#log = opts.log
  }

  /** The gateway's identity from SelfSubjectReview (asked once); undefined when the API server cannot say. */
  identity(): Promise<GatewayIdentity | undefined> {
    this.#identity ??= this.#review().catch((err) => {
      this.#identity = undefined // a failure is asked again next time
      throw err
    })
    return this.#identity
  }

  /** Makes each namespace a tenant the gateway can serve (see the header). */
  async provision(namespaces: readonly string[]): Promise<void> {
    const me = await this.identity()
    for (const namespace of new Set(namespaces)) {
      await ensureNamespace(this.#client, namespace)
      if (me?.serviceAccount) await this.#bind(namespace, me.serviceAccount)
    }
  }

  async #bind(namespace: string, sa: { namespace: string; name: string }): Promise<void> {
    const binding: KObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: AGENT_TOKENS_ROLE, namespace, labels: { 'app.kubernetes.io/managed-by': 'zlh-gateway' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_TOKENS_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }],
    }
    try {
      await this.#client.create(binding, { fieldManager: GATEWAY_FIELD_MANAGER })
      this.#log?.info({ namespace, role: AGENT_TOKENS_ROLE }, 'bound the gateway to read agent tokens in a tenant namespace')
    } catch (err) {
      if (!isConflict(err)) throw err
    }
  }

  async #review(): Promise<GatewayIdentity | undefined> {
    let review: KObject & { status?: { userInfo?: { username?: string; groups?: string[] } } }
    try {
      review = await this.#client.create({ apiVersion: SELF_SUBJECT_REVIEW.apiVersion, kind: SELF_SUBJECT_REVIEW.kind, metadata: {} })
    } catch (err) {
      // Not served (Kubernetes < 1.28, or an API server without it): nothing to learn.
      if ((err instanceof RuntimeError && err.code === ErrorCodes.KIND_NOT_SERVED) || (err instanceof ApiError && isNotFound(err))) {
        this.#log?.warn(
          { err: (err as Error).message },
          'the API server does not answer SelfSubjectReview: the gateway binds no agent-token role in tenant namespaces',
        )
        return undefined
      }
      throw err
    }
    const username = review.status?.userInfo?.username ?? ''
    const groups = review.status?.userInfo?.groups ?? []
    const m = SERVICE_ACCOUNT_USER.exec(username)
    return { username, groups, ...(m ? { serviceAccount: { namespace: m[1]!, name: m[3]! } } : {}) }
  }
}
