// The embedded Kubernetes-compatible API server. Start with createApiServer(); it serves whatever
// CRDs are applied to it plus Namespace, ConfigMap, Secret, ServiceAccount, Event, Lease and the
// RBAC kinds, authenticates tokens.json users and ServiceAccount tokens (TokenRequest), honours
// impersonation, answers the review APIs (kubectl auth can-i / whoami) and enforces RBAC.
// It reads and answers protobuf for the built-in kinds and metadata-only (PartialObjectMetadata) for
// every resource, as client-go and kube-controller-manager ask by default; its garbage collector and
// namespace controller can be switched off (disableControllers) so a real kube-controller-manager runs them.
export { createApiServer, MAX_BODY_BYTES } from './server.ts'
export type { ApiServer, ApiServerOptions } from './server.ts'
export { parseControllerList, SWITCHABLE_CONTROLLERS, type SwitchableController } from './controllers.ts'
export type { TokenEntry, Role } from './auth.ts'
export type { UserInfo } from './user.ts'
export { ApiError } from './status.ts'
export type { StatusBody, StatusReason } from './status.ts'
