// The framework's error catalog: every error it raises carries a stable `code` (match on it, not
// on the message) and a message that says what was wrong and what to do. Defined with the
// platform's catalog helper (src/platform/error-catalog.ts), prefix RT_; the message a raiser
// passes names the specific case, the catalog's message is what the code means in general.

import { CatalogError, defineErrorCatalog } from '../platform/error-catalog.ts'

export const ErrorCodes = {
  NO_CLUSTER: 'RT_NO_CLUSTER',
  KIND_NOT_SERVED: 'RT_KIND_NOT_SERVED',
  API_STATUS: 'RT_API_STATUS',
  API_TRANSPORT: 'RT_API_TRANSPORT',
  RECONCILE_TIMEOUT: 'RT_RECONCILE_TIMEOUT',
  RECONCILE_PANIC: 'RT_RECONCILE_PANIC',
  TERMINAL: 'RT_TERMINAL',
  OWNER_CONFLICT: 'RT_OWNER_CONFLICT',
  CONFLICT_RETRIES_EXHAUSTED: 'RT_CONFLICT_RETRIES_EXHAUSTED',
  LEADERSHIP_LOST: 'RT_LEADERSHIP_LOST',
  INVALID_OPTION: 'RT_INVALID_OPTION',
  ALREADY_STARTED: 'RT_ALREADY_STARTED',
  SHUTDOWN_TIMEOUT: 'RT_SHUTDOWN_TIMEOUT',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export const runtimeErrors = defineErrorCatalog({
  component: 'runtime',
  prefix: 'RT_',
  entries: {
    RT_NO_CLUSTER: { httpStatus: 503, message: 'no cluster to talk to: pass a kubeconfig or run in a pod with a service account' },
    RT_KIND_NOT_SERVED: { httpStatus: 404, message: 'the API server does not serve this kind: install its CRD first', retryable: true },
    RT_API_STATUS: { httpStatus: 502, message: 'the API server answered with an error status' },
    RT_API_TRANSPORT: {
      httpStatus: 502,
      message: 'the connection to the API server failed or carried something unreadable; it is retried',
      retryable: true,
    },
    RT_RECONCILE_TIMEOUT: {
      httpStatus: 504,
      message: 'a reconcile took longer than its timeout and was abandoned; it is retried',
      retryable: true,
    },
    RT_RECONCILE_PANIC: { httpStatus: 500, message: 'a reconciler threw something that is not an Error; it is retried', retryable: true },
    RT_TERMINAL: { httpStatus: 422, message: 'retrying cannot help: the object must change first' },
    RT_OWNER_CONFLICT: {
      httpStatus: 409,
      message: 'the owner reference cannot be set: another controller owns the object, or owner and object are in different namespaces',
    },
    RT_CONFLICT_RETRIES_EXHAUSTED: {
      httpStatus: 409,
      message: 'the write kept conflicting with concurrent writers; it is retried later',
      retryable: true,
    },
    RT_LEADERSHIP_LOST: { httpStatus: 503, message: 'this process lost its leader lease and stops its controllers', retryable: true },
    RT_INVALID_OPTION: { httpStatus: 400, message: 'an option has a value it cannot take' },
    RT_ALREADY_STARTED: { httpStatus: 409, message: 'already started; start it once' },
    RT_SHUTDOWN_TIMEOUT: { httpStatus: 504, message: 'shutting down took longer than allowed' },
  } satisfies Record<ErrorCode, unknown>,
})

export class RuntimeError extends CatalogError<ErrorCode> {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(runtimeErrors, code, message, options)
    this.name = 'RuntimeError'
  }
}

/**
 * Returned (thrown) by a reconciler when retrying cannot help, e.g. the spec is invalid in a way
 * only its author can fix. The controller counts and logs it and does NOT requeue the request;
 * the next change to the object triggers a fresh reconcile.
 */
export class TerminalError extends CatalogError<typeof ErrorCodes.TERMINAL> {
  constructor(message: string, options?: { cause?: unknown }) {
    super(runtimeErrors, ErrorCodes.TERMINAL, message, options)
    this.name = 'TerminalError'
  }
}

export function isTerminalError(err: unknown): err is TerminalError {
  return (
    err instanceof TerminalError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCodes.TERMINAL)
  )
}

export function invalidOption(what: string, got: unknown, want: string): RuntimeError {
  return new RuntimeError(ErrorCodes.INVALID_OPTION, `invalid option ${what}: got ${JSON.stringify(got)}, want ${want}`)
}
