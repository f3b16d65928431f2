// Kubernetes' own wire shapes (metav1), shared by src/apiserver, src/runtime and src/api.
export type { Condition, ConditionStatus, ObjectMeta, OwnerReference } from './meta.ts'
