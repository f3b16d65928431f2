// The controller's main: a Manager against a kubeconfig (or in-cluster config), the three
// reconcilers and the orphan collector, probes/metrics, optional Lease leader election.
// Runs until stop() / the signal / SIGTERM; state (process provider roots) lives in stateDir.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { KubeConfig } from '@kubernetes/client-node'
import pino, { type Logger } from 'pino'
import { Manager } from '../src/runtime/index.ts'
import { setupControllers, type ControllerSettings } from './setup.ts'

export interface ControllerOptions extends Omit<ControllerSettings, 'logger'> {
  /** kubeconfig file; default $KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string
  leaderElect?: boolean
  /** Namespace of the leader Lease (default: leaderElectionNamespace()). */
  leaseNamespace?: string
  /** host:port for /healthz /readyz /metrics; omit to serve none. */
  metricsAddr?: string
  /** Bearer token for /metrics (required by the manager for a non-loopback metricsAddr). */
  metricsToken?: string
  logger?: Logger
  handleSignals?: boolean
}

export function defaultStateDir(): string {
  if (process.env.ZLH_STATE_DIR) return process.env.ZLH_STATE_DIR
  const base = process.env.XDG_STATE_HOME ?? join(process.env.HOME ?? '/tmp', '.local', 'state')
  return join(base, 'zlh')
}

export function parseHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':')
  const host = i <= 0 ? '127.0.0.1' : addr.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(i < 0 ? addr : addr.slice(i + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--metrics-addr ${addr}: want HOST:PORT with a port 0-65535`)
  return { host, port }
}

/** The namespace a pod's ServiceAccount token is for (mounted into every pod that has one). */
export const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/**
 * The leader Lease's namespace when none was given: the pod's own namespace in a cluster (the
 * ServiceAccount's namespace file), else $POD_NAMESPACE; outside a pod there is no sensible guess
 * (kube-system is not ours to write), so it must be named.
 */
export function leaderElectionNamespace(namespaceFile = IN_CLUSTER_NAMESPACE_FILE, env = process.env): string {
  try {
    const ns = readFileSync(namespaceFile, 'utf8').trim()
    if (ns !== '') return ns
  } catch {
    /* not in a pod */
  }
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE
  throw new Error(
    `--leader-elect outside a pod needs --leader-election-namespace NS (the namespace of the zlh-controller Lease, e.g. zlh-system): there is no ${namespaceFile} and no $POD_NAMESPACE`,
  )
}

export interface RunningController {
  manager: Manager
  /** Resolves when the manager stopped (rejects on a fatal error, e.g. lost leadership). */
  done: Promise<void>
  stop(): Promise<void>
}

export function startController(opts: ControllerOptions): RunningController {
  const kubeConfig = new KubeConfig()
  if (opts.kubeconfig !== undefined) kubeConfig.loadFromFile(opts.kubeconfig)
  else kubeConfig.loadFromDefault()
  const logger = opts.logger ?? pino({ base: { component: 'controller' } })
  const probes = opts.metricsAddr !== undefined ? parseHostPort(opts.metricsAddr) : undefined
  const leaseNamespace = opts.leaderElect ? (opts.leaseNamespace ?? leaderElectionNamespace()) : undefined
  const manager = new Manager({
    kubeConfig,
    logger,
    handleSignals: opts.handleSignals ?? false,
    gracefulShutdownTimeoutMs: 20_000,
    ...(probes ? { probes: { ...probes, ...(opts.metricsToken ? { metricsToken: opts.metricsToken } : {}) } } : {}),
    ...(leaseNamespace !== undefined
      ? { leaderElection: { leaseName: 'zlh-controller', namespace: leaseNamespace, identity: `${hostname()}_${randomUUID()}` } }
      : {}),
  })
  const handles = setupControllers(manager, { ...opts, logger })
  const done = manager.start().finally(() => handles.close())
  return {
    manager,
    done,
    async stop() {
      manager.stop()
      await done.catch(() => {})
    },
  }
}
