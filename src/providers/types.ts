// The one interface the controller drives containers through, whatever the backend (process, lxc,
// proxmox). The controller knows owner uids and desired state; a backend knows vmids and how to
// make the world match.
//
// Guarantees every backend gives:
// - Every call is idempotent: repeating it after success is a no-op with the same result, and
//   repeating it after a crash at any point (the provider object thrown away mid-call) converges.
// - A container is identified by the uid of the resource that owns it (`ownerUid`), stored on the
//   container itself (a tag / marker file), so a restarted controller finds it again and nothing
//   is adopted or deleted by mistake: an operation naming a vmid whose owner tag differs fails with
//   `Conflict` and touches nothing.
// - Operations on one container are serialized inside a provider object; across processes the
//   backend's own atomic primitives (PVE config locks, exclusive file creation) decide.
// - Errors are `ProviderError`s with a stable code from errors.ts; `retryable` says whether the
//   controller should requeue with backoff.
// - `ensure` never starts a container and `start` does not wait for the agent: the controller
//   polls `probeAgent` (agent-probe.ts) so a reconcile never blocks on a booting container.

/** Which backend a provider drives. */
export type ProviderType = 'process' | 'lxc' | 'proxmox'

/** The resource a container belongs to. `ownerUid` is the resource's metadata.uid. */
export interface ContainerIdentity {
  ownerUid: string
  kind: 'GameServer' | 'DevServer'
  namespace: string
  name: string
}

/** Container size, as in the GameServer/DevServer `spec.resources`. */
export interface ContainerResources {
  cores: number
  memoryMiB: number
  diskGiB: number
}

/**
 * What the agent inside the container needs. The token is per container, random, generated and
 * stored (as a Secret) by the controller; a provider delivers it into that container only
 * (docs/agent-token-delivery.md) and never logs it.
 */
export interface AgentSettings {
  token: string
  /** code-server's port, opened to the control plane only where the backend has a firewall.
   * (The agent's own port is a provider setting: every container of a provider uses the same.) */
  codeServerPort?: number
}

export interface ContainerSpec {
  identity: ContainerIdentity
  resources: ContainerResources
  agent: AgentSettings
}

/** Names one container: by owner, plus the vmid when the caller knows it (from status). */
export interface ContainerRef {
  ownerUid: string
  vmid?: number
}

export type ContainerState = 'running' | 'stopped' | 'transitioning'

/** What a provider observed about one container. */
export interface Container {
  provider: ProviderType
  vmid: number
  ownerUid: string
  /** Absent when the backend has no record of it (e.g. a CT created by hand with our tag). */
  identity?: ContainerIdentity
  state: ContainerState
  /** Address the control plane reaches the container at, when known. */
  address?: string
  /** Base URL of the agent's HTTP API, when the address is known. */
  agentUrl?: string
  /** host:port the container's code-server listens on, when it is not `<address>:CODE_SERVER_PORT` (src/api, 6000)
   * (process: a loopback port per container). */
  codeServerAddress?: string
  resources: ContainerResources
  /** Proxmox node or host the container lives on. */
  node?: string
}

export interface StopOptions {
  /** Seconds to wait for a graceful shutdown before forcing it. Default 30. */
  timeoutSeconds?: number
}

/**
 * A container backend.
 *
 * Expected flow for a server resource:
 * 1. `ensure(spec)` → the container exists, sized, tagged, credentials delivered (stopped or as it was).
 * 2. `start(ref)` → running; then poll `probeAgent(container.agentUrl, token)` until it answers.
 * 3. `stop(ref)` / `start(ref)` as `spec.running` says.
 * 4. `delete(ref)` when the resource is deleted (from its finalizer); a missing container is success.
 * 5. Periodically `list()`: containers whose owner uid names no live resource are orphans.
 */
export interface ContainerBackend {
  readonly type: ProviderType
  /** Creates the container if the owner has none; returns it. Never starts it. */
  ensure(spec: ContainerSpec): Promise<Container>
  /** Running afterwards. `NotFound` when the owner has no container. */
  start(ref: ContainerRef): Promise<Container>
  /** Stopped afterwards: graceful shutdown, forced after the timeout. `NotFound` when missing. */
  stop(ref: ContainerRef, options?: StopOptions): Promise<Container>
  /** Gone afterwards; a container that does not exist is success. */
  delete(ref: ContainerRef): Promise<void>
  /** The container as it is now, or undefined when the owner has none. */
  observe(ref: ContainerRef): Promise<Container | undefined>
  /** Every container carrying this control plane's owner tag, whatever resource it names. */
  list(): Promise<Container[]>
  /** (Re)delivers the agent's token and settings into this container only (token rotation). */
  deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void>
  /** Releases sockets/timers; containers keep running. */
  close(): Promise<void>
}
