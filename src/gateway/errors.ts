// The gateway's error catalog: every error a user can meet has a stable code, an HTTP status,
// a message saying what was wrong and a hint saying what to do. Pages and tests match on codes.
// Defined with the platform's catalog helper (src/platform/error-catalog.ts), prefix ZLH_GW_.
// Pages show the message as their title; the portal API sends {code, message, hint}.

import { CatalogError, defineErrorCatalog } from '../platform/error-catalog.ts'

export const gatewayErrors = defineErrorCatalog({
  component: 'gateway',
  prefix: 'ZLH_GW_',
  entries: {
    ZLH_GW_IDE_TOKEN_INVALID: {
      httpStatus: 401,
      message: 'This IDE link is not valid',
      hint: 'IDE links work once and only for about a minute. Open the IDE again from the portal.',
    },
    ZLH_GW_IDE_SESSION_REQUIRED: {
      httpStatus: 401,
      message: 'You are not signed in to this IDE',
      hint: 'Open the IDE from the portal; it signs you in to this dev server only.',
    },
    ZLH_GW_IDE_SESSION_ENDED: {
      httpStatus: 401,
      message: 'Your IDE session has ended',
      hint: 'The dev server it was opened for is gone or was recreated, or the portal token that opened it was revoked. Open the IDE again from the portal.',
    },
    ZLH_GW_IDE_ORIGIN_MISMATCH: {
      httpStatus: 403,
      message: 'Request blocked: it did not come from this IDE',
      hint: 'Requests that change state must come from a page on this dev host. Reload the IDE.',
    },
    ZLH_GW_IDE_HOST_UNKNOWN: {
      httpStatus: 404,
      message: 'No IDE is served at this address',
      hint: 'IDE addresses look like dev-<vmid>.<domain>. Check the link or open the IDE from the portal.',
    },
    ZLH_GW_IDE_DEVSERVER_NOT_FOUND: {
      httpStatus: 404,
      message: 'No dev server has this address',
      hint: 'The dev server may have been deleted. Check it in the portal.',
    },
    ZLH_GW_IDE_DEVSERVER_NOT_READY: {
      httpStatus: 503,
      message: 'The dev server is not ready yet',
      hint: 'It is starting or stopped. This page retries by itself; check its status in the portal if it does not come up.',
    },
    ZLH_GW_IDE_DEVSERVER_SLEEPING: {
      httpStatus: 503,
      message: 'The dev server is asleep or waking up',
      hint: 'It slept because nobody used its IDE (spec.idle). Open the IDE address in the browser: that wakes it, and the page opens the IDE when it is ready.',
    },
    ZLH_GW_IDE_DEVSERVER_WAKING: {
      httpStatus: 503,
      message: 'The dev server is waking up',
      hint: 'The starting page follows its progress and opens the IDE by itself when it is ready.',
    },
    ZLH_GW_IDE_UPSTREAM_UNAVAILABLE: {
      httpStatus: 502,
      message: 'The IDE in this dev server is not answering',
      hint: 'code-server may be restarting. Retry in a few seconds; if it persists, restart the dev server from the portal.',
    },
    ZLH_GW_IDE_METHOD_NOT_ALLOWED: {
      httpStatus: 405,
      message: 'IDE links must be opened with GET',
      hint: 'Open the link in a browser; a one-time token is only accepted on a page load, never forwarded to the IDE.',
    },
    // ─── portal API (JSON bodies: {code, message, hint, ...}) ───
    ZLH_GW_API_UNAUTHENTICATED: {
      httpStatus: 401,
      message: 'No valid API token',
      hint: 'Send "Authorization: Bearer <token>" with a token issued by an administrator (zlh gateway prints the bootstrap admin token once).',
    },
    ZLH_GW_API_FORBIDDEN: {
      httpStatus: 403,
      message: 'This API token lacks the scope this call needs',
      hint: 'Ask an administrator for a token with the scope named in the error.',
    },
    ZLH_GW_API_INVALID: {
      httpStatus: 400,
      message: 'The request is not valid',
      hint: 'Fix the fields listed in "errors" and send it again.',
    },
    ZLH_GW_API_NOT_FOUND: {
      httpStatus: 404,
      message: 'No such server',
      hint: 'Check the name; list servers with GET /api/servers.',
    },
    ZLH_GW_API_CONFLICT: {
      httpStatus: 409,
      message: 'Another field manager owns fields this request sets',
      hint: 'Someone changed these fields with another tool (kubectl, GitOps). Drop them from your request, or send it again with ?force=true to take them over.',
    },
    ZLH_GW_API_ALREADY_EXISTS: {
      httpStatus: 409,
      message: 'A server with this name already exists',
      hint: 'Pick another name, or change the existing server with PUT /api/{game,dev}/<name>.',
    },
    ZLH_GW_API_NOT_READY: {
      httpStatus: 409,
      message: 'The server is not ready for this',
      hint: 'Wait until its status shows ready (GET /api/servers/<name>/status) and try again.',
    },
    ZLH_GW_API_AGENT_UNAVAILABLE: {
      httpStatus: 502,
      message: "The server's agent could not be reached",
      hint: 'The container may be starting or stopped. Retry in a few seconds; check its status if it persists.',
    },
    ZLH_GW_API_NO_ROUTE: {
      httpStatus: 404,
      message: 'The portal API has no such path or method',
      hint: 'Check the path and method against the API document, GET /api/openapi.json.',
    },
    ZLH_GW_API_BODY_TOO_LARGE: {
      httpStatus: 413,
      message: 'The request body is larger than the portal accepts',
      hint: 'Send a smaller body; files go through the /files and /uploads paths, which stream.',
    },
    ZLH_GW_API_BODY_TOO_DEEP: {
      httpStatus: 400,
      message: 'The JSON body is nested deeper than the portal accepts',
      hint: 'Flatten the document; no resource of ours needs objects or arrays nested that deep.',
    },
    ZLH_GW_REQUEST_TARGET_INVALID: {
      httpStatus: 400,
      message: 'The request target is not accepted',
      hint: 'Send the path only ("GET /api/servers"), in normal form: no scheme or host, no "//", "." or ".." segments, no backslash, no percent-encoded letters, digits or separators.',
    },
    ZLH_GW_API_NAMESPACE_NOT_FOUND: {
      httpStatus: 404,
      message: 'No such namespace among the ones this token reaches',
      hint: 'Leave out ?namespace= to use your home namespace, or name one your token was issued for; an administrator can issue a token for another namespace (POST /api/tokens {namespaces}).',
    },
    ZLH_GW_API_BACKEND_FORBIDDEN: {
      httpStatus: 403,
      message: 'The Kubernetes API refused the gateway this call',
      hint: "The gateway's ServiceAccount lacks the permission named in the message: an administrator adds it to the gateway's role (manifests/base/rbac-gateway.yaml) and applies it; the gateway's log has the API server's full answer.",
    },
    // ─── web console (console/): sign-in, session cookie, static files ───
    ZLH_GW_CONSOLE_CSRF: {
      httpStatus: 403,
      message: 'This request carries the console session cookie without its CSRF proof',
      hint: "Send the X-ZLH-CSRF header with the value GET /console/session returns; console WebSockets must come from a page of the gateway's own origin. Reload the console if this persists.",
    },
    ZLH_GW_CONSOLE_SIGN_IN_INVALID: {
      httpStatus: 401,
      message: 'This token was not accepted',
      hint: 'Paste a portal token: the admin token `zlh up` prints, or one an administrator issued with POST /api/tokens. It may have been revoked.',
    },
    ZLH_GW_CONSOLE_CROSS_ORIGIN: {
      httpStatus: 403,
      message: "Sign-in and sign-out must come from the console's own page",
      hint: "Open the console at /console/ on the gateway's address and sign in there.",
    },
    ZLH_GW_CONSOLE_FILE_NOT_FOUND: {
      httpStatus: 404,
      message: 'The console has no such file',
      hint: 'Open the console at /console/.',
    },
    ZLH_GW_API_BACKEND: {
      httpStatus: 502,
      message: 'The Kubernetes API refused or failed the request',
      hint: 'Retry; if it persists, check the API server and the gateway logs.',
    },
  },
})

export type GatewayErrorCode = keyof typeof gatewayErrors.entries

/** The gateway's phrasing: "<catalog message>: <detail>" (pages and API bodies show it so). */
export function gatewayMessage(code: GatewayErrorCode, detail?: string): string {
  const message = gatewayErrors.entries[code].message
  return detail ? `${message}: ${detail}` : message
}

/** An error that carries one of the catalog's codes; `detail` names the specific thing. */
export class GatewayError extends CatalogError<GatewayErrorCode> {
  readonly detail: string | undefined

  constructor(code: GatewayErrorCode, detail?: string) {
    super(gatewayErrors, code, gatewayMessage(code, detail))
    this.name = 'GatewayError'
    this.detail = detail
  }
}
