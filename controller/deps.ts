// What the server reconcilers share: the API client, caches, provider registry, event recorder,
// agent stream subscriptions and settings.
import type { Logger } from 'pino'
import type { ContainerProvider, RuntimeCatalog } from './kinds.ts'
import type { Client, EventRecorder, Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import type { ProviderRegistry } from './provider-registry.ts'
import type { InstallBackoff } from './workload.ts'

export interface ReconcilerDeps {
  client: Client
  providers: ProviderRegistry
  catalogs: Store<RuntimeCatalog>
  containerProviders: Store<ContainerProvider>
  recorder: EventRecorder
  log: Logger
  /** How long a deleted server waits for its vanished provider before the finalizer is released (reported). */
  providerGoneGraceMs: number
  /** DevServer IDE host suffix: status.ide.host = dev-<vmid>.<suffix>. */
  ideSuffix: string
  /** Port of IDE URLs when not 443. */
  idePublicPort?: number
  installBackoff: InstallBackoff
}

export function mergePatchOf(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next }
  for (const k of Object.keys(prev)) if (!(k in next) || next[k] === undefined) patch[k] = null
  for (const k of Object.keys(patch)) if (patch[k] === undefined) patch[k] = null
  return patch
}

export function keyOf(obj: { metadata: { namespace?: string, name?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name ?? ''
}
