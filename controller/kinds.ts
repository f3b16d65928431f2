// The kinds the controller reconciles or reads, and the names it stamps on objects. The names
// other components share (kinds, finalizer, annotations, the code-server catalog) are defined in
// src/api and re-exported here; what only the controller writes (field manager, Event source) is here.
import type { KindRef } from '../src/runtime/index.ts'

export {
  CODE_SERVER_CHANNEL,
  CODE_SERVER_RUNTIME,
  CONTAINERPROVIDER,
  DEVSERVER,
  GAMESERVER,
  MAX_UNAVAILABLE_ANNOTATION,
  ROLLOUT_ANNOTATION_PREFIX,
  RUNTIMECATALOG,
  SERVER_FINALIZER,
  rolloutAnnotation,
} from '../src/api/index.ts'
export const SECRET: KindRef = { apiVersion: 'v1', kind: 'Secret' }

/** Field manager of every write the controller makes. */
export const FIELD_MANAGER = 'zlh-controller'
/** Event source component. */
export const COMPONENT = 'zlh-controller'

// Our generated resource types, usable where the framework wants a KObject (index signature).
import type {
  ContainerProvider as ContainerProviderSpecd,
  DevServer as DevServerSpecd,
  GameServer as GameServerSpecd,
  RuntimeCatalog as RuntimeCatalogSpecd,
} from '../src/api/index.ts'
import type { KObject } from '../src/runtime/index.ts'
export type GameServer = GameServerSpecd & KObject
export type DevServer = DevServerSpecd & KObject
export type RuntimeCatalog = RuntimeCatalogSpecd & KObject
export type ContainerProvider = ContainerProviderSpecd & KObject
