// The seed's IDE path on the main host, `/__ide/:id`, kept as a redirect into the dev host
// `dev-<id>.<suffix>` (the token, when given, travels along so old portal links keep working).
// The target is built from the validated vmid and the configured origin (scheme, suffix, public
// port); nothing of the request, not even its Host header's port, is reflected.

import type { FastifyInstance } from 'fastify'
import type { DevOrigins } from './dev-host.ts'
import { IDE_TOKEN_PATTERN } from './ide-token.ts'
import { renderErrorPage } from './pages.ts'

export interface LegacyRedirectOptions {
  origins: DevOrigins
}

export function registerLegacyIdeRedirect(app: FastifyInstance, opts: LegacyRedirectOptions): void {
  app.get<{ Params: { id: string }; Querystring: { token?: unknown } }>('/__ide/:id', async (req, reply) => {
    const id = req.params.id
    if (!/^[1-9][0-9]{0,9}$/.test(id)) {
      const page = renderErrorPage('ZLH_GW_IDE_HOST_UNKNOWN', { detail: 'the IDE id must be a dev server number' })
      return reply.code(page.status).headers(page.headers).send(page.body)
    }
    const token = typeof req.query.token === 'string' && IDE_TOKEN_PATTERN.test(req.query.token) ? req.query.token : undefined
    const origin = opts.origins.origin(Number(id))
    return reply
      .code(302)
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('location', token ? `${origin}/?token=${token}` : `${origin}/`)
      .send()
  })
}
