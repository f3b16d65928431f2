// The embedded Kubernetes-compatible API server. Start with createApiServer(); it serves whatever
// CRDs are applied to it plus Namespace, ConfigMap, Secret, ServiceAccount, Event and Lease.
export { createApiServer, MAX_BODY_BYTES } from './server.ts'
export type { ApiServer, ApiServerOptions } from './server.ts'
export type { TokenEntry, Role } from './auth.ts'
export type { UserInfo } from './user.ts'
export { ApiError } from './status.ts'
export type { StatusBody, StatusReason } from './status.ts'
