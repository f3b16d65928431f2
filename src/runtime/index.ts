// The reconciler framework: a generic controller toolkit for Kubernetes APIs.
//
// Where to start: create a Manager, build a controller with
//   mgr.controller('name').for(kind).owns(kind).complete(async (req, ctx) => { ... })
// and `await mgr.start()`. examples/configmap-replicator is a whole operator in ~50 lines.
//
// Every layer is usable on its own, bottom up:
//   workqueue/   deduplicating, rate-limited queue (client-go semantics)
//   watcher/     list + watch as one self-healing event stream
//   reflector/   a cache (Store with indexes) kept current by a watcher, with change handlers
//   controller/  worker loop, builder, predicates, the reconcile contract
//   manager/     runs it all: shared caches, Lease leader election, probes, metrics, shutdown
//   finalizer, conditions, status, apply, owner-refs, events/: what reconcilers call
//   envtest/     an in-process API server for tests
export { Manager } from './manager/manager.ts'
export type { ManagerOptions, Runnable } from './manager/manager.ts'
export { LeaseElector, microTime } from './manager/leader-election.ts'
export type { LeaderElectionOptions } from './manager/leader-election.ts'
export { Controller, ControllerBuilder, TriggerChannel } from './controller/index.ts'
export {
  and,
  annotationsChanged,
  deletionStarted,
  generationChanged,
  labelsChanged,
  matching,
  or,
  resourceVersionChanged,
} from './controller/index.ts'
export type { Predicate, ReconcileContext, ReconcileResult, Reconciler, Request, TriggerSource } from './controller/index.ts'
export { Client, PatchType, ApiError, isConflict, isGone, isNotFound, objectKey } from './client/index.ts'
export type { KObject, KindRef, ObjectMeta, OwnerReference } from './client/index.ts'
export { Reflector, Store, metadataOnly, stripManagedFields } from './reflector/index.ts'
export { watcher } from './watcher/index.ts'
export type { WatcherEvent } from './watcher/index.ts'
export { RateLimitingQueue, WorkQueue, defaultControllerRateLimiter } from './workqueue/index.ts'
export { finalizer } from './finalizer.ts'
export type { FinalizerEvent } from './finalizer.ts'
export { findCondition, isConditionTrue, isConditionTrueFor, removeCondition, setCondition } from './conditions.ts'
export type { Condition, ConditionInput } from './conditions.ts'
export { patchStatus, updateStatus } from './status.ts'
export { serverSideApply } from './apply.ts'
export { controllerReference, getControllerOf, isOwnedBy, setControllerReference } from './owner-refs.ts'
export { EventRecorder } from './events/index.ts'
export { RuntimeMetrics } from './metrics.ts'
export { FakeClock, realClock } from './clock.ts'
export type { Clock } from './clock.ts'
export { ErrorCodes, RuntimeError, TerminalError } from './errors.ts'
