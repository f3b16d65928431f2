// The framework's error catalog: every error it raises carries a stable `code` (match on it, not
// on the message) and a message that says what was wrong and what to do.

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

export class RuntimeError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RuntimeError'
    this.code = code
  }
}

/**
 * Returned (thrown) by a reconciler when retrying cannot help, e.g. the spec is invalid in a way
 * only its author can fix. The controller counts and logs it and does NOT requeue the request;
 * the next change to the object triggers a fresh reconcile.
 */
export class TerminalError extends Error {
  readonly code = ErrorCodes.TERMINAL
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TerminalError'
  }
}

export function isTerminalError(err: unknown): err is TerminalError {
  return err instanceof TerminalError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCodes.TERMINAL)
}

export function invalidOption(what: string, got: unknown, want: string): RuntimeError {
  return new RuntimeError(ErrorCodes.INVALID_OPTION, `invalid option ${what}: got ${JSON.stringify(got)}, want ${want}`)
}
