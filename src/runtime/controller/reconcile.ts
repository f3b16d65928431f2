// What a reconciler receives and returns. Like controller-runtime's reconcile.Request, a request
// holds only the object's key — never the event that caused it: reconciliation is level-based by
// construction (read the world, make it right), so missed or merged events cannot matter.

import type { Logger } from 'pino'

export interface Request {
  name: string
  /** Empty/undefined for cluster-scoped objects. */
  namespace?: string
}

/**
 * - return nothing (or `{}`): done; the key's backoff is reset.
 * - `{ requeueAfter: ms }`: done for now; reconcile again after ms (e.g. to poll something
 *   outside the cluster). Replaces controller-runtime's deprecated `Requeue: true`, whose
 *   immediate-but-rate-limited retry hid errors; throw instead.
 * - throw / reject: the request is retried with per-key exponential backoff, unless the error
 *   is a TerminalError (then it is logged and counted, and not retried).
 */
export type ReconcileResult = { requeueAfter?: number } | void | undefined

export interface ReconcileContext {
  /** Aborted at the per-reconcile timeout and on shutdown; pass it to API calls. */
  signal: AbortSignal
  /** Carries controller, namespace, name and reconcileID. */
  log: Logger
  reconcileID: string
}

export type Reconciler = (req: Request, ctx: ReconcileContext) => Promise<ReconcileResult> | ReconcileResult

export function requestKey(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name
}

export function requestFromKey(key: string): Request {
  const i = key.indexOf('/')
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) }
}
