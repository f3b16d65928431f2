// Content negotiation: which representation the client asked for in Accept (plain JSON, YAML,
// a meta.k8s.io Table, PartialObjectMetadata, aggregated discovery), and how to decode a body by
// its Content-Type.

import { parse as parseYaml } from 'yaml'
import { decodeProtobufObject } from './protobuf.ts'
import { ApiError, errors } from './status.ts'

export type Representation = 'json' | 'yaml' | 'table' | 'partial' | 'discovery-v2' | 'discovery-v2beta1'

interface MediaRange { type: string; params: Record<string, string> }

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim())
    const p: Record<string, string> = {}
    for (const kv of params) {
      const i = kv.indexOf('=')
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim()
    }
    return { type: type.toLowerCase(), params: p }
  }).filter((m) => m.type)
}

/**
 * The first representation in Accept that the server can produce for this kind of endpoint.
 * `allowed` lists the non-default ones the endpoint supports. Throws 406 when none fits.
 */
export function negotiate(accept: string | undefined, allowed: Representation[]): Representation {
  if (!accept) return 'json'
  for (const m of parseAccept(accept)) {
    if (m.type === 'application/yaml' && allowed.includes('yaml') && !m.params.as) return 'yaml'
    if (m.type !== 'application/json' && m.type !== '*/*' && m.type !== 'application/*') continue
    const as = m.params.as
    if (!as) return 'json'
    if (as === 'Table' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1') && allowed.includes('table')) return 'table'
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && m.params.g === 'meta.k8s.io' && m.params.v === 'v1' && allowed.includes('partial')) return 'partial'
    if (as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io') {
      if (m.params.v === 'v2' && allowed.includes('discovery-v2')) return 'discovery-v2'
      if (m.params.v === 'v2beta1' && allowed.includes('discovery-v2beta1')) return 'discovery-v2beta1'
    }
  }
  throw errors.notAcceptable(accept)
}

export type BodyFormat = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch'

const MEDIA: Record<string, BodyFormat> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/vnd.kubernetes.protobuf': 'protobuf',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
  'application/strategic-merge-patch+json': 'strategic-merge-patch',
  'application/apply-patch+yaml': 'apply-patch',
  'application/apply-patch+json': 'apply-patch',
}

export function bodyFormat(contentType: string | undefined, allowed: BodyFormat[]): BodyFormat {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  const f = MEDIA[type]
  if (!f || !allowed.includes(f)) {
    const names = Object.entries(MEDIA).filter(([, v]) => allowed.includes(v)).map(([k]) => k)
    throw errors.unsupportedMediaType(type, names)
  }
  return f
}

/** Parses a request body as JSON or YAML; malformed input is a 400 naming the problem. */
export function decodeBody(raw: Buffer | undefined, format: BodyFormat): unknown {
  const text = raw ? raw.toString('utf8') : ''
  if (format === 'protobuf') {
    if (!raw || raw.length === 0) throw errors.badRequest('the request body is empty')
    return decodeProtobufObject(raw)
  }
  if (text.trim() === '') throw errors.badRequest('the request body is empty; send the object as JSON (or YAML where allowed)')
  try {
    if (format === 'yaml' || format === 'apply-patch') return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 })
    return JSON.parse(text)
  } catch (err) {
    if (err instanceof ApiError) throw err
    const what = format === 'yaml' || format === 'apply-patch' ? 'YAML' : 'JSON'
    throw errors.badRequest(`the request body is not valid ${what}: ${(err as Error).message.split('\n')[0]}`)
  }
}
