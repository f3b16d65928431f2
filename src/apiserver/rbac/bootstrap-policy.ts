// The default roles and bindings, as kube-apiserver's bootstrap policy
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go) declares them, cut down to the
// resources this server serves: cluster-admin; admin, edit and view built by aggregation from the
// system:aggregate-to-* roles (view never reads Secrets); system:discovery, system:basic-user,
// system:public-info-viewer; and ours, the zlh:viewers binding of view for the read-only identity.

import { GROUP_AUTHENTICATED, GROUP_MASTERS, GROUP_VIEWERS } from '../user.ts'
import {
  AGGREGATE_TO,
  ALL,
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAPPING_LABEL,
  BOOTSTRAPPING_VALUE,
  RBAC_GROUP,
  type AggregationRule,
  type PolicyRule,
  type Subject,
} from './types.ts'

export const GROUP_UNAUTHENTICATED = 'system:unauthenticated'

export interface BootstrapClusterRole {
  name: string
  labels?: Record<string, string>
  rules: PolicyRule[]
  aggregationRule?: AggregationRule
}

export interface BootstrapClusterRoleBinding {
  name: string
  role: string
  subjects: Subject[]
}

const READ = ['get', 'list', 'watch']
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update']
const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ apiGroups, resources, verbs })
const aggregating = (label: string): AggregationRule => ({ clusterRoleSelectors: [{ matchLabels: { [label]: 'true' } }] })
const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name })

export const BOOTSTRAP_CLUSTER_ROLES: readonly BootstrapClusterRole[] = [
  { name: 'cluster-admin', rules: [rule([ALL], [ALL], [ALL]), { nonResourceURLs: [ALL], verbs: [ALL] }] },
  { name: 'admin', rules: [], aggregationRule: aggregating(AGGREGATE_TO.admin) },
  { name: 'edit', labels: { [AGGREGATE_TO.admin]: 'true' }, rules: [], aggregationRule: aggregating(AGGREGATE_TO.edit) },
  { name: 'view', labels: { [AGGREGATE_TO.edit]: 'true' }, rules: [], aggregationRule: aggregating(AGGREGATE_TO.view) },
  {
    name: 'system:aggregate-to-admin',
    labels: { [AGGREGATE_TO.admin]: 'true' },
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(READ_WRITE, [RBAC_GROUP], ['rolebindings', 'roles']),
    ],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [AGGREGATE_TO.edit]: 'true' },
    rules: [
      rule(READ, [''], ['secrets']),
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(WRITE, [''], ['configmaps', 'events', 'secrets', 'serviceaccounts']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [AGGREGATE_TO.view]: 'true' },
    rules: [
      rule(READ, [''], ['configmaps', 'serviceaccounts']),
      rule(READ, [''], ['events', 'namespaces/status']),
      rule(READ, [''], ['namespaces']),
    ],
  },
  {
    name: 'system:discovery',
    rules: [
      {
        nonResourceURLs: [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
        verbs: ['get'],
      },
    ],
  },
  {
    name: 'system:basic-user',
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  {
    name: 'system:public-info-viewer',
    rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  },
]

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: readonly BootstrapClusterRoleBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [group(GROUP_MASTERS)] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [group(GROUP_AUTHENTICATED)] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [group(GROUP_AUTHENTICATED)] },
  {
    name: 'system:public-info-viewer',
    role: 'system:public-info-viewer',
    subjects: [group(GROUP_AUTHENTICATED), group(GROUP_UNAUTHENTICATED)],
  },
  { name: 'zlh:viewers', role: 'view', subjects: [group(GROUP_VIEWERS)] },
]

/** The metadata every bootstrap object carries. */
export function bootstrapMetadata(
  name: string,
  labels: Record<string, string> = {},
): { name: string; labels: Record<string, string>; annotations: Record<string, string> } {
  return { name, labels: { [BOOTSTRAPPING_LABEL]: BOOTSTRAPPING_VALUE, ...labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }
}
