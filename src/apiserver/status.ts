// The error catalog of the API server: every failure leaves as a metav1.Status body with the
// reason and code kube-apiserver would use, so kubectl and client libraries react to it the same way.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'MethodNotAllowed'
  | 'InternalError'
  | 'Timeout'
  | 'TooManyRequests'

export interface StatusCause {
  reason?: string
  message?: string
  field?: string
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: StatusReason
  details?: StatusDetails
  code: number
}

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  NotAcceptable: 406,
  MethodNotAllowed: 405,
  InternalError: 500,
  Timeout: 504,
  TooManyRequests: 429,
}

/** An error that becomes a metav1.Status response. `reason` is the stable code callers match on. */
export class ApiError extends Error {
  readonly reason: StatusReason
  readonly code: number
  readonly details?: StatusDetails

  constructor(reason: StatusReason, message: string, details?: StatusDetails, code?: number) {
    super(message)
    this.reason = reason
    this.code = code ?? CODES[reason]
    this.details = details
  }

  toStatus(): StatusBody {
    const s: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    }
    if (this.details) s.details = this.details
    return s
  }
}

/** Names a resource the way kube-apiserver messages do: `gameservers.zerolaghub.dev "squid"`. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource
}

/** apimachinery's aggregate error text: one message alone, several as "[a, b]" without repeats. */
export function aggregateMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)]
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`
}

export const errors = {
  badRequest: (message: string) => new ApiError('BadRequest', message),
  notFound: (group: string, resource: string, name: string) =>
    new ApiError('NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, { name, group, kind: resource }),
  resourceNotFound: (path: string) =>
    new ApiError(
      'NotFound',
      `the server could not find the requested resource (${path}); check the group, version and resource name, or run "kubectl api-resources"`,
      {},
    ),
  alreadyExists: (group: string, resource: string, name: string) =>
    new ApiError('AlreadyExists', `${qualifiedResource(group, resource)} "${name}" already exists`, { name, group, kind: resource }),
  conflict: (group: string, resource: string, name: string, why: string) =>
    new ApiError('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`, {
      name,
      group,
      kind: resource,
    }),
  // Like kube: the message names each field; a cause's message does not repeat its own field (kubectl prints "field: message").
  // Several causes read as kube's aggregate: "[a, b]" (duplicates once); one cause reads alone.
  invalid: (group: string, kind: string, name: string, causes: StatusCause[]) =>
    new ApiError(
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${aggregateMessage(causes.map((c) => c.message ?? ''))}`,
      {
        name,
        group,
        kind,
        causes: causes.map((c) =>
          c.field && c.message?.startsWith(`${c.field}: `) ? { ...c, message: c.message.slice(c.field.length + 2) } : c,
        ),
      },
    ),
  forbidden: (message: string) => new ApiError('Forbidden', message),
  /** kube's NewForbidden for one object: `roles.rbac.authorization.k8s.io "x" is forbidden: <why>`. */
  forbiddenObject: (group: string, resource: string, name: string, why: string) =>
    new ApiError('Forbidden', `${qualifiedResource(group, resource)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, {
      ...(name ? { name } : {}),
      group,
      kind: resource,
    }),
  unauthorized: (message = 'Unauthorized: send "Authorization: Bearer <token>" with a token from the kubeconfig the server wrote') =>
    new ApiError('Unauthorized', message),
  expired: (message: string) => new ApiError('Expired', message),
  gone: (message: string) => new ApiError('Gone', message),
  tooLarge: (limit: number) =>
    new ApiError(
      'RequestEntityTooLarge',
      `the request body is larger than the ${limit} byte limit; split the object or store large data elsewhere`,
    ),
  unsupportedMediaType: (type: string, supported: string[]) =>
    new ApiError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${type || 'none'}) - accepted media types include: ${supported.join(', ')}`,
    ),
  notAcceptable: (accept: string) =>
    new ApiError(
      'NotAcceptable',
      `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io (asked for: ${accept})`,
    ),
  // kube-apiserver's metadata-only transform (handlers/response.go): the kind asked for must match the answer's shape.
  partialShapeMismatch: (asked: string, answerKind: string, isList: boolean) =>
    new ApiError(
      'NotAcceptable',
      isList
        ? `you requested ${asked}, but the requested object is a list (${answerKind}); ask for as=PartialObjectMetadataList`
        : `you requested ${asked}, but the requested object is not a list (${answerKind}); ask for as=PartialObjectMetadata`,
    ),
  methodNotAllowed: (method: string, what: string) => new ApiError('MethodNotAllowed', `${method} is not supported on ${what}`),
  internal: (message: string) => new ApiError('InternalError', `Internal error occurred: ${message}`),
}

/** The body of a successful delete of a built-in kind (kube returns Status rather than the object). */
export function successStatus(details: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }
}
