// Helpers for the RBAC test: a recording reverse proxy in front of the API server (each component
// gets its own, so every request is attributed to the component that made it), the mapping of a
// request to its RBAC attributes (verb, apiGroup, resource[/subresource], namespace) and the check
// of those against the roles a ServiceAccount gets from the kustomize output.
import { createServer, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface Call { method: string, url: string }
export interface Attributes { verb: string, apiGroup: string, resource: string, namespace?: string }

export async function recordingProxy(target: string, ca: string | undefined): Promise<{ url: string, calls: Call[], close(): Promise<void> }> {
  const calls: Call[] = []
  const server: Server = createServer((req, res) => {
    calls.push({ method: req.method ?? 'GET', url: req.url ?? '/' })
    const up = httpsRequest(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host }, ca }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    res.on('close', () => up.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** RBAC attributes of a request, or undefined for non-resource URLs (discovery, openapi, health). */
export function attributesOf(call: Call): Attributes | undefined {
  const u = new URL(call.url, 'http://x')
  const seg = u.pathname.split('/').filter(Boolean)
  let apiGroup: string
  let rest: string[]
  if (seg[0] === 'api' && seg.length >= 3) { apiGroup = ''; rest = seg.slice(2) }
  else if (seg[0] === 'apis' && seg.length >= 4) { apiGroup = seg[1] as string; rest = seg.slice(3) }
  else return undefined
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2) }
  const [resource, name, sub] = rest
  if (resource === undefined) return undefined
  const watch = u.searchParams.get('watch')
  const verb = call.method === 'GET' ? (name === undefined ? (watch === 'true' || watch === '1' ? 'watch' : 'list') : 'get')
    : call.method === 'POST' ? 'create' : call.method === 'PUT' ? 'update' : call.method === 'PATCH' ? 'patch'
      : call.method === 'DELETE' ? (name === undefined ? 'deletecollection' : 'delete') : call.method.toLowerCase()
  return { verb, apiGroup, resource: sub ? `${resource}/${sub}` : resource, namespace: resource === 'namespaces' ? undefined : namespace }
}

interface Rule { apiGroups?: string[], resources?: string[], verbs: string[] }
interface Grant { namespace?: string, rules: Rule[] }

/** What ServiceAccount ns/name may do: ClusterRoles bound cluster-wide, Roles/ClusterRoles bound in a namespace. */
export function grantsFor(objs: any[], saNamespace: string, saName: string): Grant[] {
  const isSubject = (b: any): boolean => (b.subjects ?? []).some((s: any) => s.kind === 'ServiceAccount' && s.name === saName && s.namespace === saNamespace)
  const role = (kind: string, name: string, ns?: string): any => objs.find((o) => o.kind === kind && o.metadata.name === name && (kind === 'ClusterRole' || o.metadata.namespace === ns))
  const grants: Grant[] = []
  for (const b of objs.filter((o) => (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') && isSubject(o))) {
    const r = role(b.roleRef.kind, b.roleRef.name, b.metadata.namespace)
    if (r === undefined) continue
    grants.push({ namespace: b.kind === 'RoleBinding' ? b.metadata.namespace : undefined, rules: r.rules ?? [] })
  }
  return grants
}

export function allowed(grants: Grant[], a: Attributes): boolean {
  return grants.some((g) => (g.namespace === undefined || g.namespace === a.namespace) && g.rules.some((r) =>
    (r.apiGroups ?? []).some((x) => x === '*' || x === a.apiGroup) &&
    (r.resources ?? []).some((x) => x === '*' || x === a.resource) &&
    r.verbs.some((x) => x === '*' || x === a.verb)))
}

export function key(a: Attributes): string { return `${a.verb} ${a.apiGroup || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ''}` }
