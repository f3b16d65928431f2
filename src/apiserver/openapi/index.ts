// OpenAPI v3 (per group-version, with an index) and v2 documents built from CRD schemas and the
// built-in kinds, as kube-apiserver serves them for `kubectl explain` and kubectl's validation probes.
// Start with buildOpenApiV3(crds) and serve .root and .documents.
export { buildOpenApiV3, openApiV3Root, openApiV3ForGroupVersion, openApiV2, documentHash } from './documents.ts'
export type { OpenApiV3Set, GroupVersionRef } from './documents.ts'
export { BUILTIN_RESOURCES, builtinSchema } from './builtins.ts'
export { resourceFromCrd, definitionName, groupVersionPath } from './resources.ts'
export type { OpenApiResource, OpenApiVersion } from './resources.ts'
