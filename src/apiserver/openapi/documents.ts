// OpenAPI documents as kube-apiserver serves them: GET /openapi/v3 (the index of group-versions,
// each with a content hash), GET /openapi/v3/apis/<group>/<version> (OpenAPI 3.0 with the kinds'
// schemas, meta definitions and paths) and GET /openapi/v2 (Swagger 2.0, every group in one).

import { createHash } from 'node:crypto'
import {
  metaDefinitions,
  refProp,
  OBJECT_META,
  LIST_META,
  OBJECT_META_DESCRIPTION,
  LIST_META_DESCRIPTION,
  API_VERSION_DESCRIPTION,
  KIND_DESCRIPTION,
  type Schema,
  type RefFn,
} from './meta.ts'
import { toResource, definitionName, groupVersionPath, type OpenApiResource } from './resources.ts'
import { BUILTIN_RESOURCES } from './builtins.ts'
import { resourcePaths, type Flavor } from './paths.ts'
import type { JsonObject } from '../types.ts'

type Obj = JsonObject

const V3_REF: RefFn = (name) => `#/components/schemas/${name}`
const V2_REF: RefFn = (name) => `#/definitions/${name}`

/** Swagger 2.0 has no nullable, oneOf, anyOf or not; kube drops them from CRD schemas for v2. */
function toV2Schema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV2Schema)
  if (!s || typeof s !== 'object') return s
  const out: Obj = {}
  for (const [k, v] of Object.entries(s as Obj)) {
    if (k === 'nullable' || k === 'oneOf' || k === 'anyOf' || k === 'not') continue
    out[k] = k === 'enum' || k === 'default' || k === 'example' || k === 'required' ? v : toV2Schema(v)
  }
  if (out['x-kubernetes-int-or-string']) delete out.type
  return out
}

function kindSchema(res: OpenApiResource, version: string, flavor: Flavor, ref: RefFn): Schema {
  const v = res.versions.find((x) => x.name === version)
  const base: Obj = structuredClone(v?.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true })
  const props: Obj = { ...(base.properties ?? {}) }
  props.apiVersion = { type: 'string', ...(props.apiVersion ?? {}), description: props.apiVersion?.description ?? API_VERSION_DESCRIPTION }
  props.kind = { type: 'string', ...(props.kind ?? {}), description: props.kind?.description ?? KIND_DESCRIPTION }
  props.metadata = refProp(ref, OBJECT_META, OBJECT_META_DESCRIPTION, flavor === 'v2')
  const schema: Obj = { ...base, type: 'object', properties: props }
  const out = flavor === 'v2' ? (toV2Schema(schema) as Obj) : schema
  if (flavor === 'v2') out.properties.metadata = refProp(ref, OBJECT_META, OBJECT_META_DESCRIPTION, true)
  out['x-kubernetes-group-version-kind'] = [{ group: res.group, kind: res.kind, version }]
  return out
}

function listSchema(res: OpenApiResource, version: string, flavor: Flavor, ref: RefFn): Schema {
  const listKind = res.listKind ?? `${res.kind}List`
  return {
    type: 'object',
    description: `${listKind} is a list of ${res.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      items: {
        type: 'array',
        description: `List of ${res.resource}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: ref(definitionName(res.group, version, res.kind)) },
      },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: refProp(ref, LIST_META, LIST_META_DESCRIPTION, flavor === 'v2'),
    },
    'x-kubernetes-group-version-kind': [{ group: res.group, kind: listKind, version }],
  }
}

/** The given resources (CRDs or descriptions) plus the built-in ones they do not replace. */
function allResources(input: readonly Obj[]): OpenApiResource[] {
  const given = input.map(toResource)
  const key = (r: OpenApiResource, v: string) => `${r.group}/${v}/${r.kind}`
  const seen = new Set(given.flatMap((r) => r.versions.map((v) => key(r, v.name))))
  return [...given, ...BUILTIN_RESOURCES.filter((r) => !r.versions.some((v) => seen.has(key(r, v.name))))]
}

function addResource(res: OpenApiResource, version: string, flavor: Flavor, ref: RefFn, paths: Obj, schemas: Obj): void {
  const kindDef = definitionName(res.group, version, res.kind)
  const listDef = definitionName(res.group, version, res.listKind ?? `${res.kind}List`)
  schemas[kindDef] = kindSchema(res, version, flavor, ref)
  schemas[listDef] = listSchema(res, version, flavor, ref)
  Object.assign(paths, resourcePaths({ res, version, flavor, ref, kindDef, listDef }))
}

/**
 * The OpenAPI v3 document of one group-version ("" for core), from CRDs / resource descriptions and
 * the built-in kinds; undefined when nothing is served there.
 */
export function openApiV3ForGroupVersion(resources: readonly Obj[], group: string, version: string): Obj | undefined {
  const matching = allResources(resources).filter((r) => r.group === group && r.versions.some((v) => v.name === version))
  if (matching.length === 0) return undefined
  const paths: Obj = {}
  const schemas: Obj = {}
  for (const r of matching) addResource(r, version, 'v3', V3_REF, paths, schemas)
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas: { ...metaDefinitions(V3_REF), ...schemas } },
  }
}

/** kube's hash of a group-version document: upper-case hex SHA-512 of its JSON. */
export function documentHash(json: string): string {
  return createHash('sha512').update(json).digest('hex').toUpperCase()
}

export interface GroupVersionRef {
  group: string
  version: string
  hash?: string
}

/** The GET /openapi/v3 index; each serverRelativeURL carries the document's hash so clients may cache it. */
export function openApiV3Root(groupVersions: ReadonlyArray<GroupVersionRef | string>): {
  paths: Record<string, { serverRelativeURL: string }>
} {
  const paths: Record<string, { serverRelativeURL: string }> = {}
  for (const gv of groupVersions) {
    const { group, version, hash } = typeof gv === 'string' ? parseGroupVersion(gv) : gv
    const p = groupVersionPath(group, version)
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}${hash ? `?hash=${hash}` : ''}` }
  }
  return { paths }
}

function parseGroupVersion(s: string): GroupVersionRef {
  const parts = s.split('/')
  return parts.length === 1 ? { group: '', version: parts[0]! } : { group: parts[0]!, version: parts[1]! }
}

export interface OpenApiV3Set {
  root: { paths: Record<string, { serverRelativeURL: string }> }
  /** Keyed by "api/v1" / "apis/<group>/<version>" (the path after /openapi/v3/). */
  documents: Map<string, { document: Obj; json: string; hash: string }>
}

/** Every group-version document for the given CRDs plus the built-ins, and the index pointing at them. Rebuild when a CRD changes. */
export function buildOpenApiV3(resources: readonly Obj[]): OpenApiV3Set {
  const all = allResources(resources)
  const gvs = new Map<string, GroupVersionRef>()
  for (const r of all) for (const v of r.versions) gvs.set(groupVersionPath(r.group, v.name), { group: r.group, version: v.name })
  const documents: OpenApiV3Set['documents'] = new Map()
  for (const [p, gv] of [...gvs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const document = openApiV3ForGroupVersion(resources, gv.group, gv.version)!
    const json = JSON.stringify(document)
    const hash = documentHash(json)
    gv.hash = hash
    documents.set(p, { document, json, hash })
  }
  return { root: openApiV3Root([...gvs.values()]), documents }
}

/** The Swagger 2.0 document (/openapi/v2, JSON) of every served kind. */
export function openApiV2(resources: readonly Obj[]): Obj {
  const paths: Obj = {}
  const definitions: Obj = { ...metaDefinitions(V2_REF, true) }
  for (const r of allResources(resources)) for (const v of r.versions) addResource(r, v.name, 'v2', V2_REF, paths, definitions)
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, definitions }
}
