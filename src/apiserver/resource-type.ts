// What the server knows about one served resource (group + plural): its names, scope, versions
// with their schemas and printer columns, and the per-kind rules kube-apiserver applies to it.

import type { JSONSchemaProps, FieldError } from './schema/index.ts'
import { builtinSchema } from './openapi/index.ts'
import type { KObject } from './types.ts'

export interface PrinterColumn {
  name: string
  type: string
  jsonPath: string
  format?: string
  priority?: number
  description?: string
}

export interface ResourceVersionInfo {
  name: string
  schema?: JSONSchemaProps
  columns: PrinterColumn[]
  statusSubresource: boolean
  /** Field paths a field selector may name besides metadata.name/namespace (CRD selectableFields). */
  selectableFields: string[]
}

export interface ResourceType {
  group: string
  resource: string
  kind: string
  listKind: string
  singular: string
  namespaced: boolean
  shortNames: string[]
  categories: string[]
  /** Served versions, preferred (storage) version first. */
  versions: ResourceVersionInfo[]
  /** "resource.group": the storage key prefix. */
  gr: string
  builtin: boolean
  /** Whether metadata.generation counts spec changes (CRs, CRDs) or is not kept (ConfigMap, ...). */
  tracksGeneration: boolean
  /**
   * An immediate delete answers with the deleted object (kube's registries with ReturnDeletedObject:
   * ServiceAccount, Pod, Namespace...) rather than a success Status (custom resources, ConfigMap, Secret,
   * RBAC kinds...). A delete left pending on finalizers always answers with the object.
   */
  deleteReturnsObject: boolean
  /** PUT without metadata.resourceVersion is allowed (built-ins) or refused (CRs). */
  allowUnconditionalUpdate: boolean
  /** "Namespace" names must be DNS labels; RBAC kinds' path segments (kube's ValidateRBACName); others DNS subdomains. */
  nameRule: 'dns-subdomain' | 'dns-label' | 'path-segment'
  /** Selector field → getter, beyond metadata.name and metadata.namespace. */
  fieldGetters: Record<string, (o: KObject) => unknown>
  /** Kind-specific normalization before validation (e.g. Secret stringData → data). */
  normalize?: (obj: KObject, old: KObject | undefined) => void
  /** Kind-specific checks after schema validation. */
  validate?: (obj: KObject, old: KObject | undefined) => FieldError[]
}

export function versionInfo(t: ResourceType, version: string): ResourceVersionInfo | undefined {
  return t.versions.find((v) => v.name === version)
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version
}

/** Reads a dotted field path ("spec.nodeName") out of an object. */
export function readPath(o: unknown, path: string): unknown {
  let cur: unknown = o
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[seg]
  }
  return cur
}

/** The schema field ownership (managedFields, apply) follows: kube's own for built-ins (list types, map keys). */
export function ownershipSchema(t: ResourceType, v: ResourceVersionInfo): JSONSchemaProps | undefined {
  return (t.builtin ? builtinSchema(t.group, v.name, t.kind) : undefined) ?? v.schema
}
