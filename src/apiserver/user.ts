// Who is asking: the authenticated identity of a request, as kube-apiserver's user.Info (name,
// uid, groups, extra). Authentication (auth.ts, service-account tokens, impersonation) produces it;
// authorization (RBAC) and the review APIs read it. The well-known names follow Kubernetes.

export interface UserInfo {
  /** "admin", "system:serviceaccount:<ns>:<name>", ... */
  name: string
  uid?: string
  /** Always includes "system:authenticated" for an authenticated user. */
  groups: string[]
  extra?: Record<string, string[]>
}

/** Members may do anything: RBAC's bootstrap ClusterRoleBinding "cluster-admin" binds this group. */
export const GROUP_MASTERS = 'system:masters'
export const GROUP_AUTHENTICATED = 'system:authenticated'
export const GROUP_SERVICE_ACCOUNTS = 'system:serviceaccounts'
/** Bound to the "view" ClusterRole by the bootstrap policy (the read-only identity of tokens.json). */
export const GROUP_VIEWERS = 'zlh:viewers'

const SA_PREFIX = 'system:serviceaccount:'

/** The user name a ServiceAccount authenticates as. */
export function serviceAccountUserName(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`
}

/** The groups every token of a ServiceAccount in `namespace` carries (besides system:authenticated). */
export function serviceAccountGroups(namespace: string): string[] {
  return [GROUP_SERVICE_ACCOUNTS, `${GROUP_SERVICE_ACCOUNTS}:${namespace}`]
}

/** namespace and name of a ServiceAccount user name, or undefined for any other user. */
export function parseServiceAccountUserName(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined
  const [namespace, name, ...rest] = user.slice(SA_PREFIX.length).split(':')
  if (!namespace || !name || rest.length) return undefined
  return { namespace, name }
}
