// Helpers for the RBAC test: a recording reverse proxy in front of the API server (each component
// gets its own, so every request and its answer is attributed to the component that made it) and
// the mapping of a request to its RBAC attributes (verb, apiGroup, resource[/subresource],
// namespace), to name a refused call the way a role's rule is written.
import { createServer, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface Call {
  method: string
  url: string /** The API server's answer (0 until it came). */
  status: number
}
export interface Attributes {
  verb: string
  apiGroup: string
  resource: string
  namespace?: string
}

export async function recordingProxy(
  target: string,
  ca: string | undefined,
): Promise<{ url: string; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = []
  const server: Server = createServer((req, res) => {
    const call: Call = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 }
    calls.push(call)
    const up = httpsRequest(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: { ...req.headers, host: new URL(target).host }, ca },
      (r) => {
        call.status = r.statusCode ?? 502
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      },
    )
    up.on('error', () => res.destroy())
    res.on('close', () => up.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** RBAC attributes of a request, or undefined for non-resource URLs (discovery, openapi, health). */
export function attributesOf(call: Pick<Call, 'method' | 'url'>): Attributes | undefined {
  const u = new URL(call.url, 'http://x')
  const seg = u.pathname.split('/').filter(Boolean)
  let apiGroup: string
  let rest: string[]
  if (seg[0] === 'api' && seg.length >= 3) {
    apiGroup = ''
    rest = seg.slice(2)
  } else if (seg[0] === 'apis' && seg.length >= 4) {
    apiGroup = seg[1] as string
    rest = seg.slice(3)
  } else return undefined
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  const [resource, name, sub] = rest
  if (resource === undefined) return undefined
  const watch = u.searchParams.get('watch')
  const verb =
    call.method === 'GET'
      ? name === undefined
        ? watch === 'true' || watch === '1'
          ? 'watch'
          : 'list'
        : 'get'
      : call.method === 'POST'
        ? 'create'
        : call.method === 'PUT'
          ? 'update'
          : call.method === 'PATCH'
            ? 'patch'
            : call.method === 'DELETE'
              ? name === undefined
                ? 'deletecollection'
                : 'delete'
              : call.method.toLowerCase()
  return { verb, apiGroup, resource: sub ? `${resource}/${sub}` : resource, namespace: resource === 'namespaces' ? undefined : namespace }
}

export function key(a: Attributes): string {
  return `${a.verb} ${a.apiGroup || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ''}`
}
