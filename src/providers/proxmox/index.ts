// The Proxmox VE backend: start with ProxmoxBackend; PveClient is the bare API client.
export { ProxmoxBackend } from './provider.ts'
export type { ProxmoxBackendOptions } from './provider.ts'
export { PveApiError, PveClient } from './client.ts'
export type { PveClientOptions } from './client.ts'
