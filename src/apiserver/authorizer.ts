// Authorization: what a user may do, decided on the routed request's attributes (verb, API group,
// resource, subresource, namespace, name — as kube-apiserver's authorizer.Attributes), never on
// the URL's spelling. Two identities until real RBAC replaces authorize(): admin may do anything;
// read-only may get, list and watch everything except Secrets (as Kubernetes' "view" role).
//
// Guarantees
// - Fail closed: a verb or identity this module does not know is denied.
// - Every route that can return a Secret or its data (get, list, watch, Table, metadata-only,
//   namespaced or cluster-wide, legacy /watch/) is a request for the resource "secrets" in the
//   group "" and is denied to the read-only identity by that one rule.
// - Denials read like kube-apiserver's: `secrets is forbidden: User "reader" cannot list resource
//   "secrets" in API group "" in the namespace "x": <reason>`.

import type { User } from './auth.ts'
import type { PathTarget } from './paths.ts'
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

export interface Decision { allowed: boolean; reason?: string }

const READ_VERBS = new Set(['get', 'list', 'watch'])
/** Resources the read-only identity may not read, as group/resource. */
const HIDDEN_FROM_READ_ONLY = new Set(['/secrets'])

/** Whether `user` may do what `attrs` describes. The later RBAC work replaces this function. */
export function authorize(user: User, attrs: RequestAttributes): Decision {
  if (user.role === 'admin') return { allowed: true }
  if (user.role !== 'read-only') return { allowed: false, reason: 'this identity has no permissions' }
  if (!READ_VERBS.has(attrs.verb)) return { allowed: false, reason: 'the token is read-only; use an admin token to write' }
  if (attrs.resourceRequest && HIDDEN_FROM_READ_ONLY.has(`${attrs.apiGroup}/${attrs.resource}`)) {
    return { allowed: false, reason: `the read-only token may not read ${attrs.resource} (as the "view" role); use an admin token` }
  }
  return { allowed: true }
}

function isTrue(v: string | null): boolean { return v === 'true' || v === '1' }

/**
 * The attributes of a request: `target` is the parsed API path (undefined outside the API),
 * `query` its raw query string. Verbs follow kube-apiserver's RequestInfo: get, list, watch,
 * create, update, patch, delete, deletecollection; non-resource requests use the method.
 */
export function requestAttributes(method: string, path: string, target: PathTarget | undefined, query: string): RequestAttributes {
  const none = { apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' }
  if (!target || target.type !== 'resource') {
    const verb = method === 'HEAD' ? 'get' : method.toLowerCase()
    return { verb, resourceRequest: false, path, ...none }
  }
  const watch = target.legacyWatch || isTrue(new URLSearchParams(query).get('watch'))
  const named = target.name !== undefined
  let verb: string
  switch (method) {
    case 'GET': case 'HEAD': verb = watch ? 'watch' : named ? 'get' : 'list'; break
    case 'POST': verb = 'create'; break
    case 'PUT': verb = 'update'; break
    case 'PATCH': verb = 'patch'; break
    case 'DELETE': verb = named ? 'delete' : 'deletecollection'; break
    default: verb = method.toLowerCase()
  }
  return {
    verb, resourceRequest: true, path,
    apiGroup: target.group, apiVersion: target.version, resource: target.resource,
    subresource: target.subresource ?? '', namespace: target.namespace ?? '', name: target.name ?? '',
  }
}

/** The 403 for a denied request, worded as kube-apiserver words it. */
export function forbidden(user: User, attrs: RequestAttributes, reason: string | undefined): ApiError {
  const why = reason ? `: ${reason}` : ''
  if (!attrs.resourceRequest) return new ApiError('Forbidden', `forbidden: User "${user.name}" cannot ${attrs.verb} path "${attrs.path}"${why}`, {})
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope'
  const gr = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource
  const subject = attrs.name ? `${gr} "${attrs.name}"` : gr
  return new ApiError('Forbidden', `${subject} is forbidden: User "${user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}${why}`,
    { ...(attrs.name ? { name: attrs.name } : {}), group: attrs.apiGroup, kind: attrs.resource })
}
