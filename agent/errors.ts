// The agent's error catalog: every error a client can see has a stable code and HTTP status.
// Clients and tests match on `code`; `message` says what was wrong and what to do. One catalog
// for the whole agent (src/platform/error-catalog.ts), in three sections: the core routes,
// files/uploads/mods, and the game. A code lives in exactly one section (the archive errors are
// shared by runtime installs and upload extraction), so both raisers say the same thing.
//
// Prefix: new codes start with AGENT_ (not ZLH_AGENT_, which names the agent's environment
// variables). The codes below predate it and stay as they are: they are a wire contract with
// agents already baked into templates and running in containers, which src/agent-client and the
// portal (which passes them through) read.
import type { AgentErrorBody } from '../src/api/agent-types.ts'
import { CatalogError as PlatformCatalogError, defineErrorCatalog, formatMessage, mergeEntries } from '../src/platform/error-catalog.ts'

const coreEntries = {
  UNAUTHORIZED: { httpStatus: 401, message: 'missing or wrong bearer token: send "Authorization: Bearer <the container token>"' },
  BAD_REQUEST: { httpStatus: 400, message: 'fix the request and retry' },
  REQUEST_TARGET_INVALID: {
    httpStatus: 400,
    message: 'the request target must be a path such as /status, not an absolute URL or "*"; send the path and the host in the Host header',
  },
  BODY_TOO_LARGE: {
    httpStatus: 413,
    message: 'the request body is larger than the agent accepts; send a smaller body (files go through /files or /uploads, which stream)',
  },
  BODY_TOO_DEEP: { httpStatus: 400, message: 'the JSON body nests too deep; no agent request needs more than a few levels' },
  FIELD_NUL_BYTE: {
    httpStatus: 400,
    message: 'a string field contains a NUL byte (\\u0000), which no command, argument, environment variable or path can hold; remove it',
  },
  NOT_FOUND: { httpStatus: 404, message: 'no such resource' },
  RUNTIME_NOT_FOUND: { httpStatus: 404, message: 'runtime version is not installed' },
  RUNTIME_IN_USE: { httpStatus: 409, message: 'runtime version is the current one; switch to another version first or pass ?force=true' },
  INSTALL_CONFLICT: {
    httpStatus: 409,
    message: 'another install of this runtime version with a different url or sha256 is in flight; retry when it finishes',
    retryable: true,
  },
  INSTALL_ABORTED: {
    httpStatus: 503,
    message: 'the install was rolled back because the agent is shutting down; retry against the restarted agent',
    retryable: true,
  },
  OUTBOUND_NOT_ALLOWED: { httpStatus: 403, message: 'downloads go only to the sources the ContainerProvider declares in spec.outbound' },
  ARTIFACT_HTTP_ERROR: { httpStatus: 502, message: 'the artifact server answered with an error status' },
  ARTIFACT_UNREACHABLE: { httpStatus: 502, message: 'the artifact server could not be reached', retryable: true },
  ARTIFACT_TRUNCATED: { httpStatus: 502, message: 'the artifact download ended early', retryable: true },
  ARTIFACT_STALLED: { httpStatus: 504, message: 'the artifact server stopped sending data', retryable: true },
  ARTIFACT_TIMEOUT: { httpStatus: 504, message: 'the artifact download took longer than allowed', retryable: true },
  ARTIFACT_TOO_LARGE: { httpStatus: 413, message: 'the artifact is larger than the allowed maximum' },
  ARTIFACT_SHA256_MISMATCH: { httpStatus: 422, message: 'the artifact does not match the expected sha256; check the catalog entry' },
  VERIFY_FAILED: { httpStatus: 422, message: 'the runtime verify command failed' },
  INSUFFICIENT_DISK: { httpStatus: 507, message: 'not enough free disk space for this install' },
  CODESERVER_NOT_INSTALLED: { httpStatus: 409, message: 'code-server is not installed: POST /runtimes with name "code-server" first' },
  CODESERVER_START_FAILED: { httpStatus: 500, message: 'code-server did not start' },
  ALREADY_ENROLLED: { httpStatus: 409, message: 'this agent already has its token; enrollment happens once' },
  SHUTTING_DOWN: { httpStatus: 503, message: 'the agent is shutting down; retry against the restarted agent', retryable: true },
  INTERNAL: { httpStatus: 500, message: 'internal agent error; see the agent log' },
} as const

/** The files, uploads and mods routes' section; the archive errors are also raised by runtime installs. */
const fileEntries = {
  FILE_PATH_NUL_BYTE: { httpStatus: 400, message: 'the path contains a NUL byte; remove it' },
  FILE_PATH_ABSOLUTE: { httpStatus: 400, message: 'the path must be relative to the server root (no leading "/")' },
  FILE_PATH_TRAVERSAL: { httpStatus: 400, message: 'the path may not contain ".." components; name the file from the server root' },
  FILE_NAME_TOO_LONG: { httpStatus: 400, message: 'a path component is longer than 255 bytes; use a shorter name' },
  FILE_PATH_TOO_LONG: { httpStatus: 400, message: 'the path is longer than 4096 bytes; use a shorter path' },
  FILE_PATH_SYMLINK: {
    httpStatus: 403,
    message: "the path goes through a symbolic link, which the file API never follows; use the link target's real path inside the root",
  },
  FILE_PATH_RESERVED: {
    httpStatus: 403,
    message: 'names starting with ".zlh-tmp-" are the agent\'s own temp files and staging; choose another name',
  },
  FILE_PATH_INVALID: { httpStatus: 400, message: 'the path is not valid' },
  FILE_ROOT_PROTECTED: { httpStatus: 403, message: 'the server root itself cannot be removed, renamed or overwritten' },
  FILE_NOT_FOUND: { httpStatus: 404, message: 'no such file or directory' },
  FILE_NOT_A_DIRECTORY: { httpStatus: 409, message: 'a component of the path is a file, not a directory' },
  FILE_IS_DIRECTORY: { httpStatus: 409, message: 'the path is a directory; name a file' },
  FILE_NOT_REGULAR: {
    httpStatus: 403,
    message: 'the path is not a regular file or directory (device, FIFO or socket); the file API only serves regular files',
  },
  FILE_EXISTS: { httpStatus: 409, message: 'the target already exists; remove it first or choose another name' },
  FILE_DIRECTORY_NOT_EMPTY: { httpStatus: 409, message: 'the directory is not empty; pass ?recursive=true to remove it with its contents' },
  FILE_TOO_LARGE: { httpStatus: 413, message: 'the body is larger than the allowed maximum' },
  FILE_BAD_OPERATION: { httpStatus: 400, message: 'unknown operation: use ?op=mkdir or ?op=rename with a JSON body {"to": "<new path>"}' },
  UPLOAD_BAD_CONTENT_TYPE: {
    httpStatus: 415,
    message: 'send the file as application/octet-stream (raw or chunked) or multipart/form-data with one file field',
  },
  ARCHIVE_UNSUPPORTED: { httpStatus: 415, message: 'only .zip, .tar.gz and .tgz archives can be extracted' },
  // Runtime installs (tar.gz) and upload extraction (zip, tar.gz) raise these two; once defined.
  ARCHIVE_INVALID: {
    httpStatus: 422,
    message:
      'the archive could not be read; check it is a complete archive in a supported format (runtimes: tar.gz; uploads: zip, tar.gz or tgz)',
  },
  ARCHIVE_UNSAFE_ENTRY: {
    httpStatus: 422,
    message:
      'the archive has an entry that would land outside the target directory, or is a device, FIFO or link this extraction refuses; nothing was extracted',
  },
  ARCHIVE_TOO_LARGE: {
    httpStatus: 413,
    message: 'the archive expands to more than the allowed size or number of entries; nothing was extracted',
  },
  MOD_NOT_FOUND: { httpStatus: 404, message: 'no such mod in the mods folder' },
  MOD_NAME_INVALID: {
    httpStatus: 400,
    message: 'a mod name is a plain file name: letters, digits, ".", "_", "+", "-", starting with a letter or digit',
  },
} as const

/** The game routes' section. */
const gameEntries = {
  GAME_NOT_CONFIGURED: {
    httpStatus: 409,
    message: 'no game spec has been pushed yet: PUT /game with the server and supervision spec first',
  },
  GAME_SPEC_INVALID: { httpStatus: 400, message: 'the game spec is invalid' },
  GAME_NOT_RUNNING: { httpStatus: 409, message: 'the game server is not running: POST /game/start first' },
  GAME_CONSOLE_UNAVAILABLE: { httpStatus: 503, message: 'the game console is not connected; retry in a moment', retryable: true },
  CONSOLE_SESSION_INVALID: { httpStatus: 400, message: 'a console session name is 1-64 letters, digits, "_" or "-"' },
  AGENT_GAME_NOT_SLEEPING: {
    httpStatus: 409,
    message: 'the game server is not asleep, so there is nothing to wake: it wakes only from state Sleeping (GET /game shows the state)',
  },
} as const

export const agentErrors = defineErrorCatalog({
  component: 'agent',
  prefix: 'AGENT_',
  // Every code that predates the prefix (see the header); never add to this list.
  unprefixedCodes: [
    'UNAUTHORIZED',
    'BAD_REQUEST',
    'REQUEST_TARGET_INVALID',
    'BODY_TOO_LARGE',
    'BODY_TOO_DEEP',
    'FIELD_NUL_BYTE',
    'NOT_FOUND',
    'RUNTIME_NOT_FOUND',
    'RUNTIME_IN_USE',
    'INSTALL_CONFLICT',
    'INSTALL_ABORTED',
    'OUTBOUND_NOT_ALLOWED',
    'ARTIFACT_HTTP_ERROR',
    'ARTIFACT_UNREACHABLE',
    'ARTIFACT_TRUNCATED',
    'ARTIFACT_STALLED',
    'ARTIFACT_TIMEOUT',
    'ARTIFACT_TOO_LARGE',
    'ARTIFACT_SHA256_MISMATCH',
    'VERIFY_FAILED',
    'INSUFFICIENT_DISK',
    'CODESERVER_NOT_INSTALLED',
    'CODESERVER_START_FAILED',
    'ALREADY_ENROLLED',
    'SHUTTING_DOWN',
    'INTERNAL',
    'FILE_PATH_NUL_BYTE',
    'FILE_PATH_ABSOLUTE',
    'FILE_PATH_TRAVERSAL',
    'FILE_NAME_TOO_LONG',
    'FILE_PATH_TOO_LONG',
    'FILE_PATH_SYMLINK',
    'FILE_PATH_RESERVED',
    'FILE_PATH_INVALID',
    'FILE_ROOT_PROTECTED',
    'FILE_NOT_FOUND',
    'FILE_NOT_A_DIRECTORY',
    'FILE_IS_DIRECTORY',
    'FILE_NOT_REGULAR',
    'FILE_EXISTS',
    'FILE_DIRECTORY_NOT_EMPTY',
    'FILE_TOO_LARGE',
    'FILE_BAD_OPERATION',
    'UPLOAD_BAD_CONTENT_TYPE',
    'ARCHIVE_UNSUPPORTED',
    'ARCHIVE_INVALID',
    'ARCHIVE_UNSAFE_ENTRY',
    'ARCHIVE_TOO_LARGE',
    'MOD_NOT_FOUND',
    'MOD_NAME_INVALID',
    'GAME_NOT_CONFIGURED',
    'GAME_SPEC_INVALID',
    'GAME_NOT_RUNNING',
    'GAME_CONSOLE_UNAVAILABLE',
    'CONSOLE_SESSION_INVALID',
  ],
  entries: mergeEntries(coreEntries, fileEntries, gameEntries),
})

export type AgentErrorCode = keyof typeof agentErrors.entries
export type FileErrorCode = keyof typeof fileEntries
export type GameErrorCode = keyof typeof gameEntries

/**
 * An error of the agent's catalog; `detail` names the specific thing that was wrong.
 * The root error handler answers every CatalogError with the agent's error body.
 */
export class CatalogError<C extends AgentErrorCode = AgentErrorCode> extends PlatformCatalogError<C> {
  /** The HTTP status (the body's `statusCode`). */
  readonly statusCode: number
  readonly detail: Record<string, unknown> | undefined

  constructor(code: C, specific?: string, detail?: Record<string, unknown>) {
    super(agentErrors, code, formatMessage(agentErrors.entries[code].message, specific))
    this.statusCode = this.status
    this.detail = detail
  }
}

/** An error of the core section (or any agent code). */
export class AgentError extends CatalogError<AgentErrorCode> {
  constructor(code: AgentErrorCode, specific?: string, detail?: Record<string, unknown>) {
    super(code, specific, detail)
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
