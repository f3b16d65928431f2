// metav1.ObjectMeta, OwnerReference and Condition as they travel on the wire, the one definition
// the API server, the reconciler framework and our resource types share (as k8s.io/apimachinery is
// for Kubernetes). Plain JSON: timestamps stay RFC 3339 strings; `creationTimestamp` is null where
// Kubernetes serializes a zero time (kubectl's client-side output, discovery documents).
// Generic: knows no ZeroLagHub kind, imports nothing.

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
}

export type ConditionStatus = 'True' | 'False' | 'Unknown'

/** metav1.Condition: one per type in a status' `conditions` list. */
export interface Condition {
  type: string
  status: ConditionStatus
  reason: string
  message: string
  lastTransitionTime: string
  observedGeneration?: number
}
