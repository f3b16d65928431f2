// Container providers: one interface (ContainerBackend) over process, lxc and proxmox.
// Start with createProvider(containerProviderResource, context) and the ContainerBackend methods;
// poll probeAgent after start. Token delivery: docs/agent-token-delivery.md.
export type {
  AgentSettings,
  Container,
  ContainerBackend,
  ContainerIdentity,
  ContainerRef,
  ContainerResources,
  ContainerSpec,
  ContainerState,
  ProviderType,
  StopOptions,
} from './types.ts'
export { ProviderError, providerErrors, isProviderError } from './errors.ts'
export type { ProviderErrorCode, ProviderErrorDetails } from './errors.ts'
export { createProvider, processRootDir } from './factory.ts'
export type { ProviderContext } from './factory.ts'
export { probeAgent, waitForAgent } from './agent-probe.ts'
export type { AgentProbeResult } from './agent-probe.ts'
export { ProcessBackend, randomPortBaseBelowEphemeral } from './process/index.ts'
export { LxcBackend } from './lxc/index.ts'
export { ProxmoxBackend } from './proxmox/index.ts'
