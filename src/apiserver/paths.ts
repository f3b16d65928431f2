// Parses Kubernetes REST paths: /api/v1/..., /apis/<group>/<version>/..., with or without
// /namespaces/<ns>/, a name and a subresource, and the legacy /watch/ prefix.

export type PathTarget =
  | { type: 'apis' }
  | { type: 'group'; group: string }
  | { type: 'groupVersion'; group: string; version: string }
  | { type: 'resource'; group: string; version: string; resource: string; namespace?: string; name?: string; subresource?: string; legacyWatch: boolean }

/** The target of `path` (without query), or undefined for a path outside the API. */
export function parseApiPath(path: string): PathTarget | undefined {
  const segs = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s))
  let group: string
  let version: string | undefined
  let rest: string[]
  if (segs[0] === 'api') {
    if (segs.length === 1) return { type: 'group', group: '' }
    group = ''
    version = segs[1]
    rest = segs.slice(2)
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { type: 'apis' }
    group = segs[1]
    if (segs.length === 2) return { type: 'group', group }
    version = segs[2]
    rest = segs.slice(3)
  } else return undefined
  if (rest.length === 0) return { type: 'groupVersion', group, version }
  let legacyWatch = false
  if (rest[0] === 'watch') { legacyWatch = true; rest = rest.slice(1) }
  let namespace: string | undefined
  // /namespaces/<ns>/<resource>... addresses a namespaced resource, except the namespace's own subresources.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  if (rest.length > 3 || rest.some((s) => s === '')) return undefined
  return { type: 'resource', group, version, resource: rest[0], namespace, name: rest[1], subresource: rest[2], legacyWatch }
}
