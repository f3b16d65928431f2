// Prometheus metrics under controller-runtime's names, so existing dashboards and alerts work:
// controller_runtime_reconcile_total{controller,result}, _reconcile_errors_total,
// _terminal_reconcile_errors_total, _reconcile_time_seconds, _active_workers,
// _max_concurrent_reconciles, workqueue_{depth,adds_total,queue_duration_seconds,
// work_duration_seconds,retries_total}{name,controller} and leader_election_master_status{name}.
// One registry per manager, so several managers can live in one process (tests do).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { QueueMetrics } from './workqueue/queue.ts'

const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5,
  5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
]
const queueBuckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000]

/** Resolution of the default metrics' event-loop delay histogram: its timer wakes the process this
 * often, so not prom-client's 10 ms (100 wake-ups a second were most of an idle control plane's CPU). */
export const EVENT_LOOP_MONITORING_PRECISION_MS = 1000

export type ReconcileOutcome = 'success' | 'error' | 'requeue_after'

export class RuntimeMetrics {
  readonly registry: Registry
  readonly reconcileTotal: Counter<'controller' | 'result'>
  readonly reconcileErrors: Counter<'controller'>
  readonly terminalReconcileErrors: Counter<'controller'>
  readonly reconcileTime: Histogram<'controller'>
  readonly activeWorkers: Gauge<'controller'>
  readonly maxConcurrentReconciles: Gauge<'controller'>
  readonly workqueueDepth: Gauge<'name' | 'controller'>
  readonly workqueueAdds: Counter<'name' | 'controller'>
  readonly workqueueQueueDuration: Histogram<'name' | 'controller'>
  readonly workqueueWorkDuration: Histogram<'name' | 'controller'>
  readonly workqueueRetries: Counter<'name' | 'controller'>
  readonly leaderElectionMasterStatus: Gauge<'name'>

  constructor(opts: { registry?: Registry; processMetrics?: boolean } = {}) {
    const registry = opts.registry ?? new Registry()
    this.registry = registry
    const registers = [registry]
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    })
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    })
    this.terminalReconcileErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    })
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: reconcileBuckets,
      registers,
    })
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    })
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    })
    this.workqueueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name', 'controller'],
      registers,
    })
    this.workqueueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name', 'controller'],
      registers,
    })
    this.workqueueQueueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name', 'controller'],
      buckets: queueBuckets,
      registers,
    })
    this.workqueueWorkDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name', 'controller'],
      buckets: queueBuckets,
      registers,
    })
    this.workqueueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name', 'controller'],
      registers,
    })
    this.leaderElectionMasterStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'],
      registers,
    })
    if (opts.processMetrics === true)
      collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS })
  }

  /** Queue hooks feeding the workqueue_* series of one controller's queue. */
  queueMetrics(controller: string): QueueMetrics {
    const labels = { name: controller, controller }
    return {
      added: () => this.workqueueAdds.inc(labels),
      depth: (n) => this.workqueueDepth.set(labels, n),
      queued: (ms) => this.workqueueQueueDuration.observe(labels, ms / 1000),
      worked: (ms) => this.workqueueWorkDuration.observe(labels, ms / 1000),
      retried: () => this.workqueueRetries.inc(labels),
    }
  }

  /** Creates the per-controller series at zero so they show up before the first reconcile. */
  initController(controller: string, maxConcurrent: number): void {
    for (const result of ['success', 'error', 'requeue_after'] as const) this.reconcileTotal.inc({ controller, result }, 0)
    this.reconcileErrors.inc({ controller }, 0)
    this.terminalReconcileErrors.inc({ controller }, 0)
    this.activeWorkers.set({ controller }, 0)
    this.maxConcurrentReconciles.set({ controller }, maxConcurrent)
    const labels = { name: controller, controller }
    this.workqueueDepth.set(labels, 0)
    this.workqueueAdds.inc(labels, 0)
    this.workqueueRetries.inc(labels, 0)
  }
}
