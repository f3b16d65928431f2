// Errors of the agent client: the agent's catalog code and status, or one of the client's own
// codes below (the agent never answers with them).
import type { AgentErrorBody } from '../api/agent-types.ts'

/** Codes the client raises itself; match on these, not on messages. */
export const AgentClientErrorCodes = {
  /** The agent could not be reached, the connection broke, or the call's timeout passed. */
  TRANSPORT: 'TRANSPORT',
  /** The agent answered something that is not its API (non-JSON, an unknown error shape). */
  BAD_RESPONSE: 'BAD_RESPONSE',
  /** The caller's AbortSignal (the call's or the client's default) aborted the call; `cause` is its reason. */
  ABORTED: 'ABORTED',
} as const

export class AgentClientError extends Error {
  /** the agent's error code (e.g. RUNTIME_IN_USE), or one of AgentClientErrorCodes */
  readonly code: string
  readonly statusCode: number
  readonly detail: Record<string, unknown> | undefined

  constructor(code: string, message: string, statusCode = 0, detail?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AgentClientError'
    this.code = code
    this.statusCode = statusCode
    this.detail = detail
  }

  static fromBody(body: AgentErrorBody): AgentClientError {
    return new AgentClientError(body.code, body.message, body.statusCode, body.detail)
  }
}
