// The providers' error catalog: every failure a backend reports is a ProviderError with a stable
// code, so the controller (and tests) match on codes, not prose, and know whether to requeue.

export const ProviderErrorCodes = {
  /** The backend could not be reached (connection refused, timeout, DNS). Retry with backoff. */
  ProviderUnreachable: { retryable: true },
  /** The backend rejected our credentials (HTTP 401). Fix the Secret; retrying will not help. */
  ProviderAuthFailed: { retryable: false },
  /** The credentials are valid but lack a privilege (HTTP 403). */
  ProviderForbidden: { retryable: false },
  /** The endpoint's TLS certificate did not match the pinned CA or fingerprint. */
  ProviderTlsFailed: { retryable: false },
  /** The ContainerProvider's settings are unusable (missing field, bad value). */
  InvalidConfig: { retryable: false },
  /** The owner has no container (for start/stop/deliverCredentials). */
  NotFound: { retryable: false },
  /** The vmid exists but belongs to another owner; nothing was touched. */
  Conflict: { retryable: false },
  /** The container is locked by another operation and stayed locked past our retries. */
  Locked: { retryable: true },
  /** An asynchronous backend task ended with an error; its log is in `details.log`. */
  TaskFailed: { retryable: true },
  /** An operation did not finish in time. */
  Timeout: { retryable: true },
  /** A backend command or request failed in a way not covered above. */
  BackendFailed: { retryable: true },
  /** The host lacks something the backend needs (LXC tools, cgroup controllers, root). */
  HostUnsupported: { retryable: false },
  /** Every vmid in the configured range is taken. */
  Exhausted: { retryable: true },
} as const

export type ProviderErrorCode = keyof typeof ProviderErrorCodes

export interface ProviderErrorDetails {
  vmid?: number
  ownerUid?: string
  /** Log lines of a failed backend task. */
  log?: string[]
  /** How many attempts were made before giving up. */
  attempts?: number
  [key: string]: unknown
}

export class ProviderError extends Error {
  readonly code: ProviderErrorCode
  readonly retryable: boolean
  readonly details: ProviderErrorDetails

  constructor(code: ProviderErrorCode, message: string, details: ProviderErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProviderError'
    this.code = code
    this.retryable = ProviderErrorCodes[code].retryable
    this.details = details
  }
}

export function isProviderError(err: unknown, code?: ProviderErrorCode): err is ProviderError {
  return err instanceof ProviderError && (code === undefined || err.code === code)
}
