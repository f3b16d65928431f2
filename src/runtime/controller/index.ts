// Controllers: the worker loop, its builder, predicates and the reconcile contract.
export { Controller } from './controller.ts'
export type { ControllerOptions } from './controller.ts'
export { ControllerBuilder } from './builder.ts'
export type { BuilderOptions, ControllerHost, SourceOptions } from './builder.ts'
export {
  and,
  annotationsChanged,
  deletionStarted,
  generationChanged,
  labelsChanged,
  matching,
  or,
  resourceVersionChanged,
} from './predicates.ts'
export type { Predicate } from './predicates.ts'
export { requestFromKey, requestKey } from './reconcile.ts'
export { TriggerChannel } from './trigger-source.ts'
export type { TriggerItem, TriggerSource } from './trigger-source.ts'
export type { ReconcileContext, ReconcileResult, Reconciler, Request } from './reconcile.ts'
