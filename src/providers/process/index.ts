// The process backend: directory roots + detached agent processes. Isolates nothing.
export { ProcessBackend } from './provider.ts'
export type { ProcessBackendOptions } from './provider.ts'
export { randomPortBaseBelowEphemeral } from './ports.ts'
