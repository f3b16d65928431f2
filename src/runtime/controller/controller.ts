// controller: the worker loop. Takes keys off a rate-limited work queue and calls the
// reconciler, at most `maxConcurrentReconciles` at a time, never two for the same key.
//
// Expected flow
//  1. Event sources (see builder.ts) enqueue keys; start() consumes the external trigger sources
//     (trigger-source.ts) and waits for the caches to sync.
//  2. N workers each: key = get(); reconcile with a timeout signal; act on the outcome; done(key).
//  3. When the start signal aborts, the queue stops handing out keys; start() resolves after
//     in-flight reconciles finish (their signals are aborted so they can hurry).
// Guarantees
//  - One key is never reconciled twice concurrently (queue guarantee), whatever the concurrency.
//  - Outcome → action, as controller-runtime:
//      success           → forget backoff;              reconcile_total{result="success"}
//      {requeueAfter: d} → forget backoff, add after d; reconcile_total{result="requeue_after"}
//      throw/reject      → add rate-limited (backoff);  reconcile_total{result="error"}, errors_total
//      TerminalError     → forget, no retry;            the above + terminal_reconcile_errors_total
//  - A synchronous throw, a rejected promise or a non-Error throw never escapes: it is logged
//    with controller/namespace/name/reconcileID and retried.
// Assumptions
//  - The reconciler honours ctx.signal; one that ignores it keeps its worker until it returns.

import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { realClock, type Clock } from '../clock.ts'
import { ErrorCodes, RuntimeError, isTerminalError } from '../errors.ts'
import { silentLogger } from '../log.ts'
import type { RuntimeMetrics } from '../metrics.ts'
import { RateLimitingQueue } from '../workqueue/rate-limiting-queue.ts'
import { defaultControllerRateLimiter, type RateLimiter } from '../workqueue/rate-limiter.ts'
import { requestFromKey, requestKey, type Reconciler, type ReconcileResult, type Request } from './reconcile.ts'
import { runTriggerSource, type TriggerSource } from './trigger-source.ts'

export interface ControllerOptions {
  name: string
  reconciler: Reconciler
  /** Workers (default 1). */
  maxConcurrentReconciles?: number
  /** Aborts ctx.signal after this many ms (default: none). */
  reconcileTimeoutMs?: number
  rateLimiter?: RateLimiter<string>
  clock?: Clock
  logger?: Logger
  metrics?: RuntimeMetrics
  /** Awaited before workers start, e.g. caches syncing. */
  waitFor?: Array<(signal: AbortSignal) => Promise<void>>
  /** Requests from outside the watches (kube-rs reconcile_on); consumed from start() until it stops. */
  triggers?: TriggerSource[]
}

export class Controller {
  readonly name: string
  readonly queue: RateLimitingQueue<string>
  readonly #opts: ControllerOptions
  readonly #clock: Clock
  readonly #log: Logger
  readonly #workers: number
  #started = false

  constructor(opts: ControllerOptions) {
    const workers = opts.maxConcurrentReconciles ?? 1
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RuntimeError(ErrorCodes.INVALID_OPTION, `maxConcurrentReconciles must be an integer >= 1, got ${workers}`)
    }
    this.name = opts.name
    this.#opts = opts
    this.#workers = workers
    this.#clock = opts.clock ?? realClock
    this.#log = (opts.logger ?? silentLogger()).child({ controller: opts.name })
    this.queue = new RateLimitingQueue<string>({
      clock: this.#clock,
      rateLimiter: opts.rateLimiter ?? defaultControllerRateLimiter<string>({ clock: this.#clock }),
      metrics: opts.metrics?.queueMetrics(opts.name),
    })
    opts.metrics?.initController(opts.name, workers)
  }

  /** Asks for a reconcile of `req` (coalesces with pending ones). */
  enqueue(req: Request | string): void {
    this.queue.add(typeof req === 'string' ? req : requestKey(req))
  }

  /** Runs the workers until `signal` aborts; resolves once in-flight reconciles finished. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new RuntimeError(ErrorCodes.ALREADY_STARTED, `controller ${this.name} was already started; create a new one`)
    this.#started = true
    if (signal.aborted) {
      this.queue.shutDown()
      return
    }
    // Trigger sources stop with the queue on the start signal, and whenever start() ends.
    const running = new AbortController()
    const stop = (): void => {
      running.abort()
      this.queue.shutDown()
    }
    signal.addEventListener('abort', stop, { once: true })
    const triggers = (this.#opts.triggers ?? []).map((source, i) =>
      runTriggerSource(source, i, (req) => this.enqueue(req), running.signal, this.#log),
    )
    try {
      try {
        for (const wait of this.#opts.waitFor ?? []) await wait(signal)
      } catch (err) {
        if (signal.aborted) return
        throw err
      }
      this.#log.info({ workers: this.#workers }, 'starting workers')
      await Promise.all(Array.from({ length: this.#workers }, () => this.#worker(signal)))
      await this.queue.drain()
      this.#log.info('workers stopped')
    } finally {
      running.abort()
      await Promise.all(triggers)
    }
  }

  async #worker(stopSignal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get()
      if (key === undefined) return
      try {
        await this.#reconcileKey(key, stopSignal)
      } finally {
        this.queue.done(key)
      }
    }
  }

  async #reconcileKey(key: string, stopSignal: AbortSignal): Promise<void> {
    const req = requestFromKey(key)
    const reconcileID = randomUUID()
    const log = this.#log.child({ namespace: req.namespace ?? '', name: req.name, reconcileID })
    const metrics = this.#opts.metrics
    const labels = { controller: this.name }
    const abort = new AbortController()
    const onStop = (): void => abort.abort(stopSignal.reason)
    stopSignal.addEventListener('abort', onStop, { once: true })
    const timeoutMs = this.#opts.reconcileTimeoutMs
    const timer =
      timeoutMs !== undefined && timeoutMs > 0
        ? this.#clock.setTimer(
            () => abort.abort(new RuntimeError(ErrorCodes.RECONCILE_TIMEOUT, `reconcile of ${key} exceeded its ${timeoutMs} ms timeout`)),
            timeoutMs,
          )
        : undefined
    metrics?.activeWorkers.inc(labels)
    const started = performance.now()
    let result: ReconcileResult
    let failure: unknown
    let failed = false
    try {
      // then() turns a synchronous throw into a rejection, so both are handled alike.
      result = await Promise.resolve().then(() => this.#opts.reconciler(req, { signal: abort.signal, log, reconcileID }))
      if (
        abort.signal.aborted &&
        abort.signal.reason instanceof RuntimeError &&
        abort.signal.reason.code === ErrorCodes.RECONCILE_TIMEOUT
      ) {
        failed = true
        failure = abort.signal.reason
      }
    } catch (err) {
      failed = true
      failure = err
    } finally {
      if (timer !== undefined) this.#clock.clearTimer(timer)
      stopSignal.removeEventListener('abort', onStop)
      metrics?.activeWorkers.dec(labels)
      metrics?.reconcileTime.observe(labels, (performance.now() - started) / 1000)
    }
    if (failed) {
      metrics?.reconcileErrors.inc(labels)
      metrics?.reconcileTotal.inc({ ...labels, result: 'error' })
      if (isTerminalError(failure)) {
        metrics?.terminalReconcileErrors.inc(labels)
        this.queue.forget(key)
        log.error({ err: failure }, 'reconcile failed with a terminal error; not retrying until the object changes')
        return
      }
      const attempt = this.queue.numRequeues(key) + 1
      this.queue.addRateLimited(key)
      log.error({ err: toError(failure), attempt }, 'reconcile failed; retrying with backoff')
      return
    }
    this.queue.forget(key)
    const after = result?.requeueAfter
    if (after !== undefined && after > 0) {
      metrics?.reconcileTotal.inc({ ...labels, result: 'requeue_after' })
      this.queue.addAfter(key, after)
      log.debug({ requeueAfterMs: after }, 'reconciled; requeue scheduled')
      return
    }
    metrics?.reconcileTotal.inc({ ...labels, result: 'success' })
    log.debug('reconciled')
  }
}

function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  return new RuntimeError(ErrorCodes.RECONCILE_PANIC, `reconciler threw a non-Error value: ${String(thrown)}`)
}
