// Small OS primitives every component may import (agent, controller, gateway, providers, cli, and
// the framework src/runtime), one implementation each. Imports nothing of ours. The modules:
// outbound/ (the only way this product fetches a URL someone else named), process-identity.ts
// (pid + start time from /proc), durable-file.ts (crash-safe file replacement), clock.ts (time as
// a dependency, FakeClock for tests), json-depth.ts, error-catalog.ts (the one way to define an
// error catalog). A process that must stay small (the game wrapper) imports the module it needs
// directly rather than this index.
export * from './outbound/index.ts'
export { jsonNestingDepth } from './json-depth.ts'
export {
  hasExited,
  isSameProcess,
  parseProcStat,
  processStartTime,
  readProcessStat,
  readProcessStatAsync,
  type ProcessStat,
} from './process-identity.ts'
export { PRIVATE_FILE_MODE, createFileDurable, fsyncDir, fsyncDirSync, writeFileDurable, writeFileDurableSync } from './durable-file.ts'
export { FakeClock, realBackgroundClock, realClock, sleep, type Clock, type TimerHandle } from './clock.ts'
export {
  CatalogError,
  defineErrorCatalog,
  definedErrorCatalogs,
  formatMessage,
  isCatalogError,
  mergeEntries,
  type CatalogErrorOptions,
  type ErrorCatalog,
  type ErrorCatalogSpec,
  type ErrorEntry,
  type ErrorParams,
} from './error-catalog.ts'
