// Wire shapes of Kubernetes objects as the framework handles them: plain JSON as the API server
// sends it. Timestamps stay RFC 3339 strings (client-node's V1ObjectMeta models them as Date, which
// only its own deserializer produces); metadata is the shared metav1 shape of src/apimachinery.

import type { ObjectMeta } from '../../apimachinery/index.ts'

export type { ObjectMeta, OwnerReference } from '../../apimachinery/index.ts'

/** Any object the API serves. `spec`, `status`, `data`… are left to the caller's own type. */
export interface KObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  [field: string]: unknown
}

export interface ObjectList<T extends KObject = KObject> {
  apiVersion?: string
  kind?: string
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number }
  items: T[]
}

/** Which kind: `{ apiVersion: 'v1', kind: 'ConfigMap' }`, `{ apiVersion: 'example.dev/v1', kind: 'Replication' }`. */
export interface KindRef {
  apiVersion: string
  kind: string
}

/** A kind resolved through discovery: where it is served and whether it lives in namespaces. */
export interface Resource extends KindRef {
  group: string
  version: string
  plural: string
  namespaced: boolean
}

/** "namespace/name" or "name" for cluster-scoped objects: the work queue's key. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata?.namespace
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '')
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/')
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) }
}
