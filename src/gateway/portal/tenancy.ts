// Tenants of the portal: a portal token belongs to one or more namespaces (a namespace per
// customer, as Kubernetes does it); this module says which namespaces a caller reaches and which
// one a request acts in. Every server route, the event stream and the console WebSocket ask it.
//
// Rules
//  - A token issued with `namespaces` reaches exactly those; the first is its home namespace.
//  - A token issued without any (every token from before tenants) belongs to the portal's
//    namespace (`default` unless the gateway was started with another): what it reached before.
//  - An `admin`-scope token reaches every namespace; its home is its first namespace, else the
//    portal's.
//  - A request acts in `?namespace=<ns>` when given, else in the caller's home namespace. A
//    namespace the caller does not hold is answered as if it held nothing, the same whether it
//    exists or not (no existence oracle): a route that reads, deletes or opens one server answers
//    its own 404 of a missing server; a list, the event stream, a create or an apply answer 404
//    ZLH_GW_API_NAMESPACE_NOT_FOUND.
// Guarantees: the answer depends only on the token and the request, never on the cluster's state.

import type { Principal } from './api-tokens.ts'
import { PortalError } from './api-reply.ts'
import { isNamespaceName } from './namespace-name.ts'

/** Which namespaces a caller reaches. */
export interface Reach {
  /** Every namespace (an admin token). */
  readonly all: boolean
  /** The namespaces the caller holds, home first (for an admin: its home only). */
  readonly namespaces: readonly string[]
  /** Where the caller's requests act when they name no namespace. */
  readonly home: string
}

export function reachOf(principal: Principal, portalNamespace: string): Reach {
  const own = principal.namespaces.length > 0 ? principal.namespaces : [portalNamespace]
  return { all: principal.scopes.includes('admin'), namespaces: own, home: own[0]! }
}

export function mayReach(reach: Reach, namespace: string): boolean {
  return reach.all || reach.namespaces.includes(namespace)
}

/**
 * The namespace a request names in `?namespace=` (undefined when it names none); a 400 naming the
 * field when it is not a namespace name.
 */
export function requestedNamespace(query: unknown): string | undefined {
  const value = typeof query === 'object' && query !== null ? (query as Record<string, unknown>).namespace : undefined
  if (value === undefined) return undefined
  if (isNamespaceName(value)) return value
  throw new PortalError(
    'ZLH_GW_API_INVALID',
    'namespace: Invalid value: must be a namespace name (a lowercase RFC 1123 label, at most 63 characters)',
    {
      errors: [
        {
          field: 'querystring.namespace',
          message: 'namespace: Invalid value: must be a lowercase RFC 1123 label of at most 63 characters',
        },
      ],
    },
  )
}

/** Where a request acts: the requested namespace or the caller's home; `held` false when the caller may not act there. */
export function actingNamespace(reach: Reach, requested: string | undefined): { namespace: string; held: boolean } {
  const namespace = requested ?? reach.home
  return { namespace, held: mayReach(reach, namespace) }
}

/**
 * What a list shows: the requested namespace, else every namespace the caller holds ('all' for an
 * admin). A requested namespace the caller does not hold → 404 ZLH_GW_API_NAMESPACE_NOT_FOUND.
 */
export function listedNamespaces(reach: Reach, requested: string | undefined): readonly string[] | 'all' {
  if (requested !== undefined) {
    if (!mayReach(reach, requested)) throw namespaceNotHeld(requested)
    return [requested]
  }
  return reach.all ? 'all' : reach.namespaces
}

/** The answer for a namespace the caller does not hold (the same whether it exists or not). */
export function namespaceNotHeld(namespace: string): PortalError {
  return new PortalError('ZLH_GW_API_NAMESPACE_NOT_FOUND', `no namespace "${namespace}" among this token's namespaces`)
}

/** Whether an object's namespace is among `namespaces` ('all' holds every one). */
export function inNamespaces(namespaces: readonly string[] | 'all', namespace: string | undefined): boolean {
  return namespaces === 'all' || (namespace !== undefined && namespaces.includes(namespace))
}

/** A request's tenancy: who may reach what, and the namespace it names (validated). */
export interface RequestTenancy {
  reach: Reach
  requested: string | undefined
}

export function tenancyOf(principal: Principal, portalNamespace: string, query: unknown): RequestTenancy {
  return { reach: reachOf(principal, portalNamespace), requested: requestedNamespace(query) }
}

/** A query (`?…`) without its `namespace` parameters: they choose the tenant here; the agent has none. */
export function withoutNamespace(query: string): string {
  const kept = query
    .slice(1)
    .split('&')
    .filter((p) => p !== '' && p.split('=')[0] !== 'namespace')
  return kept.length > 0 ? `?${kept.join('&')}` : ''
}
