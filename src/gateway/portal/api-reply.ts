// JSON error bodies of the portal API: {code, message, hint, ...details}, status from the
// gateway's error catalog, so clients branch on `code`, never on prose.

import type { FastifyReply } from 'fastify'
import { gatewayErrors, gatewayMessage, type GatewayErrorCode } from '../errors.ts'

export interface ApiErrorBody {
  code: GatewayErrorCode
  message: string
  hint: string
  [detail: string]: unknown
}

export function apiErrorBody(code: GatewayErrorCode, detail?: string, extra: Record<string, unknown> = {}): ApiErrorBody {
  return { code, message: gatewayMessage(code, detail), hint: gatewayErrors.entries[code].hint, ...extra }
}

export function sendApiError(reply: FastifyReply, code: GatewayErrorCode, detail?: string, extra?: Record<string, unknown>): FastifyReply {
  return reply.code(gatewayErrors.entries[code].httpStatus).header('cache-control', 'no-store').send(apiErrorBody(code, detail, extra))
}

/** Thrown inside handlers; the portal's error handler turns it into the JSON body. */
export class PortalError extends Error {
  readonly code: GatewayErrorCode
  readonly extra: Record<string, unknown>
  constructor(code: GatewayErrorCode, detail?: string, extra: Record<string, unknown> = {}) {
    super(detail ?? gatewayErrors.entries[code].message)
    this.name = 'PortalError'
    this.code = code
    this.extra = extra
  }
}
