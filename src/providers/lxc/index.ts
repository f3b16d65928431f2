// The LXC backend: real containers on this host. Start with LxcBackend.
export { LxcBackend, listLxcNames } from './provider.ts'
export type { LxcBackendOptions } from './provider.ts'
export { detectCgroupLayout } from './container-config.ts'
