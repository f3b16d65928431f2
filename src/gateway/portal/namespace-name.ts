// Namespace names as the portal accepts them (token bodies, `?namespace=`): Kubernetes' rule for a
// namespace, an RFC 1123 DNS label, and how many one portal token may hold. A leaf: the token
// store and the tenancy rules both read it.

/** A namespace name as Kubernetes takes it: an RFC 1123 DNS label. */
export const NAMESPACE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
export const NAMESPACE_NAME_MAX_LENGTH = 63
/** How many namespaces one portal token may be given. */
export const MAX_TOKEN_NAMESPACES = 32

const NAMESPACE_NAME = new RegExp(NAMESPACE_NAME_PATTERN)

export function isNamespaceName(s: unknown): s is string {
  return typeof s === 'string' && s.length <= NAMESPACE_NAME_MAX_LENGTH && NAMESPACE_NAME.test(s)
}

/** The JSON schema of a namespace name (token bodies, query strings). */
export const namespaceNameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: NAMESPACE_NAME_MAX_LENGTH,
  pattern: NAMESPACE_NAME_PATTERN,
} as const
