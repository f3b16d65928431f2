// Errors of the agent client: the agent's catalog code and status, or a transport failure.
import type { AgentErrorBody } from '../api/agent-types.ts'

export class AgentClientError extends Error {
  /** the agent's error code (e.g. RUNTIME_IN_USE), or TRANSPORT / BAD_RESPONSE */
  readonly code: string
  readonly statusCode: number
  readonly detail: Record<string, unknown> | undefined

  constructor(code: string, message: string, statusCode = 0, detail?: Record<string, unknown>) {
    super(message)
    this.name = 'AgentClientError'
    this.code = code
    this.statusCode = statusCode
    this.detail = detail
  }

  static fromBody(body: AgentErrorBody): AgentClientError {
    return new AgentClientError(body.code, body.message, body.statusCode, body.detail)
  }
}
