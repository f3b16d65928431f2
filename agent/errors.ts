// The agent's error catalog: every error a client can see has a stable code and HTTP status.
// Clients and tests match on `code`; `message` says what was wrong and what to do.
import type { AgentErrorBody } from '../src/api/agent-types.ts'

export const agentErrors = {
  UNAUTHORIZED: { status: 401, message: 'missing or wrong bearer token: send "Authorization: Bearer <the container token>"' },
  BAD_REQUEST: { status: 400, message: 'fix the request and retry' },
  REQUEST_TARGET_INVALID: { status: 400, message: 'the request target must be a path such as /status, not an absolute URL or "*"; send the path and the host in the Host header' },
  BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than the agent accepts; send a smaller body (files go through /files or /uploads, which stream)' },
  BODY_TOO_DEEP: { status: 400, message: 'the JSON body nests too deep; no agent request needs more than a few levels' },
  FIELD_NUL_BYTE: { status: 400, message: 'a string field contains a NUL byte (\\u0000), which no command, argument, environment variable or path can hold; remove it' },
  NOT_FOUND: { status: 404, message: 'no such resource' },
  RUNTIME_NOT_FOUND: { status: 404, message: 'runtime version is not installed' },
  RUNTIME_IN_USE: { status: 409, message: 'runtime version is the current one; switch to another version first or pass ?force=true' },
  INSTALL_CONFLICT: { status: 409, message: 'another install of this runtime version with a different url or sha256 is in flight; retry when it finishes' },
  INSTALL_ABORTED: { status: 503, message: 'the install was rolled back because the agent is shutting down; retry against the restarted agent' },
  OUTBOUND_NOT_ALLOWED: { status: 403, message: 'downloads go only to the sources the ContainerProvider declares in spec.outbound' },
  ARTIFACT_HTTP_ERROR: { status: 502, message: 'the artifact server answered with an error status' },
  ARTIFACT_UNREACHABLE: { status: 502, message: 'the artifact server could not be reached' },
  ARTIFACT_TRUNCATED: { status: 502, message: 'the artifact download ended early' },
  ARTIFACT_STALLED: { status: 504, message: 'the artifact server stopped sending data' },
  ARTIFACT_TIMEOUT: { status: 504, message: 'the artifact download took longer than allowed' },
  ARTIFACT_TOO_LARGE: { status: 413, message: 'the artifact is larger than the allowed maximum' },
  ARTIFACT_SHA256_MISMATCH: { status: 422, message: 'the artifact does not match the expected sha256; check the catalog entry' },
  ARCHIVE_UNSAFE_ENTRY: { status: 422, message: 'the archive contains an entry that would escape the install directory or is not a regular file, directory or safe link' },
  ARCHIVE_INVALID: { status: 422, message: 'the artifact is not a readable tar archive' },
  VERIFY_FAILED: { status: 422, message: 'the runtime verify command failed' },
  INSUFFICIENT_DISK: { status: 507, message: 'not enough free disk space for this install' },
  CODESERVER_NOT_INSTALLED: { status: 409, message: 'code-server is not installed: POST /runtimes with name "code-server" first' },
  CODESERVER_START_FAILED: { status: 500, message: 'code-server did not start' },
  ALREADY_ENROLLED: { status: 409, message: 'this agent already has its token; enrollment happens once' },
  SHUTTING_DOWN: { status: 503, message: 'the agent is shutting down; retry against the restarted agent' },
  INTERNAL: { status: 500, message: 'internal agent error; see the agent log' },
} as const satisfies Record<string, { status: number; message: string }>

export type AgentErrorCode = keyof typeof agentErrors

/** A catalog: code → HTTP status and what to do. The core's is above; files and game keep their own. */
export type ErrorCatalog = Record<string, { status: number; message: string }>

/**
 * An error from one of the agent's catalogs; `detail` names the specific thing that was wrong.
 * The root error handler answers every CatalogError with the agent's error body.
 */
export class CatalogError<C extends string = string> extends Error {
  readonly code: C
  readonly statusCode: number
  readonly detail: Record<string, unknown> | undefined

  constructor(catalog: ErrorCatalog, code: C, specific?: string, detail?: Record<string, unknown>) {
    const entry = catalog[code]!
    super(specific ? `${specific}: ${entry.message}` : entry.message)
    this.code = code
    this.statusCode = entry.status
    this.detail = detail
  }
}

/** An error of the core catalog. */
export class AgentError extends CatalogError<AgentErrorCode> {
  constructor(code: AgentErrorCode, specific?: string, detail?: Record<string, unknown>) {
    super(agentErrors, code, specific, detail)
    this.name = 'AgentError'
  }
}

export function isAgentError(err: unknown): err is AgentError {
  return err instanceof AgentError
}

export function isCatalogError(err: unknown): err is CatalogError {
  return err instanceof CatalogError
}

export function errorBody(err: CatalogError): AgentErrorBody {
  const body: AgentErrorBody = { code: err.code, message: err.message, statusCode: err.statusCode }
  if (err.detail) body.detail = err.detail
  return body
}
