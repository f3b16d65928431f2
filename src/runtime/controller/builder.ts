// builder: wires event sources to a controller, as controller-runtime's pkg/builder.
//
//   mgr.controller('replicator')
//     .for({ apiVersion: 'example.dev/v1', kind: 'Replication' }, { predicates: [generationChanged] })
//     .owns({ apiVersion: 'v1', kind: 'ConfigMap' })
//     .watches({ apiVersion: 'v1', kind: 'Namespace' }, (ns) => [...requests])
//     .reconcileOn(externalEvents)          // a TriggerChannel, or any async iterable of requests
//     .withOptions({ maxConcurrentReconciles: 4 })
//     .complete(reconcile)
//
// For(kind): every event on an object of that kind enqueues that object's key.
// Owns(kind): an event on an object whose *controller* ownerReference points at the For kind
//   enqueues the owner (both the old and the new owner on updates).
// Watches(kind, map): an event enqueues whatever requests `map` returns for the object.
// ReconcileOn(source): requests from outside the cluster's watches (an agent's event stream, a
//   webhook, a timer), as kube-rs `reconcile_on` / controller-runtime `WatchesRawSource`. The
//   source is consumed from the controller's start until it stops, through the same work queue
//   (deduplicated); a failing source is logged and dropped, never fatal. See trigger-source.ts.
//   Create the source before the controller (e.g. a TriggerChannel) and hand its sender to the
//   components that produce events: nothing has to be bound after complete().
// Predicates, per source, filter events first. Sources share one cache (reflector) per kind.

import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { splitApiVersion, type KindRef, type KObject } from '../client/objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'
import type { RuntimeMetrics } from '../metrics.ts'
import type { EventHandler, Reflector } from '../reflector/reflector.ts'
import type { RateLimiter } from '../workqueue/rate-limiter.ts'
import { Controller } from './controller.ts'
import type { Predicate } from './predicates.ts'
import type { Reconciler, Request } from './reconcile.ts'
import type { TriggerSource } from './trigger-source.ts'

/** What a builder needs from its manager. */
export interface ControllerHost {
  reflectorFor<T extends KObject>(kind: KindRef): Reflector<T>
  /** Resolves whether a kind is namespaced (discovery). */
  isNamespaced(kind: KindRef): Promise<boolean>
  /** Runs `hook` at start, before any cache delivers events. */
  beforeStart(hook: () => Promise<void>): void
  addController(controller: Controller): void
  readonly clock: Clock
  readonly logger: Logger
  readonly metrics: RuntimeMetrics
}

export interface SourceOptions<T extends KObject = KObject> {
  predicates?: Predicate<T>[]
}

export interface BuilderOptions {
  maxConcurrentReconciles?: number
  reconcileTimeoutMs?: number
  rateLimiter?: RateLimiter<string>
}

type MapFunc<T extends KObject> = (obj: T) => Request[]

interface Source {
  kind: KindRef
  predicates: Predicate[]
  map: (obj: KObject) => Request[]
}

export class ControllerBuilder {
  readonly #host: ControllerHost
  readonly #name: string
  #for: KindRef | undefined
  #forNamespaced: boolean | undefined
  readonly #sources: Source[] = []
  readonly #triggers: TriggerSource[] = []
  #options: BuilderOptions = {}

  constructor(host: ControllerHost, name: string) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        `controller name ${JSON.stringify(name)} must be lowercase alphanumerics, '-' or '.' (it labels metrics and logs)`,
      )
    }
    this.#host = host
    this.#name = name
  }

  /** The kind this controller reconciles; its events enqueue the object itself. */
  for<T extends KObject>(kind: KindRef, opts: SourceOptions<T> = {}): this {
    if (this.#for !== undefined)
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        `controller ${this.#name}: for() was already called; a controller reconciles one kind`,
      )
    this.#for = kind
    this.#sources.push({ kind, predicates: (opts.predicates ?? []) as Predicate[], map: (obj) => [requestOf(obj)] })
    return this
  }

  /** A kind this controller creates and controls; its events enqueue the controlling owner. */
  owns<T extends KObject>(kind: KindRef, opts: SourceOptions<T> = {}): this {
    this.#sources.push({ kind, predicates: (opts.predicates ?? []) as Predicate[], map: (obj) => this.#controllerOwner(obj) })
    return this
  }

  /** Any kind; `map` says which requests an event on one of its objects enqueues. */
  watches<T extends KObject>(kind: KindRef, map: MapFunc<T>, opts: SourceOptions<T> = {}): this {
    this.#sources.push({ kind, predicates: (opts.predicates ?? []) as Predicate[], map: map as MapFunc<KObject> })
    return this
  }

  /** Requests from outside the watches: each item of `source` enqueues that object's key. */
  reconcileOn(source: TriggerSource): this {
    const isIterable =
      typeof source === 'function' ||
      (typeof source === 'object' && source !== null && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
    if (!isIterable)
      throw new RuntimeError(
        ErrorCodes.INVALID_OPTION,
        `controller ${this.#name}: reconcileOn() takes an async iterable of requests or a function returning one`,
      )
    this.#triggers.push(source)
    return this
  }

  withOptions(opts: BuilderOptions): this {
    this.#options = { ...this.#options, ...opts }
    return this
  }

  /** Builds the controller and registers it with the manager (which starts it). */
  complete(reconciler: Reconciler): Controller {
    const forKind = this.#for
    if (forKind === undefined)
      throw new RuntimeError(ErrorCodes.INVALID_OPTION, `controller ${this.#name}: call for(kind) before complete()`)
    const host = this.#host
    const reflectors = this.#sources.map((s) => host.reflectorFor(s.kind))
    const controller = new Controller({
      name: this.#name,
      reconciler,
      maxConcurrentReconciles: this.#options.maxConcurrentReconciles,
      reconcileTimeoutMs: this.#options.reconcileTimeoutMs,
      rateLimiter: this.#options.rateLimiter,
      clock: host.clock,
      logger: host.logger,
      metrics: host.metrics,
      waitFor: reflectors.map((r) => (signal: AbortSignal) => r.waitForSync(signal)),
      triggers: [...this.#triggers],
    })
    // Owner keys depend on the owner kind's scope; know it before the first event is mapped.
    host.beforeStart(async () => {
      this.#forNamespaced = await host.isNamespaced(forKind)
    })
    this.#sources.forEach((source, i) => {
      ;(reflectors[i] as Reflector).addEventHandler(handlerFor(source, controller))
    })
    host.addController(controller)
    return controller
  }

  #controllerOwner(obj: KObject): Request[] {
    const forKind = this.#for as KindRef
    const { group } = splitApiVersion(forKind.apiVersion)
    const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true)
    if (ref === undefined || ref.kind !== forKind.kind || splitApiVersion(ref.apiVersion).group !== group) return []
    // Owners of namespaced objects live in the same namespace, unless the owner kind is cluster-scoped.
    const namespace = this.#forNamespaced === false ? undefined : obj.metadata?.namespace
    return [{ namespace, name: ref.name }]
  }
}

function requestOf(obj: KObject): Request {
  return { namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' }
}

function handlerFor(source: Source, controller: Controller): EventHandler<KObject> {
  const enqueueAll = (obj: KObject): void => {
    for (const req of source.map(obj)) controller.enqueue(req)
  }
  return {
    onAdd: (obj) => {
      if (source.predicates.every((p) => p.create?.(obj) ?? true)) enqueueAll(obj)
    },
    onUpdate: (oldObj, newObj) => {
      if (!source.predicates.every((p) => p.update?.(oldObj, newObj) ?? true)) return
      enqueueAll(oldObj)
      enqueueAll(newObj)
    },
    onDelete: (obj) => {
      if (source.predicates.every((p) => p.delete?.(obj) ?? true)) enqueueAll(obj)
    },
  }
}
