// The shapes of rbac.authorization.k8s.io/v1 objects as this server stores them, and the names
// (group, resources, well-known labels and annotations) the RBAC modules share.

import type { KObject } from '../types.ts'

export const RBAC_GROUP = 'rbac.authorization.k8s.io'

export const ROLE_GR = `roles.${RBAC_GROUP}`
export const CLUSTER_ROLE_GR = `clusterroles.${RBAC_GROUP}`
export const ROLE_BINDING_GR = `rolebindings.${RBAC_GROUP}`
export const CLUSTER_ROLE_BINDING_GR = `clusterrolebindings.${RBAC_GROUP}`
export const RBAC_GRS: readonly string[] = [ROLE_GR, CLUSTER_ROLE_GR, ROLE_BINDING_GR, CLUSTER_ROLE_BINDING_GR]

/** `*` in verbs, apiGroups, resources and nonResourceURLs. */
export const ALL = '*'

/** Bootstrap objects carry this label (kube: kubernetes.io/bootstrapping=rbac-defaults). */
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping'
export const BOOTSTRAPPING_VALUE = 'rbac-defaults'
/** "true" on a bootstrap object: missing rules and subjects are added back at every start. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate'
/** Labels the default admin, edit and view ClusterRoles aggregate by. */
export const AGGREGATE_TO = {
  admin: `${RBAC_GROUP}/aggregate-to-admin`,
  edit: `${RBAC_GROUP}/aggregate-to-edit`,
  view: `${RBAC_GROUP}/aggregate-to-view`,
} as const

export interface PolicyRule {
  verbs: string[]
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  nonResourceURLs?: string[]
}

export interface Subject {
  kind: string
  name: string
  namespace?: string
  apiGroup?: string
}

export interface RoleRef {
  apiGroup: string
  kind: string
  name: string
}

export interface LabelSelectorLike {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelectorLike[]
}

export type RoleObject = KObject & { rules?: PolicyRule[] | null; aggregationRule?: AggregationRule }
export type BindingObject = KObject & { roleRef: RoleRef; subjects?: Subject[] | null }

/** The rules of a stored Role or ClusterRole (null and absent read as none). */
export function rulesOf(o: KObject): PolicyRule[] {
  const rules = (o as RoleObject).rules
  return Array.isArray(rules) ? rules : []
}

/** The subjects of a stored binding (null and absent read as none). */
export function subjectsOf(o: KObject): Subject[] {
  const subjects = (o as BindingObject).subjects
  return Array.isArray(subjects) ? subjects : []
}
