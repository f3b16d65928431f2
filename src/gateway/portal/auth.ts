// Authentication and authorization of the portal API: every /api route declares the scope it
// needs in its route config (`config: { scope: 'servers:read' }`, or `scope: null` for the few
// public ones); a hook checks the bearer token before anything else runs.
// No token or an unknown one → 401 (with WWW-Authenticate); a token without the scope → 403 naming it.
// Routes without a scope declaration are refused (fail closed), so a forgotten declaration is a 403, not an open route.

import type { FastifyInstance, FastifyRequest } from 'fastify'
import { hasScope, type ApiTokenStore, type Principal, type Scope } from './api-tokens.ts'
import { sendApiError } from './api-reply.ts'

declare module 'fastify' {
  interface FastifyContextConfig { scope?: Scope | null }
  interface FastifyRequest { principal?: Principal }
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined
  const m = /^Bearer +(\S+)\s*$/i.exec(header)
  return m?.[1]
}

export function registerAuth(app: FastifyInstance, tokens: ApiTokenStore): void {
  app.decorateRequest('principal', undefined)
  app.addHook('onRequest', async (req, reply) => {
    // Only the portal API is token-protected; the main host's other routes (health, the legacy
    // IDE redirect) are public by design.
    const url = req.url
    if (!(url.startsWith('/api/') || url === '/api' || url.startsWith('/api?'))) return
    const scope = req.routeOptions.config.scope
    if (scope === null) return
    const principal = tokens.authenticate(bearerOf(req.headers.authorization))
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="zlh"')
      return sendApiError(reply, 'ZLH_GW_API_UNAUTHENTICATED')
    }
    if (scope === undefined || !hasScope(principal, scope)) {
      return sendApiError(reply, 'ZLH_GW_API_FORBIDDEN', `scope "${scope ?? 'admin'}" is required`, { requiredScope: scope ?? 'admin' })
    }
    req.principal = principal
  })
}

/** The authenticated caller (the auth hook guarantees one on every scoped route). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('route reached without authentication: declare config.scope')
  return req.principal
}
