// What an OpenAPI document needs to know about a served resource, from a CRD object or from the
// built-in kinds. The shape is a subset of the API server's own resource type, so its registry
// can be passed as is.

import type { JSONSchemaProps } from '../schema/index.ts'
import type { JsonObject } from '../types.ts'

export interface OpenApiVersion {
  name: string
  schema?: JSONSchemaProps
  statusSubresource?: boolean
  /** The CRD's scale subresource, if any (served as autoscaling/v1 Scale). */
  scaleSubresource?: boolean
}

export interface OpenApiResource {
  group: string
  kind: string
  listKind?: string
  /** The plural resource name, e.g. "gameservers". */
  resource: string
  namespaced: boolean
  versions: OpenApiVersion[]
  /** Built-in kinds accept strategic merge patch; custom resources do not. */
  builtin?: boolean
}

type Obj = JsonObject

/** A CustomResourceDefinition (apiextensions.k8s.io/v1) as the resource it serves; only served versions count. */
export function resourceFromCrd(crd: Obj): OpenApiResource {
  const spec = crd?.spec ?? {}
  const names = spec.names ?? {}
  return {
    group: String(spec.group ?? ''),
    kind: String(names.kind ?? ''),
    listKind: names.listKind ?? `${names.kind}List`,
    resource: String(names.plural ?? ''),
    namespaced: spec.scope !== 'Cluster',
    builtin: false,
    versions: (spec.versions ?? [])
      .filter((v: Obj) => v.served !== false)
      .map((v: Obj) => ({
        name: String(v.name),
        schema: v.schema?.openAPIV3Schema,
        statusSubresource: v.subresources?.status !== undefined && v.subresources?.status !== null,
        scaleSubresource: v.subresources?.scale !== undefined && v.subresources?.scale !== null,
      })),
  }
}

/** Accepts CRD objects and resource descriptions alike. */
export function toResource(x: Obj): OpenApiResource {
  return x && x.kind === 'CustomResourceDefinition' && x.spec ? resourceFromCrd(x) : (x as OpenApiResource)
}

/** "zerolaghub.dev" → "dev.zerolaghub"; core ("") → "io.k8s.api.core" style names are used for built-ins. */
export function definitionName(group: string, version: string, kind: string): string {
  const BUILTIN_PACKAGES: Record<string, string> = {
    '': 'io.k8s.api.core',
    'events.k8s.io': 'io.k8s.api.events',
    'coordination.k8s.io': 'io.k8s.api.coordination',
    'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
    autoscaling: 'io.k8s.api.autoscaling',
  }
  const prefix = BUILTIN_PACKAGES[group] ?? group.split('.').reverse().join('.')
  return `${prefix}.${version}.${kind}`
}

/** "api/v1" for the core group, "apis/<group>/<version>" otherwise: the keys of /openapi/v3. */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`
}
