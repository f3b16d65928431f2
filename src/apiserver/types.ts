// Wire shapes shared by the API server's modules: objects are plain JSON (unstructured), like
// kube-apiserver's handling of custom resources.

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string | null
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  finalizers?: string[]
  ownerReferences?: OwnerReference[]
  managedFields?: unknown[]
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

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
