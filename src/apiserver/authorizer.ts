// Authorization: what a user may do, decided on the routed request's attributes (verb, API group,
// resource, subresource, namespace, name — as kube-apiserver's authorizer.Attributes), never on
// the URL's spelling. The server asks an Authorizer (RBAC, src/apiserver/rbac); this module holds
// the attributes, the interfaces and the 403 worded as kube-apiserver's.
//
// Guarantees
// - Every route that can return an object is a request for its resource in its group, whatever the
//   spelling (get, list, watch, Table, metadata-only, namespaced or cluster-wide, legacy /watch/).
// - Denials read like kube-apiserver's: `secrets is forbidden: User "reader" cannot list resource
//   "secrets" in API group "" in the namespace "x"` (+ `: <reason>` when the authorizer gives one).

import type { UserInfo } from './user.ts'
import type { PathTarget } from './paths.ts'
import { queryBool } from './query-bool.ts'
import { parseFieldSelector } from './selectors/index.ts'
import { ApiError } from './status.ts'

/** What a request asks to do, as kube-apiserver's authorizer.Attributes. */
export interface RequestAttributes {
  verb: string
  /** True for /api/v1/... and /apis/<group>/<version>/... resource paths; false for discovery, /version, OpenAPI... */
  resourceRequest: boolean
  /** The normal form of the path (non-resource requests are authorized on it). */
  path: string
  apiGroup: string
  apiVersion: string
  resource: string
  subresource: string
  namespace: string
  name: string
}

export interface Decision {
  allowed: boolean
  reason?: string
}

/** Decides requests; RBAC implements it. */
export interface Authorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Decision
}

/** kube's authorization.k8s.io/v1 ResourceRule and NonResourceRule, as SelfSubjectRulesReview returns them. */
export interface ResourceRuleInfo {
  verbs: string[]
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
}
export interface NonResourceRuleInfo {
  verbs: string[]
  nonResourceURLs?: string[]
}
export interface RulesInfo {
  resourceRules: ResourceRuleInfo[]
  nonResourceRules: NonResourceRuleInfo[]
  incomplete: boolean
  evaluationError?: string
}

/** Lists what a user may do in a namespace (SelfSubjectRulesReview, `kubectl auth can-i --list`). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RulesInfo
}

/**
 * The attributes of a request: `target` is the parsed API path (undefined outside the API),
 * `query` its raw query string. Verbs follow kube-apiserver's RequestInfo: get, list, watch,
 * create, update, patch, delete, deletecollection; non-resource requests use the method.
 */
export function requestAttributes(method: string, path: string, target: PathTarget | undefined, query: string): RequestAttributes {
  const none = { apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' }
  if (target?.type !== 'resource') {
    const verb = method === 'HEAD' ? 'get' : method.toLowerCase()
    return { verb, resourceRequest: false, path, ...none }
  }
  // The resource handler reads `watch` with the same function: what is authorized is what is served.
  const watch = target.legacyWatch || queryBool(new URLSearchParams(query), 'watch')
  const named = target.name !== undefined
  let verb: string
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watch ? 'watch' : named ? 'get' : 'list'
      break
    case 'POST':
      verb = 'create'
      break
    case 'PUT':
      verb = 'update'
      break
    case 'PATCH':
      verb = 'patch'
      break
    case 'DELETE':
      verb = named ? 'delete' : 'deletecollection'
      break
    default:
      verb = method.toLowerCase()
  }
  return {
    verb,
    resourceRequest: true,
    path,
    apiGroup: target.group,
    apiVersion: target.version,
    resource: target.resource,
    subresource: target.subresource ?? '',
    namespace: target.namespace ?? '',
    name: target.name ?? (verb === 'list' || verb === 'watch' ? selectedName(query) : undefined) ?? '',
  }
}

/**
 * The name a list or watch pins with `fieldSelector=metadata.name=<name>`: kube-apiserver's
 * RequestInfo authorizes such a request as one for that name, so a rule with resourceNames allows
 * `kubectl get configmap/x -w`. A selector that does not parse pins nothing (the list answers 400).
 */
function selectedName(query: string): string | undefined {
  const fs = new URLSearchParams(query).get('fieldSelector')
  if (!fs) return undefined
  try {
    const name = parseFieldSelector(fs, '*').requiredValue('metadata.name')
    return name && name !== '.' && name !== '..' && !/[/%]/.test(name) ? name : undefined
  } catch {
    return undefined
  }
}

/** The 403 for a denied request, worded as kube-apiserver words it. */
export function forbidden(user: UserInfo, attrs: RequestAttributes, reason: string | undefined): ApiError {
  const why = reason ? `: ${reason}` : ''
  if (!attrs.resourceRequest)
    return new ApiError('Forbidden', `forbidden: User "${user.name}" cannot ${attrs.verb} path "${attrs.path}"${why}`, {})
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope'
  const gr = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource
  const subject = attrs.name ? `${gr} "${attrs.name}"` : gr
  return new ApiError(
    'Forbidden',
    `${subject} is forbidden: User "${user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}${why}`,
    { ...(attrs.name ? { name: attrs.name } : {}), group: attrs.apiGroup, kind: attrs.resource },
  )
}
