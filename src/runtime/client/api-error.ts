// A non-2xx answer from the API server, carrying its metav1.Status (reason, code, details) so
// callers branch on `reason`/`statusCode` (Conflict, NotFound, Gone, ...) rather than on prose.

import { ErrorCodes } from '../errors.ts'

export interface StatusBody {
  kind?: string
  apiVersion?: string
  status?: string
  message?: string
  reason?: string
  code?: number
  details?: { name?: string; kind?: string; causes?: Array<{ field?: string; message?: string; reason?: string }> }
}

export class ApiError extends Error {
  readonly code = ErrorCodes.API_STATUS
  readonly statusCode: number
  readonly reason: string
  readonly status: StatusBody
  constructor(statusCode: number, method: string, path: string, status: StatusBody) {
    const reason = status.reason ?? 'Unknown'
    super(`${method} ${path}: ${statusCode} ${reason}: ${status.message ?? '(no message)'}`)
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.reason = reason
    this.status = status
  }
}

export function isApiError(err: unknown, statusCode?: number): err is ApiError {
  return err instanceof ApiError && (statusCode === undefined || err.statusCode === statusCode)
}
export const isNotFound = (err: unknown): boolean => isApiError(err, 404)
export const isConflict = (err: unknown): boolean => isApiError(err, 409)
export const isGone = (err: unknown): boolean => isApiError(err, 410)
