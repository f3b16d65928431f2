// The web console on the gateway's portal host (never on IDE hosts: server.ts hands those to the
// IDE proxy before fastify routes anything):
//   GET    /                    → 302 /console/
//   GET    /console/            the page (page.ts), no-store, CSP with its import map's hash
//   GET    /console/<file>      a console module or a versioned vendor file (static-files.ts), else 404
//   GET    /console/session     who is signed in and the session's CSRF value, or {signedIn: false}
//   POST   /console/session     {token} → checks it against the portal's tokens, sets the sealed cookie
//   DELETE /console/session     clears the cookie
// Sign-in and sign-out must come from the console's own origin (Origin header): no other site can
// sign a browser in with its token or out. Every answer carries nosniff, frame denial and a CSP.
// The token is never logged (the gateway disables request logging; bodies are never logged).

import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ApiTokenStore, Principal } from '../portal/api-tokens.ts'
import { sendApiError } from '../portal/api-reply.ts'
import { consolePage, contentSecurityPolicy, SECURITY_HEADERS } from './page.ts'
import type { ConsoleSessions } from './session.ts'
import { CONSOLE_PREFIX, loadConsoleFiles, type ConsoleFiles } from './static-files.ts'

export interface ConsoleDeps {
  sessions: ConsoleSessions
  tokens: ApiTokenStore
  /** The console's files (tests pass their own); loaded from web/ and node_modules when absent. */
  files?: ConsoleFiles
}

const DEFAULT_CSP = contentSecurityPolicy()
const SIGN_IN_BODY_LIMIT = 4096

/** What the page learns about its session. */
function sessionBody(p: Principal, csrf: string, expiresAt: Date) {
  return { signedIn: true, user: p.user, scopes: p.scopes, namespaces: p.namespaces, csrf, expiresAt: expiresAt.toISOString() }
}

export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const files = deps.files ?? loadConsoleFiles()
  const page = consolePage(files)
  const { sessions, tokens } = deps

  await app.register(async (web) => {
    web.addHook('onSend', async (_req, reply, payload) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DEFAULT_CSP)
      return payload
    })

    web.get('/', async (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302))
    web.get(CONSOLE_PREFIX, async (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302))
    web.get(`${CONSOLE_PREFIX}/`, async (_req, reply) => {
      const { html, csp } = page.render()
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', csp)
        .send(html)
    })

    web.get(`${CONSOLE_PREFIX}/session`, async (req, reply) => {
      const session = await sessions.read(req.headers)
      const principal = session && tokens.authenticate(session.token)
      if (!session || !principal) {
        // 200, not 401: "not signed in" is the page's normal first answer, not an error.
        if (req.headers.cookie?.includes(sessions.cookieName)) reply.header('set-cookie', sessions.clearCookie())
        return reply.header('cache-control', 'no-store').send({ signedIn: false })
      }
      return reply.header('cache-control', 'no-store').send(sessionBody(principal, session.csrf, session.expiresAt))
    })

    web.post<{ Body: { token?: unknown } }>(
      `${CONSOLE_PREFIX}/session`,
      {
        bodyLimit: SIGN_IN_BODY_LIMIT,
        schema: {
          body: { type: 'object', properties: { token: { type: 'string', maxLength: 256 } }, required: ['token'] },
        },
        // The default error answer would echo the body's validation message; keep it to our catalog.
        errorHandler: (err, _req, reply) =>
          sendApiError(reply, 'ZLH_GW_API_INVALID', err.validation ? 'the body must be {"token": "<portal token>"}' : err.message, {
            errors: err.validation ? [{ field: 'token', message: 'token: Required value: a portal token' }] : [],
          }),
      },
      async (req, reply) => {
        if (!sameOrigin(req, sessions)) return sendApiError(reply, 'ZLH_GW_CONSOLE_CROSS_ORIGIN')
        const token = String(req.body.token).trim()
        const principal = tokens.authenticate(token)
        if (!principal) return sendApiError(reply, 'ZLH_GW_CONSOLE_SIGN_IN_INVALID')
        const opened = await sessions.open(token)
        req.log.info({ tokenId: principal.tokenId, user: principal.user }, 'console sign-in')
        return reply
          .header('set-cookie', opened.setCookie)
          .header('cache-control', 'no-store')
          .send(sessionBody(principal, opened.csrf, opened.expiresAt))
      },
    )

    web.delete(`${CONSOLE_PREFIX}/session`, async (req, reply) => {
      if (!sameOrigin(req, sessions)) return sendApiError(reply, 'ZLH_GW_CONSOLE_CROSS_ORIGIN')
      return reply.header('set-cookie', sessions.clearCookie()).header('cache-control', 'no-store').code(204).send()
    })

    web.get<{ Params: { '*': string } }>(`${CONSOLE_PREFIX}/*`, async (req, reply) => {
      const file = files.files.get(req.params['*'])
      if (!file) return sendApiError(reply, 'ZLH_GW_CONSOLE_FILE_NOT_FOUND')
      reply
        .header('content-type', file.contentType)
        .header('etag', file.etag)
        .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      if (req.headers['if-none-match'] === file.etag) return reply.code(304).send()
      return reply.send(file.body)
    })
  })
}

function sameOrigin(req: FastifyRequest, sessions: ConsoleSessions): boolean {
  return sessions.isOwnOrigin(req.headers)
}
