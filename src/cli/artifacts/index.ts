// Artifacts for clusters and for the all-in-one start: builders of real runtime tarballs (the node
// runtime, the flying-squid game package, any operator tree whose root holds bin/), the index file
// of a build directory, the artifact server (GET/HEAD, authenticated PUT uploads), RuntimeCatalogs
// naming them, and the `zlh artifacts build|publish|serve` commands. Start with command.ts.
export {
  buildFlyingSquidPackage,
  buildNodeRuntime,
  dependencyClosure,
  fileDigest,
  flyingSquidVersion,
  packTree,
  pinnedNodeVersion,
  treeProblem,
  FLYING_SQUID_GAME_VERSION,
  RUNTIME_NAME,
  RUNTIME_VERSION,
  TreeRefusedError,
} from './build.ts'
export type { BuiltArtifact } from './build.ts'
export { startArtifactServer } from './server.ts'
export type { ArtifactServer, ArtifactServerOptions } from './server.ts'
export { artifactFileName, defaultVerify, runtimeCatalog } from './catalog.ts'
export type { CatalogVersionInput } from './catalog.ts'
export { catalogsFor, compareVersions } from './catalog.ts'
export type { PublishedArtifact } from './catalog.ts'
export { buildDirectory, parseOnly, parsePackSpec, treeFingerprint, BUILTIN_RUNTIMES, DEFAULT_BUILTINS } from './build-dir.ts'
export { readIndex, writeIndex, INDEX_FILE } from './index-file.ts'
export type { IndexEntry } from './index-file.ts'
export { allowSource, normalizeBaseUrl, publish, FIELD_MANAGER as ARTIFACTS_FIELD_MANAGER } from './publish.ts'
export { DEFAULT_MAX_UPLOAD_BYTES } from './server.ts'
