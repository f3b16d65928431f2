// The kinds the controller reconciles or reads, and the names it stamps on objects.
import type { KindRef } from '../src/runtime/index.ts'

export const GAMESERVER: KindRef = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' }
export const DEVSERVER: KindRef = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' }
export const RUNTIMECATALOG: KindRef = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'RuntimeCatalog' }
export const CONTAINERPROVIDER: KindRef = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'ContainerProvider' }
export const SECRET: KindRef = { apiVersion: 'v1', kind: 'Secret' }

/** Finalizer on GameServers and DevServers: the container is deleted before the object goes. */
export const SERVER_FINALIZER = 'zerolaghub.dev/container'
/** Field manager of every write the controller makes. */
export const FIELD_MANAGER = 'zlh-controller'
/** Event source component. */
export const COMPONENT = 'zlh-controller'
/** Annotation prefix the rollout sets on a server: rollout.zerolaghub.dev/<runtime> = version it may move to. */
export const ROLLOUT_ANNOTATION_PREFIX = 'rollout.zerolaghub.dev/'
/** Annotation on a RuntimeCatalog: how many followers of a channel may be updating at once (default 1). */
export const MAX_UNAVAILABLE_ANNOTATION = 'zerolaghub.dev/max-unavailable'
/** The catalog that supplies code-server to DevServers, and the channel they follow. */
export const CODE_SERVER_RUNTIME = 'code-server'
export const CODE_SERVER_CHANNEL = 'stable'

export function rolloutAnnotation(runtime: string): string { return `${ROLLOUT_ANNOTATION_PREFIX}${runtime}` }

// Our generated resource types, usable where the framework wants a KObject (index signature).
import type { ContainerProvider as ContainerProviderSpecd, DevServer as DevServerSpecd, GameServer as GameServerSpecd, RuntimeCatalog as RuntimeCatalogSpecd } from '../src/api/index.ts'
import type { KObject } from '../src/runtime/index.ts'
export type GameServer = GameServerSpecd & KObject
export type DevServer = DevServerSpecd & KObject
export type RuntimeCatalog = RuntimeCatalogSpecd & KObject
export type ContainerProvider = ContainerProviderSpecd & KObject
