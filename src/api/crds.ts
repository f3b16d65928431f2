// Loads the CRDs in crds/ — the single source of truth for every schema — and indexes them by kind.

import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { JSONSchemaProps } from '../apiserver/schema/index.ts'

import { API_VERSION, VERSION } from './kinds.ts'

/** Folder holding the CRD YAML files. */
export const CRD_DIR = join(import.meta.dirname, '..', '..', 'crds')

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1'
  kind: 'CustomResourceDefinition'
  metadata: { name: string }
  spec: {
    group: string
    scope: 'Namespaced' | 'Cluster'
    names: { kind: string; listKind?: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] }
    versions: Array<{
      name: string
      served: boolean
      storage: boolean
      subresources?: { status?: object; scale?: object }
      additionalPrinterColumns?: Array<{
        name: string
        type: string
        jsonPath: string
        format?: string
        priority?: number
        description?: string
      }>
      schema: { openAPIV3Schema: JSONSchemaProps }
    }>
  }
}

let cache: CustomResourceDefinition[] | undefined

/** Every CRD in crds/, parsed, in file-name order. */
export function loadCrds(dir = CRD_DIR): CustomResourceDefinition[] {
  if (dir === CRD_DIR && cache) return cache
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as CustomResourceDefinition)
  if (dir === CRD_DIR) cache = crds
  return crds
}

/** The CRD serving `kind` in our group, or undefined. */
export function crdForKind(kind: string): CustomResourceDefinition | undefined {
  return loadCrds().find((c) => c.spec.names.kind === kind)
}

/** The openAPIV3Schema of `kind` at our version; throws for a kind we do not define. */
export function schemaForKind(kind: string): JSONSchemaProps {
  const crd = crdForKind(kind)
  const v = crd?.spec.versions.find((x) => x.name === VERSION)
  if (!v) throw new Error(`no CRD in ${CRD_DIR} defines ${API_VERSION} ${kind}`)
  return v.schema.openAPIV3Schema
}
