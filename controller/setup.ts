// Wires the reconcilers into a Manager: caches and indexes, event sources, the orphan collector.
import type { Logger } from 'pino'
import type { ContainerProvider, DevServer, GameServer, RuntimeCatalog } from './kinds.ts'
import {
  annotationsChanged,
  deletionStarted,
  EventRecorder,
  generationChanged,
  or,
  TriggerChannel,
  type Manager,
  type Request,
} from '../src/runtime/index.ts'
import { AgentWatches } from './agent-watch.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import { devRuntimeRefs, devServerReconciler } from './devserver.ts'
import { gameServerReconciler, runtimeRefsOf } from './gameserver.ts'
import { COMPONENT, CONTAINERPROVIDER, DEVSERVER, GAMESERVER, RUNTIMECATALOG } from './kinds.ts'
import { registerContainerProviderStatus } from './containerprovider.ts'
import { OrphanCollector } from './orphans.ts'
import { ProviderRegistry } from './provider-registry.ts'
import { runtimeCatalogReconciler } from './runtimecatalog.ts'
import { reportForbidden } from './forbidden.ts'
import { InstallBackoff } from './install-backoff.ts'
import { ControllerMetrics } from './metrics.ts'
import { realClock, type Clock } from '../src/runtime/index.ts'
import { GROUP } from '../src/api/index.ts'

export interface ControllerSettings {
  /** Where provider state lives (process provider roots, claims). */
  stateDir: string
  /** DevServer IDE host suffix (status.ide.host = dev-<vmid>.<suffix>). */
  ideSuffix: string
  /** Port browsers reach IDE hosts on, when not https's 443 (status.ide.url carries it). */
  idePublicPort?: number
  /** Concurrent reconciles per server kind (installs block a worker). Default 8. */
  concurrency?: number
  /** Followers of a channel updating at once (default 1). */
  maxUnavailable?: number
  /** Orphaned containers are deleted after this long (default 5 min). */
  orphanGraceMs?: number
  orphanIntervalMs?: number
  /** How often each ContainerProvider's status (Ready, containers) is checked again (default 30 s). */
  providerCheckIntervalMs?: number
  /** A deleted server waits this long for a vanished provider before reporting the container abandoned (default 5 min). */
  providerGoneGraceMs?: number
  controlPlaneSources?: string[]
  projectDir?: string
  logger?: Logger
  /** Time for pacing, grace periods and timestamps (default: the wall clock). */
  clock?: Clock
}

export interface ControllerHandles {
  providers: ProviderRegistry
  watches: AgentWatches[]
  recorder: EventRecorder
  orphans: OrphanCollector
  close(): Promise<void>
}

export function setupControllers(mgr: Manager, settings: ControllerSettings): ControllerHandles {
  const log = settings.logger ?? mgr.logger
  const clock = settings.clock ?? realClock
  const gsReflector = mgr.reflectorFor<GameServer>(GAMESERVER)
  const dsReflector = mgr.reflectorFor<DevServer>(DEVSERVER)
  const rcReflector = mgr.reflectorFor<RuntimeCatalog>(RUNTIMECATALOG)
  const cpReflector = mgr.reflectorFor<ContainerProvider>(CONTAINERPROVIDER)
  const gameServers = gsReflector.store
  const devServers = dsReflector.store
  gameServers.addIndexer('runtime', (gs) => runtimeRefsOf(gs).map((r) => r.name))
  devServers.addIndexer('runtime', (ds) => devRuntimeRefs(ds).map((r) => r.name))

  const recorder = new EventRecorder(mgr.client, { component: COMPONENT, logger: log })
  const providers = new ProviderRegistry(mgr.client, cpReflector.store, {
    stateDir: settings.stateDir,
    projectDir: settings.projectDir,
    controlPlaneSources: settings.controlPlaneSources,
  })
  const deps: ReconcilerDeps = {
    client: mgr.client,
    providers,
    catalogs: rcReflector.store,
    containerProviders: cpReflector.store,
    recorder,
    log,
    clock,
    providerGoneGraceMs: settings.providerGoneGraceMs ?? 5 * 60_000,
    ideSuffix: settings.ideSuffix,
    idePublicPort: settings.idePublicPort,
    installBackoff: new InstallBackoff(clock),
    metrics: new ControllerMetrics(mgr.metrics.registry),
  }
  const workers = settings.concurrency ?? 8
  const specChanges = { predicates: [or(generationChanged, deletionStarted, annotationsChanged)] }
  const toServers =
    (store: typeof gameServers | typeof devServers) =>
    (rc: RuntimeCatalog): Request[] =>
      store
        .byIndex('runtime', rc.metadata.name as string)
        .map((o) => ({ namespace: o.metadata.namespace, name: o.metadata.name as string }))
  const allOf = (store: typeof gameServers | typeof devServers) => (): Request[] =>
    store.list().map((o) => ({ namespace: o.metadata.namespace, name: o.metadata.name as string }))

  // Agent state streams wake the server's reconcile through an external trigger source.
  const gameAgentEvents = new TriggerChannel()
  const devAgentEvents = new TriggerChannel()
  const gameWatches = new AgentWatches((k) => gameAgentEvents.send(k), log.child({ controller: 'gameserver' }), clock)
  const devWatches = new AgentWatches((k) => devAgentEvents.send(k), log.child({ controller: 'devserver' }), clock)

  mgr
    .controller('gameserver')
    .for<GameServer>(GAMESERVER, specChanges)
    .reconcileOn(gameAgentEvents)
    .watches<RuntimeCatalog>(RUNTIMECATALOG, toServers(gameServers))
    .watches<ContainerProvider>(CONTAINERPROVIDER, allOf(gameServers), { predicates: [generationChanged] })
    .withOptions({ maxConcurrentReconciles: workers, reconcileTimeoutMs: 30 * 60_000 })
    .complete(
      reportForbidden(gameServerReconciler(deps, gameServers, gameWatches), {
        store: gameServers,
        recorder,
        owner: { resource: 'gameservers', apiGroup: GROUP },
        status: { client: mgr.client, kind: GAMESERVER },
      }),
    )

  mgr
    .controller('devserver')
    .for<DevServer>(DEVSERVER, specChanges)
    .reconcileOn(devAgentEvents)
    .watches<RuntimeCatalog>(RUNTIMECATALOG, toServers(devServers))
    .watches<ContainerProvider>(CONTAINERPROVIDER, allOf(devServers), { predicates: [generationChanged] })
    .withOptions({ maxConcurrentReconciles: workers, reconcileTimeoutMs: 30 * 60_000 })
    .complete(
      reportForbidden(devServerReconciler(deps, devServers, devWatches), {
        store: devServers,
        recorder,
        owner: { resource: 'devservers', apiGroup: GROUP },
        status: { client: mgr.client, kind: DEVSERVER },
      }),
    )

  const toCatalogs =
    (refsOf: (o: never) => Array<{ name: string }>) =>
    (o: unknown): Request[] =>
      [...new Set(refsOf(o as never).map((r) => r.name))].map((name) => ({ name }))
  mgr
    .controller('runtimecatalog')
    .for<RuntimeCatalog>(RUNTIMECATALOG, { predicates: [or(generationChanged, annotationsChanged)] })
    .watches(GAMESERVER, toCatalogs(runtimeRefsOf as (o: never) => Array<{ name: string }>))
    .watches(DEVSERVER, toCatalogs(devRuntimeRefs as (o: never) => Array<{ name: string }>))
    // A provider's spec.outbound bounds what verification may download: a change re-checks refused versions.
    .watches<ContainerProvider>(CONTAINERPROVIDER, () => rcReflector.store.list().map((rc) => ({ name: rc.metadata.name as string })), {
      predicates: [generationChanged],
    })
    .withOptions({ maxConcurrentReconciles: 2, reconcileTimeoutMs: 60 * 60_000 })
    .complete(
      reportForbidden(
        runtimeCatalogReconciler(
          {
            client: mgr.client,
            recorder,
            gameServers,
            devServers,
            providers: cpReflector.store,
            maxUnavailable: settings.maxUnavailable ?? 1,
            clock,
          },
          rcReflector.store,
        ),
        { store: rcReflector.store, recorder, status: { client: mgr.client, kind: RUNTIMECATALOG } },
      ),
    )

  registerContainerProviderStatus(mgr, deps, { stateDir: settings.stateDir, intervalMs: settings.providerCheckIntervalMs })

  const orphans = new OrphanCollector({
    client: mgr.client,
    providers,
    gameServers,
    devServers,
    recorder,
    log: log.child({ component: 'orphans' }),
    synced: () => gsReflector.hasSynced() && dsReflector.hasSynced() && cpReflector.hasSynced(),
    graceMs: settings.orphanGraceMs ?? 5 * 60_000,
    intervalMs: settings.orphanIntervalMs ?? 30_000,
    clock,
  })
  mgr.add(orphans)
  mgr.add({
    name: 'agent-streams',
    start: async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      gameWatches.stopAll()
      devWatches.stopAll()
    },
  })

  return {
    providers,
    watches: [gameWatches, devWatches],
    recorder,
    orphans,
    async close() {
      gameWatches.stopAll()
      devWatches.stopAll()
      await recorder.flush()
      await providers.close()
    },
  }
}
