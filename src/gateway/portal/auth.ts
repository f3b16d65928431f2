// Authentication and authorization of the portal API, decided on what was routed, never on the URL.
// Every portal route lives in one encapsulated plugin (portal.ts) whose onRequest hook is
// `authenticateRoute`: it runs for every route of the plugin and for its not-found handler, before
// the body is read, and decides on the matched route's declared scope (`config: { scope:
// 'servers:read' }`, or `scope: null` for the few public ones).
//  - no token or an unknown one → 401 (with WWW-Authenticate), on every route and unknown path;
//  - a token without the scope → 403 naming it;
//  - a route without a scope declaration → 403 for everyone (fail closed: a forgotten declaration
//    is a refused route, not an open one);
//  - an unknown path or method under the portal, with a valid token → the not-found handler (404).
// The console WebSocket upgrade (agent-console.ts), which fastify does not route, uses
// `authenticateBearer` on the same tokens.
// Without an Authorization header, the web console's session cookie (console/session.ts) stands
// for its sealed token when a `sessions` reader is given: only with the session's X-ZLH-CSRF
// header (else 403 ZLH_GW_CONSOLE_CSRF); a forged or expired cookie is no token (401).

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { hasScope, type ApiTokenStore, type Principal, type Scope } from './api-tokens.ts'
import { sendApiError } from './api-reply.ts'
import type { SessionCookieReader } from '../console/session.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: Scope | null
  }
  interface FastifyRequest {
    principal?: Principal
  }
}

/** Where the portal API is mounted on the main host: every path under it is authenticated. */
export const PORTAL_PREFIX = '/api'

/** The bearer token of an Authorization header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined
  const m = /^Bearer +(\S+)\s*$/i.exec(header)
  return m?.[1]
}

/** The principal of a request's Authorization header (or of `fallbackToken`), or undefined. */
export function authenticateBearer(tokens: ApiTokenStore, headers: IncomingHttpHeaders, fallbackToken?: string): Principal | undefined {
  return tokens.authenticate(bearerOf(headers.authorization) ?? fallbackToken)
}

/** The portal plugin's onRequest hook (see the header). */
export function authenticateRoute(
  tokens: ApiTokenStore,
  sessions?: SessionCookieReader,
): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (req, reply) => {
    // The not-found handler has no route, hence no scope: any valid token may learn it is a 404.
    const scope = req.is404 ? undefined : req.routeOptions.config.scope
    if (scope === null) return undefined
    let principal = authenticateBearer(tokens, req.headers)
    if (!principal && req.headers.authorization === undefined && sessions) {
      const session = await sessions.authenticate(req.headers, 'api')
      if (session && 'refused' in session) return sendApiError(reply, 'ZLH_GW_CONSOLE_CSRF', session.refused)
      principal = tokens.authenticate(session?.token)
    }
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="zlh"')
      return sendApiError(reply, 'ZLH_GW_API_UNAUTHENTICATED')
    }
    if (!req.is404 && scope === undefined) {
      return sendApiError(reply, 'ZLH_GW_API_FORBIDDEN', 'this route declares no scope, so it is refused to every token', {
        requiredScope: null,
      })
    }
    if (scope !== undefined && !hasScope(principal, scope)) {
      return sendApiError(reply, 'ZLH_GW_API_FORBIDDEN', `scope "${scope}" is required`, { requiredScope: scope })
    }
    req.principal = principal
    return undefined
  }
}

/** The authenticated caller (the auth hook guarantees one on every scoped route). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('route reached without authentication: declare config.scope')
  return req.principal
}
