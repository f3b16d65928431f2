// Real artifacts built from this checkout (node runtime, flying-squid package, code-server
// stand-in), a loopback server for them and RuntimeCatalogs naming them. Used by the e2e tests,
// the benchmark and the all-in-one start.
export { buildCodeServerStandIn, buildFlyingSquidPackage, buildNodeRuntime, dependencyClosure, fileDigest, pinnedNodeVersion, FLYING_SQUID_GAME_VERSION } from './build.ts'
export type { BuiltArtifact } from './build.ts'
export { startArtifactServer } from './server.ts'
export type { ArtifactServer } from './server.ts'
export { artifactFileName, defaultVerify, runtimeCatalog } from './catalog.ts'
export type { CatalogVersionInput } from './catalog.ts'
