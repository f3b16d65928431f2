// What the server reconcilers are given: the API client, caches, provider registry, event
// recorder, clock, install pacing and settings. Made once by setup.ts; steps take what they need.
import type { Logger } from 'pino'
import type { ContainerProvider, RuntimeCatalog } from './kinds.ts'
import type { Client, Clock, EventRecorder, Store } from '../src/runtime/index.ts'
import type { InstallBackoff } from './install-backoff.ts'
import type { ControllerMetrics } from './metrics.ts'
import type { ProviderRegistry } from './provider-registry.ts'

export interface ReconcilerDeps {
  client: Client
  providers: ProviderRegistry
  catalogs: Store<RuntimeCatalog>
  containerProviders: Store<ContainerProvider>
  recorder: EventRecorder
  log: Logger
  clock: Clock
  /** How long a deleted server waits for its vanished provider before the finalizer is released (reported). */
  providerGoneGraceMs: number
  /** DevServer IDE host suffix: status.ide.host = dev-<vmid>.<suffix>. */
  ideSuffix: string
  /** Port of IDE URLs when not 443. */
  idePublicPort?: number
  installBackoff: InstallBackoff
  /** The controller's own metrics (players per GameServer), on the manager's registry. */
  metrics: ControllerMetrics
}
