// File operations of a server, proxied to its agent: /api/game/:name/{files,uploads}/<path> →
// agent /{files,uploads}/<path> (the game server's files), /api/dev/:name/{files,uploads}/<path> →
// agent /workspace/{files,uploads}/<path> (the dev user's workspace, what the IDE opens); any
// method, bodies and responses streamed. The caller needs the `files` scope; the agent's token is
// added here and nothing of it goes back (only status, content type/length/disposition and body).
// The server is looked up in the caller's namespace (tenancy.ts; `?namespace=` is not forwarded).

import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { AgentLocator } from './agent-access.ts'
import { PortalError, sendApiError } from './api-reply.ts'
import { principalOf } from './auth.ts'
import type { ServerKind } from './kinds.ts'
import { actingNamespace, tenancyOf, withoutNamespace } from './tenancy.ts'

const RESPONSE_HEADERS = ['content-type', 'content-length', 'content-disposition', 'last-modified', 'etag']
const TIMEOUT_MS = 120_000

export interface AgentFilesDeps {
  agents: AgentLocator
  /** The portal's namespace: home of tokens issued without namespaces. */
  namespace: string
}

/**
 * The agent-relative path of a portal request: the raw segments the route's wildcard matched
 * (`fixedSegments` = how many segments of the route precede it, e.g. 5 for
 * `/api/game/:name/files/*`), each decoded once and re-encoded, plus the query. A 400 when a
 * segment tries to leave the server root.
 */
export function agentPathOf(url: string, marker: '/files/' | '/uploads/', fixedSegments: number, agentPrefix = ''): string {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const rest = path.split('/').slice(fixedSegments).join('/')
  let segments: string[]
  try {
    segments = rest.split('/').map((s) => decodeURIComponent(s))
  } catch {
    throw new PortalError('ZLH_GW_API_INVALID', 'the file path is not valid percent-encoding', {
      errors: [{ field: 'path', message: 'path: Invalid value: bad percent-encoding' }],
    })
  }
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\0') || s.includes('/') || s.includes('\\'))) {
    throw new PortalError('ZLH_GW_API_INVALID', 'the file path may not contain "..", "." or encoded separators', {
      errors: [{ field: 'path', message: 'path: Invalid value: must stay inside the server root' }],
    })
  }
  return `${agentPrefix}${marker}${segments.map(encodeURIComponent).join('/')}${q === -1 ? '' : withoutNamespace(url.slice(q))}`
}

/** The proxy routes, as a fastify plugin the portal registers under its /api prefix. Its own
 * encapsulation context keeps the raw-body parser below away from the portal's JSON routes. */
export const agentFileRoutes: FastifyPluginAsync<AgentFilesDeps> = async (scoped, deps) => {
  // Bodies go to the agent as they arrive: no parsing, no buffering, any content type.
  scoped.removeAllContentTypeParsers()
  scoped.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  for (const segment of ['game', 'dev'] as const) {
    const kind: ServerKind = segment === 'game' ? 'GameServer' : 'DevServer'
    const agentPrefix = segment === 'game' ? '' : '/workspace'
    for (const marker of ['/files/', '/uploads/'] as const) {
      scoped.route<{ Params: { name: string } }>({
        method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
        url: `/${segment}/:name${marker}*`,
        config: { scope: 'files' },
        schema: {
          tags: ['files'],
          summary: `${marker === '/files/' ? 'Files' : 'Uploads (raw or zip/tar.gz with ?extract=true)'} of a ${kind}${segment === 'dev' ? ' (its workspace)' : ''}, proxied to its agent`,
        },
        handler: async (req, reply) =>
          forward(req, reply, deps, kind, agentPathOf(req.url, marker, req.routeOptions.url!.split('/').length - 1, agentPrefix)),
      })
    }
  }
}

async function forward(
  req: FastifyRequest<{ Params: { name: string } }>,
  reply: FastifyReply,
  deps: AgentFilesDeps,
  kind: ServerKind,
  agentPath: string,
): Promise<FastifyReply> {
  const { reach, requested } = tenancyOf(principalOf(req), deps.namespace, req.query)
  const { namespace, held } = actingNamespace(reach, requested)
  const agent = await deps.agents.locate(kind, held ? namespace : null, req.params.name)
  const target = new URL(agentPath, agent.baseUrl)
  const headers: Record<string, string> = { authorization: `Bearer ${agent.token}` }
  for (const h of ['content-type', 'content-length']) {
    const v = req.headers[h]
    if (typeof v === 'string') headers[h] = v
  }
  const body = req.body as Readable | undefined
  let upstream: IncomingMessage
  try {
    upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = httpRequest(target, { method: req.method, headers, agent: false, timeout: TIMEOUT_MS }, resolve)
      r.on('timeout', () => r.destroy(new Error('agent did not answer in time')))
      r.on('error', reject)
      req.raw.once('close', () => {
        if (!req.raw.complete) r.destroy()
      })
      if (body && typeof body.pipe === 'function') body.pipe(r)
      else r.end()
    })
  } catch (err) {
    req.log.warn({ server: req.params.name, err: (err as Error).message }, 'agent file request failed')
    return sendApiError(reply, 'ZLH_GW_API_AGENT_UNAVAILABLE', `${kind} "${req.params.name}"`)
  }
  reply.code(upstream.statusCode ?? 502)
  for (const h of RESPONSE_HEADERS) {
    const v = upstream.headers[h]
    if (v !== undefined) reply.header(h, v)
  }
  reply.header('cache-control', 'no-store')
  return reply.send(upstream)
}
