// The Kubernetes kinds the gateway reads and writes, and the field manager it writes under.
// Our own kinds are defined in src/api (GAMESERVER, DEVSERVER, RUNTIMECATALOG).
import type { KindRef } from '../../runtime/index.ts'
import { DEVSERVER, GAMESERVER } from '../../api/index.ts'

export const SECRET: KindRef = { apiVersion: 'v1', kind: 'Secret' }
export const NAMESPACE: KindRef = { apiVersion: 'v1', kind: 'Namespace' }
export const ROLE_BINDING: KindRef = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' }
export const SELF_SUBJECT_REVIEW: KindRef = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }

/** Field manager of every write the portal API makes (server-side apply). */
export const PORTAL_FIELD_MANAGER = 'zlh-portal'
/** Field manager of the gateway's own bookkeeping writes (signing key, API tokens). */
export const GATEWAY_FIELD_MANAGER = 'zlh-gateway'

export type ServerKind = 'GameServer' | 'DevServer'
export const kindRefOf = (k: ServerKind): KindRef => (k === 'GameServer' ? GAMESERVER : DEVSERVER)
