// JSON error bodies of the portal API: {code, message, hint, ...details}, status from the
// gateway's error catalog, so clients branch on `code`, never on prose.

import type { FastifyReply } from 'fastify'
import { CatalogError } from '../../platform/error-catalog.ts'
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
  return reply
    .code(gatewayErrors.entries[code].httpStatus)
    .header('cache-control', 'no-store')
    .send(apiErrorBody(code, detail, extra))
}

/**
 * Thrown inside handlers; the portal's error handler turns it into the JSON body (status from
 * the catalog). Its message is the detail alone: apiErrorBody puts the catalog's message before it.
 */
export class PortalError extends CatalogError<GatewayErrorCode> {
  readonly extra: Record<string, unknown>
  constructor(code: GatewayErrorCode, detail?: string, extra: Record<string, unknown> = {}) {
    super(gatewayErrors, code, detail ?? gatewayErrors.entries[code].message)
    this.name = 'PortalError'
    this.extra = extra
  }
}
