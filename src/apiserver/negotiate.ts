// Content negotiation: which representation the client asked for in Accept (plain JSON, YAML,
// a meta.k8s.io Table, PartialObjectMetadata v1 or v1beta1 in JSON or protobuf, aggregated
// discovery), and how to decode a body by its Content-Type.
// Accept is read in the client's order and the first entry the server can produce wins, so a list
// such as client-go's metadata informer's
// `application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json`
// is answered in protobuf, and one that cannot be (protobuf for a kind without a complete schema)
// falls back to the next entry.

import { isMap, isScalar, isSeq, parseDocument } from 'yaml'
import { checkNestingDepth, MAX_NESTING_DEPTH } from './limits.ts'
import { decodeProtobufObject } from './protobuf.ts'
import { ApiError, errors } from './status.ts'

export type Representation =
  | 'json'
  | 'yaml'
  | 'protobuf'
  | 'table'
  | 'partial'
  | 'partial-v1beta1'
  | 'partial-protobuf'
  | 'partial-v1beta1-protobuf'
  | 'discovery-v2'
  | 'discovery-v2beta1'

interface MediaRange {
  type: string
  params: Record<string, string>
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim())
      const p: Record<string, string> = {}
      for (const kv of params) {
        const i = kv.indexOf('=')
        if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim()
      }
      return { type: type.toLowerCase(), params: p }
    })
    .filter((m) => m.type)
}

/** What negotiation chose: the representation, and for a meta.k8s.io one the kind asked for (`as`). */
export interface Negotiated {
  representation: Representation
  as?: string
}

/**
 * The first representation in Accept that the server can produce for this kind of endpoint.
 * `allowed` lists the non-default ones the endpoint supports. Throws 406 when none fits.
 */
export function negotiate(accept: string | undefined, allowed: Representation[]): Representation {
  return negotiateMedia(accept, allowed).representation
}

/** negotiate(), also saying which `as` the chosen entry named (PartialObjectMetadata or …List). */
export function negotiateMedia(accept: string | undefined, allowed: Representation[]): Negotiated {
  if (!accept) return { representation: 'json' }
  for (const m of parseAccept(accept)) {
    const as = m.params.as
    const partial = (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && m.params.g === 'meta.k8s.io'
    if (m.type === 'application/yaml' && allowed.includes('yaml') && !as) return { representation: 'yaml' }
    if (m.type === 'application/vnd.kubernetes.protobuf') {
      if (!as && allowed.includes('protobuf')) return { representation: 'protobuf' }
      // kube-apiserver serves metadata-only in both meta.k8s.io versions, in every serializer
      // (handlers/rest.go AllowsMediaTypeTransform; handlers/response.go asPartialObjectMetadata).
      if (partial && m.params.v === 'v1' && allowed.includes('partial-protobuf')) return { representation: 'partial-protobuf', as }
      if (partial && m.params.v === 'v1beta1' && allowed.includes('partial-v1beta1-protobuf'))
        return { representation: 'partial-v1beta1-protobuf', as }
      continue
    }
    if (m.type !== 'application/json' && m.type !== '*/*' && m.type !== 'application/*') continue
    if (!as) return { representation: 'json' }
    if (as === 'Table' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1') && allowed.includes('table'))
      return { representation: 'table', as }
    if (partial) {
      if (m.params.v === 'v1' && allowed.includes('partial')) return { representation: 'partial', as }
      if (m.params.v === 'v1beta1' && allowed.includes('partial-v1beta1')) return { representation: 'partial-v1beta1', as }
    }
    if (as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io') {
      if (m.params.v === 'v2' && allowed.includes('discovery-v2')) return { representation: 'discovery-v2', as }
      if (m.params.v === 'v2beta1' && allowed.includes('discovery-v2beta1')) return { representation: 'discovery-v2beta1', as }
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
    const names = Object.entries(MEDIA)
      .filter(([, v]) => allowed.includes(v))
      .map(([k]) => k)
    throw errors.unsupportedMediaType(type, names)
  }
  return f
}

/** The meta.k8s.io apiVersion of a metadata-only representation, undefined for the others. */
export function partialApiVersion(rep: Representation): string | undefined {
  return rep === 'partial' || rep === 'partial-protobuf'
    ? 'meta.k8s.io/v1'
    : rep === 'partial-v1beta1' || rep === 'partial-v1beta1-protobuf'
      ? 'meta.k8s.io/v1beta1'
      : undefined
}

/** Whether a metadata-only representation is written in protobuf. */
export function isProtobufRepresentation(rep: Representation): boolean {
  return rep === 'protobuf' || rep === 'partial-protobuf' || rep === 'partial-v1beta1-protobuf'
}

/** Parses a request body as JSON or YAML; malformed input is a 400 naming the problem. */
export function decodeBody(raw: Buffer | undefined, format: BodyFormat): unknown {
  const text = raw ? raw.toString('utf8') : ''
  if (format === 'protobuf') {
    if (!raw || raw.length === 0) throw errors.badRequest('the request body is empty')
    const value = decodeProtobufObject(raw)
    checkNestingDepth(value, 'the request body')
    return value
  }
  if (text.trim() === '') throw errors.badRequest('the request body is empty; send the object as JSON (or YAML where allowed)')
  const yaml = format === 'yaml' || format === 'apply-patch'
  let value: unknown
  try {
    value = yaml ? parseYamlStrict(text) : JSON.parse(text)
  } catch (err) {
    if (err instanceof ApiError) throw err
    // The YAML parser recurses per level: a body nested deep enough overflows it before any check could run.
    if (err instanceof RangeError || /Maximum call stack size exceeded/.test((err as Error).message))
      throw errors.badRequest(`the request body nests too deep to parse (the limit is ${MAX_NESTING_DEPTH} levels); flatten it`)
    throw errors.badRequest(`the request body is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`)
  }
  checkNestingDepth(value, 'the request body')
  return value
}

/**
 * YAML with unique map keys. The parser's own uniqueness check compares each key with every
 * earlier one (a 3 MB map takes minutes); this one is a set per map, walked without recursion.
 */
function parseYamlStrict(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false })
  if (doc.errors.length > 0) throw doc.errors[0]
  const stack: unknown[] = [doc.contents]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isMap(node)) {
      const seen = new Set<string>()
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const id = `${typeof pair.key.value}:${String(pair.key.value)}`
          if (seen.has(id))
            throw new Error(
              `Map keys must be unique (${JSON.stringify(String(pair.key.value))} repeats${pair.key.range ? ` at offset ${pair.key.range[0]}` : ''})`,
            )
          seen.add(id)
        }
        stack.push(pair.value)
      }
    } else if (isSeq(node)) stack.push(...node.items)
  }
  return doc.toJS({ maxAliasCount: 100 })
}
