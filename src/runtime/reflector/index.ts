// A cache of one kind kept current by a watcher, with indexes and change handlers.
export { Reflector, metadataOnly, stripManagedFields } from './reflector.ts'
export type { EventHandler, ReflectorOptions } from './reflector.ts'
export { Store, indexByNamespace, indexByOwner } from './store.ts'
export type { IndexFunc } from './store.ts'
