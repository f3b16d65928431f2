// The providers' error catalog: every failure a backend reports is a ProviderError with a stable
// code, so the controller (and tests) match on codes, not prose, and know whether to requeue.
// Defined with the platform's catalog helper (src/platform/error-catalog.ts). The message a raiser
// passes names the specific case; the catalog's message says what the code means in general.
//
// Prefix: new codes start with Provider. The older codes keep their names: the controller writes
// them into conditions as reason Provider<code> (stored in objects' status, read by users' tools).
import { CatalogError, defineErrorCatalog } from '../platform/error-catalog.ts'

export const providerErrors = defineErrorCatalog({
  component: 'providers',
  prefix: 'Provider',
  unprefixedCodes: [
    'InvalidConfig',
    'NotFound',
    'Conflict',
    'Locked',
    'TaskFailed',
    'Timeout',
    'BackendFailed',
    'HostUnsupported',
    'Exhausted',
  ],
  entries: {
    ProviderUnreachable: {
      httpStatus: 502,
      message: 'the backend could not be reached (connection refused, timeout, DNS); retried with backoff',
      retryable: true,
    },
    ProviderAuthFailed: {
      httpStatus: 502,
      message: 'the backend rejected our credentials (HTTP 401); fix the Secret, retrying will not help',
    },
    ProviderForbidden: { httpStatus: 502, message: 'the credentials are valid but lack a privilege (HTTP 403); grant it to the token' },
    ProviderTlsFailed: { httpStatus: 502, message: "the endpoint's TLS certificate did not match the pinned CA or fingerprint" },
    InvalidConfig: {
      httpStatus: 422,
      message: "the ContainerProvider's settings are unusable (missing field, bad value); fix the ContainerProvider",
    },
    NotFound: { httpStatus: 404, message: 'the owner has no container (for start, stop or credential delivery); ensure it first' },
    Conflict: { httpStatus: 409, message: 'the container belongs to another owner or holds other credentials; nothing was touched' },
    Locked: {
      httpStatus: 409,
      message: 'the container is locked by another operation and stayed locked past our retries',
      retryable: true,
    },
    TaskFailed: {
      httpStatus: 502,
      message: "an asynchronous backend task ended with an error; its log is in the error's details",
      retryable: true,
    },
    Timeout: { httpStatus: 504, message: 'an operation did not finish in time', retryable: true },
    BackendFailed: { httpStatus: 502, message: 'a backend command or request failed', retryable: true },
    HostUnsupported: { httpStatus: 501, message: 'the host lacks something the backend needs (LXC tools, cgroup controllers, root)' },
    Exhausted: { httpStatus: 503, message: 'every vmid in the configured range is taken', retryable: true },
  },
})

export type ProviderErrorCode = keyof typeof providerErrors.entries

export interface ProviderErrorDetails {
  vmid?: number
  ownerUid?: string
  /** Log lines of a failed backend task. */
  log?: string[]
  /** How many attempts were made before giving up. */
  attempts?: number
  [key: string]: unknown
}

export class ProviderError extends CatalogError<ProviderErrorCode> {
  readonly details: ProviderErrorDetails

  constructor(code: ProviderErrorCode, message: string, details: ProviderErrorDetails = {}, options?: { cause?: unknown }) {
    super(providerErrors, code, message, options)
    this.name = 'ProviderError'
    this.details = details
  }
}

export function isProviderError(err: unknown, code?: ProviderErrorCode): err is ProviderError {
  return err instanceof ProviderError && (code === undefined || err.code === code)
}
