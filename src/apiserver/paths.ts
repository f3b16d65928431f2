// Request targets and Kubernetes REST paths: the request target is parsed once into decoded path
// segments (its normal form), and the segments into /api/v1/..., /apis/<group>/<version>/...,
// with or without /namespaces/<ns>/, a name and a subresource, and the legacy /watch/ prefix.
//
// Guarantees
// - A target has exactly one normal form: every spelling either parses to the same segments as
//   that form (percent-encoded letters, one trailing slash) or is refused with 400 — absolute-form
//   and asterisk-form targets, empty segments (`//`), dot segments (`.`, `..`), an encoded `/`,
//   NUL, or malformed percent-encoding. Authorization and routing both read this one result.
// - parseApiPath decodes nothing: it takes the already-decoded segments, so nothing is decoded twice.

import { errors } from './status.ts'

export type PathTarget =
  | { type: 'apis' }
  | { type: 'group'; group: string }
  | { type: 'groupVersion'; group: string; version: string }
  | {
      type: 'resource'
      group: string
      version: string
      resource: string
      namespace?: string
      name?: string
      subresource?: string
      legacyWatch: boolean
    }

export interface RequestPath {
  /** The decoded path segments. */
  segments: string[]
  /** The normal form of the path: "/" + segments joined by "/". */
  path: string
  /** The raw query string (after the first "?"), "" when absent. */
  query: string
}

/** The normal form of a request target (`req.url`); throws 400 for a target with no single normal form. */
export function parseRequestTarget(url: string): RequestPath {
  if (!url.startsWith('/'))
    throw errors.badRequest(
      `the request target ${JSON.stringify(url.slice(0, 100))} is not a path: send the path alone (origin-form, e.g. GET /api/v1/namespaces), not an absolute URL or "*"`,
    )
  const q = url.indexOf('?')
  const rawPath = q < 0 ? url : url.slice(0, q)
  const query = q < 0 ? '' : url.slice(q + 1)
  if (rawPath.includes('#'))
    throw errors.badRequest(
      'the request path contains "#": a fragment is never sent to the server; percent-encode it as %23 if it is part of a name',
    )
  const raw = rawPath.slice(1).split('/')
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop()
  if (raw.length === 1 && raw[0] === '') raw.pop()
  const segments = raw.map((s) => {
    if (s === '') throw errors.badRequest('the request path has an empty segment ("//"); write each "/" once')
    let d: string
    try {
      d = decodeURIComponent(s)
    } catch {
      throw errors.badRequest(`the request path segment ${JSON.stringify(s.slice(0, 100))} is not valid percent-encoding`)
    }
    if (d === '.' || d === '..') throw errors.badRequest('the request path has a "." or ".." segment; send the path in its normal form')
    if (d.includes('/'))
      throw errors.badRequest('the request path has an encoded "/" (%2F) inside a segment; no resource or name contains "/"')
    if (d.includes('\0')) throw errors.badRequest('the request path contains a NUL byte (%00)')
    return d
  })
  return { segments, path: `/${segments.join('/')}`, query }
}

/** The target of the decoded path `segments` (see parseRequestTarget), or undefined for a path outside the API. */
export function parseApiPath(segs: readonly string[]): PathTarget | undefined {
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
  if (rest[0] === 'watch') {
    legacyWatch = true
    rest = rest.slice(1)
  }
  let namespace: string | undefined
  // /namespaces/<ns>/<resource>... addresses a namespaced resource, except the namespace's own subresources.
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  if (rest.length === 0 || rest.length > 3 || rest.some((s) => s === '')) return undefined
  return { type: 'resource', group, version, resource: rest[0], namespace, name: rest[1], subresource: rest[2], legacyWatch }
}
