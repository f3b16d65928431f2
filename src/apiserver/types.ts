// Wire shapes shared by the API server's modules: objects are plain JSON (unstructured), like
// kube-apiserver's handling of custom resources.

import type { ObjectMeta as MetaV1ObjectMeta } from '../apimachinery/index.ts'

export type { OwnerReference } from '../apimachinery/index.ts'

/** metav1.ObjectMeta (src/apimachinery), unstructured: fields this server does not know are kept. */
export interface ObjectMeta extends MetaV1ObjectMeta {
  [k: string]: unknown
}

export interface KObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [k: string]: unknown
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** `resource.group` as kube names storage: "configmaps", "gameservers.zerolaghub.dev". */
export function groupResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource
}

/** A decoded JSON object read field by field before (or instead of) a typed view: request
 * bodies, stored objects, schemas and OpenAPI documents. */
// biome-ignore lint/suspicious/noExplicitAny: fields are read at any depth; the checks around each read narrow them
export type JsonObject = Record<string, any>

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
