// manager: owns the shared caches, runs controllers and other runnables, elects a leader,
// serves probes and metrics, and shuts everything down in order.
//
// Expected flow
//  1. new Manager({ kubeConfig | client, leaderElection?, probes?, ... }); build controllers with
//     mgr.controller(name)...complete(fn); mgr.add() other runnables.
//  2. start(): probe server up; caches (one reflector per kind, shared) start at once on every
//     replica so a new leader starts warm; runnables that do not need leadership start; with
//     leader election, controllers start only once the Lease is held.
//  3. Stop (stop(), the start signal, or SIGTERM/SIGINT with handleSignals): runnables are told
//     to stop (no new reconciles; in-flight ones see their signal abort) and awaited up to
//     gracefulShutdownTimeoutMs; then the Lease is released, caches and the probe server stop.
// Guarantees
//  - With leader election, no controller of this manager reconciles unless this replica holds
//    the Lease; on losing it, controllers stop and start() rejects with RT_LEADERSHIP_LOST
//    (restart the process, as controller-runtime does).
//  - /readyz fails until every cache has synced (and the ready checks added pass).
// Caveats
//  - Runnables that ignore their signal are abandoned after the shutdown deadline (logged).

import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { AddressInfo } from 'node:net'
import { realClock, type Clock } from '../clock.ts'
import { Client } from '../client/client.ts'
import type { KindRef, KObject } from '../client/objects.ts'
import { ControllerBuilder, type ControllerHost } from '../controller/builder.ts'
import type { Controller } from '../controller/controller.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'
import { defaultLogger } from '../log.ts'
import { RuntimeMetrics } from '../metrics.ts'
import { Reflector, type ReflectorOptions } from '../reflector/reflector.ts'
import { LeaseElector, type LeaderElectionOptions } from './leader-election.ts'
import { ProbeServer, type Check } from './probes.ts'

export interface Runnable {
  name: string
  /** Default true: only run on the leader. */
  needLeaderElection?: boolean
  /** Runs until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>
}

export interface ManagerOptions {
  kubeConfig?: KubeConfig
  client?: Client
  leaderElection?: LeaderElectionOptions
  /** Serve /healthz, /readyz, /metrics here (port 0 = any free port). Omit to serve nothing. */
  probes?: { host?: string; port?: number; metricsToken?: string }
  gracefulShutdownTimeoutMs?: number
  /** Defaults for every cache (transform, page size, watch timeout, backoff, resync). */
  cache?: ReflectorOptions<KObject>
  /** Stop on SIGTERM/SIGINT. */
  handleSignals?: boolean
  clock?: Clock
  logger?: Logger
  metrics?: RuntimeMetrics
}

export class Manager implements ControllerHost {
  readonly client: Client
  readonly clock: Clock
  readonly logger: Logger
  readonly metrics: RuntimeMetrics
  readonly elector: LeaseElector | undefined
  readonly #opts: ManagerOptions
  readonly #reflectors = new Map<string, Reflector<KObject>>()
  readonly #runnables: Runnable[] = []
  readonly #beforeStart: Array<() => Promise<void>> = []
  readonly #healthChecks = new Map<string, Check>([['ping', () => true]])
  readonly #readyChecks = new Map<string, Check>()
  readonly #stop = new AbortController()
  readonly #cacheStop = new AbortController()
  #probeServer: ProbeServer | undefined
  #probeAddress: AddressInfo | undefined
  #started = false
  #cacheRuns: Promise<void>[] = []

  constructor(opts: ManagerOptions) {
    if (opts.client === undefined && opts.kubeConfig === undefined) {
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        'a Manager needs kubeConfig or client (load one with new KubeConfig().loadFromDefault())',
      )
    }
    this.#opts = opts
    this.client = opts.client ?? new Client(opts.kubeConfig as KubeConfig)
    this.clock = opts.clock ?? realClock
    this.logger = opts.logger ?? defaultLogger()
    this.metrics = opts.metrics ?? new RuntimeMetrics({ processMetrics: true })
    this.elector = opts.leaderElection
      ? new LeaseElector(this.client, opts.leaderElection, { clock: this.clock, logger: this.logger })
      : undefined
    if (this.elector !== undefined) this.metrics.leaderElectionMasterStatus.set({ name: opts.leaderElection?.leaseName as string }, 0)
    this.#readyChecks.set('informer-sync', () => [...this.#reflectors.values()].every((r) => r.hasSynced()))
  }

  /** Starts building a controller named `name` (labels its metrics and logs). */
  controller(name: string): ControllerBuilder {
    return new ControllerBuilder(this, name)
  }

  addController(controller: Controller): void {
    this.add({ name: `controller/${controller.name}`, start: (signal) => controller.start(signal) })
  }

  add(runnable: Runnable): void {
    if (this.#started)
      throw new RuntimeError(
        ErrorCodes.ALREADY_STARTED,
        `cannot add ${runnable.name}: the manager has started; add runnables before start()`,
      )
    this.#runnables.push(runnable)
  }

  beforeStart(hook: () => Promise<void>): void {
    if (this.#started) throw new RuntimeError(ErrorCodes.ALREADY_STARTED, 'the manager has started; build controllers before start()')
    this.#beforeStart.push(hook)
  }

  addHealthCheck(name: string, check: Check): void {
    this.#healthChecks.set(name, check)
  }
  addReadyCheck(name: string, check: Check): void {
    this.#readyChecks.set(name, check)
  }

  /**
   * The shared cache of `kind`, created on first use (with `opts` over the manager's cache
   * defaults, e.g. `{ transform: metadataOnly }` for a large kind) and started with the manager.
   * Call it before building controllers to choose a kind's options; later calls share that cache.
   */
  reflectorFor<T extends KObject>(kind: KindRef, opts: ReflectorOptions<T> = {}): Reflector<T> {
    const key = `${kind.apiVersion}/${kind.kind}`
    let r = this.#reflectors.get(key)
    if (r === undefined) {
      r = new Reflector<KObject>(this.client, kind, {
        clock: this.clock,
        ...this.#opts.cache,
        ...(opts as unknown as ReflectorOptions<KObject>),
        onError: (err, action) => this.logger.warn({ err, kind: key, action }, 'cache watch restarting'),
      })
      this.#reflectors.set(key, r)
      if (this.#started) this.#runCache(r)
    }
    return r as unknown as Reflector<T>
  }

  async isNamespaced(kind: KindRef): Promise<boolean> {
    return (await this.client.resource(kind)).namespaced
  }

  /** Where probes/metrics are served (after start). */
  get probeAddress(): AddressInfo | undefined {
    return this.#probeAddress
  }

  /** Asks the manager to stop; start() resolves once shutdown has finished. */
  stop(): void {
    this.#stop.abort(new Error('manager stopped'))
  }

  /** Runs until stop(), `signal` aborts, or (with handleSignals) SIGTERM/SIGINT. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#started) throw new RuntimeError(ErrorCodes.ALREADY_STARTED, 'this manager was already started; create a new one')
    this.#started = true
    const stopSignal = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal
    const onSignal = (sig: NodeJS.Signals): void => {
      this.logger.info({ signal: sig }, 'shutting down')
      this.stop()
    }
    if (this.#opts.handleSignals) {
      process.once('SIGTERM', onSignal)
      process.once('SIGINT', onSignal)
    }
    let failure: unknown
    const runs: Promise<void>[] = []
    const run = (r: Runnable, s: AbortSignal): void => {
      runs.push(
        r.start(s).catch((err: unknown) => {
          if (s.aborted) return
          this.logger.error({ err, runnable: r.name }, 'runnable failed; stopping the manager')
          failure ??= err
          this.stop()
        }),
      )
    }
    try {
      if (this.#opts.probes !== undefined) {
        this.#probeServer = new ProbeServer({
          ...this.#opts.probes,
          registry: this.metrics.registry,
          healthChecks: this.#healthChecks,
          readyChecks: this.#readyChecks,
        })
        this.#probeAddress = await this.#probeServer.start()
        this.logger.info({ address: this.#probeAddress }, 'serving /healthz /readyz /metrics')
      }
      for (const hook of this.#beforeStart) await hook()
      for (const r of this.#reflectors.values()) this.#runCache(r)
      for (const r of this.#runnables) if (r.needLeaderElection === false) run(r, stopSignal)
      const leaderRunnables = this.#runnables.filter((r) => r.needLeaderElection !== false)
      if (this.elector === undefined) {
        for (const r of leaderRunnables) run(r, stopSignal)
        await waitAbort(stopSignal)
      } else {
        const name = this.#opts.leaderElection?.leaseName as string
        await this.elector.run(stopSignal, {
          onStartedLeading: (leading) => {
            this.metrics.leaderElectionMasterStatus.set({ name }, 1)
            for (const r of leaderRunnables) run(r, leading)
          },
          onStoppedLeading: () => {
            this.metrics.leaderElectionMasterStatus.set({ name }, 0)
          },
        })
        if (!stopSignal.aborted) {
          failure ??= new RuntimeError(ErrorCodes.LEADERSHIP_LOST, `lost the leader lease ${name}; restart to campaign again`)
          this.stop()
        }
      }
    } catch (err) {
      failure ??= err
      this.stop()
    } finally {
      await this.#shutdown(runs)
      if (this.#opts.handleSignals) {
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
      }
    }
    if (failure !== undefined) throw failure
  }

  #runCache(r: Reflector<KObject>): void {
    this.#cacheRuns.push(
      r.run(this.#cacheStop.signal).catch((err: unknown) => {
        this.logger.error({ err, kind: `${r.kind.apiVersion}/${r.kind.kind}` }, 'cache stopped unexpectedly')
      }),
    )
  }

  async #shutdown(runs: Promise<void>[]): Promise<void> {
    const deadline = this.#opts.gracefulShutdownTimeoutMs ?? 30_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadline)
    })
    const outcome = await Promise.race([Promise.all(runs).then(() => 'done' as const), timedOut])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      this.logger.error(
        { code: ErrorCodes.SHUTDOWN_TIMEOUT, deadlineMs: deadline },
        'runnables did not stop within the graceful shutdown deadline; abandoning them',
      )
    }
    if (this.elector !== undefined) await this.elector.release()
    this.#cacheStop.abort()
    await Promise.all(this.#cacheRuns)
    await this.#probeServer?.stop()
    this.client.close()
    this.logger.info('manager stopped')
  }
}

function waitAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
