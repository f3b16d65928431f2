// `zlh controller`: runs the controller until SIGTERM/SIGINT. Flags are DESIGN.md's contract.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import pino, { type Logger } from 'pino'
import { defaultStateDir, startController } from './main.ts'

/**
 * The /metrics bearer token from --metrics-token-file. The file may be missing: in a pod it comes
 * from an optional Secret (manifests/base/controller.yaml), which a fresh install does not have.
 * Then /metrics refuses every request (a random token nobody knows) while /healthz and /readyz
 * serve, so the pod starts and passes its probes; the token is read at start, so a Secret created
 * later takes effect on the next restart. An empty file is a mistake, not "no token": refused.
 */
export function metricsTokenFrom(file: string, log: Logger): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`--metrics-token-file ${file}: ${(err as Error).message}`)
    log.warn(
      { metricsTokenFile: file },
      'metrics token file does not exist: /metrics refuses every request until it exists and the controller restarts (/healthz and /readyz serve)',
    )
    return randomBytes(32).toString('hex')
  }
  const token = text.trim()
  if (token === '') throw new Error(`--metrics-token-file ${file} is empty: put the bearer token /metrics should require in it`)
  return token
}

interface Flags {
  kubeconfig?: string
  leaderElect?: boolean
  leaderElectionNamespace?: string
  metricsAddr?: string
  ideSuffix: string
  idePublicPort?: string
  stateDir?: string
  concurrency: string
  maxUnavailable: string
  orphanGraceSeconds: string
  orphanIntervalSeconds: string
  providerGoneGraceSeconds: string
  controlPlaneSource?: string[]
  metricsTokenFile?: string
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('reconcile GameServers, DevServers and RuntimeCatalogs against container providers and agents')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG, ~/.kube/config, then in-cluster)')
    .option('--leader-elect', 'run only while holding the zlh-controller Lease (for several replicas)')
    .option(
      '--leader-election-namespace <ns>',
      "namespace of the zlh-controller Lease (default: the pod's namespace in a cluster, else $POD_NAMESPACE; required otherwise)",
    )
    .option('--metrics-addr <host:port>', 'serve /healthz, /readyz and /metrics here')
    .option(
      '--metrics-token-file <file>',
      'bearer token /metrics requires (needed when --metrics-addr is not loopback; a missing file refuses /metrics)',
    )
    .option('--ide-suffix <suffix>', 'DevServer IDE host suffix: dev-<vmid>.<suffix>', process.env.DEV_IDE_HOST_SUFFIX ?? 'localhost')
    .option('--ide-public-port <port>', 'port browsers reach IDE hosts on, when not 443 (put into status.ide.url)')
    .option('--state-dir <dir>', 'controller state (process provider roots); default $ZLH_STATE_DIR or ~/.local/state/zlh')
    .option('--concurrency <n>', 'concurrent reconciles per server kind', '8')
    .option('--max-unavailable <n>', 'servers of a channel updating at once during a rollout', '1')
    .option('--orphan-grace-seconds <s>', 'delete orphaned containers after this long', '300')
    .option('--orphan-interval-seconds <s>', 'how often to look for orphaned containers', '30')
    .option(
      '--provider-gone-grace-seconds <s>',
      'how long a deleted server waits for its vanished provider before the container is reported abandoned',
      '300',
    )
    .option('--control-plane-source <addr...>', 'address(es) containers see the controller come from (proxmox firewall)')
    .action(async (o: Flags) => {
      const num = (flag: string, v: string, min: number): number => {
        const n = Number(v)
        if (!Number.isFinite(n) || n < min) {
          console.error(`zlh controller: ${flag} ${v} must be a number >= ${min}`)
          process.exit(2)
        }
        return n
      }
      const ns = o.leaderElectionNamespace
      if (ns !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) {
        console.error(
          `zlh controller: --leader-election-namespace ${JSON.stringify(ns)} is not a namespace name (lowercase letters, digits and '-', at most 63)`,
        )
        process.exit(2)
      }
      const logger = pino({ base: { component: 'controller' } })
      try {
        const c = startController({
          logger,
          kubeconfig: o.kubeconfig,
          leaderElect: o.leaderElect === true,
          metricsAddr: o.metricsAddr,
          ...(o.leaderElectionNamespace !== undefined ? { leaseNamespace: o.leaderElectionNamespace } : {}),
          ...(o.metricsTokenFile ? { metricsToken: metricsTokenFrom(o.metricsTokenFile, logger) } : {}),
          ideSuffix: o.ideSuffix,
          ...(o.idePublicPort === undefined ? {} : { idePublicPort: num('--ide-public-port', o.idePublicPort, 1) }),
          stateDir: o.stateDir ?? defaultStateDir(),
          concurrency: num('--concurrency', o.concurrency, 1),
          maxUnavailable: num('--max-unavailable', o.maxUnavailable, 1),
          orphanGraceMs: num('--orphan-grace-seconds', o.orphanGraceSeconds, 0) * 1000,
          orphanIntervalMs: num('--orphan-interval-seconds', o.orphanIntervalSeconds, 0.1) * 1000,
          providerGoneGraceMs: num('--provider-gone-grace-seconds', o.providerGoneGraceSeconds, 0) * 1000,
          controlPlaneSources: o.controlPlaneSource,
          handleSignals: true,
        })
        await c.done
        process.exit(0)
      } catch (err) {
        console.error(`zlh controller: ${(err as Error).message}`)
        process.exit(1)
      }
    })
}
