// `zlh controller`: runs the controller until SIGTERM/SIGINT. Flags are DESIGN.md's contract.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { defaultStateDir, startController } from './main.ts'

interface Flags {
  kubeconfig?: string, leaderElect?: boolean, metricsAddr?: string, ideSuffix: string, idePublicPort?: string, stateDir?: string,
  concurrency: string, maxUnavailable: string, orphanGraceSeconds: string, orphanIntervalSeconds: string, providerGoneGraceSeconds: string, controlPlaneSource?: string[], metricsTokenFile?: string
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('reconcile GameServers, DevServers and RuntimeCatalogs against container providers and agents')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG, ~/.kube/config, then in-cluster)')
    .option('--leader-elect', 'run only while holding the zlh-controller Lease (for several replicas)')
    .option('--metrics-addr <host:port>', 'serve /healthz, /readyz and /metrics here')
    .option('--metrics-token-file <file>', 'bearer token /metrics requires (needed when --metrics-addr is not loopback)')
    .option('--ide-suffix <suffix>', 'DevServer IDE host suffix: dev-<vmid>.<suffix>', process.env.DEV_IDE_HOST_SUFFIX ?? 'localhost')
    .option('--ide-public-port <port>', 'port browsers reach IDE hosts on, when not 443 (put into status.ide.url)')
    .option('--state-dir <dir>', 'controller state (process provider roots); default $ZLH_STATE_DIR or ~/.local/state/zlh')
    .option('--concurrency <n>', 'concurrent reconciles per server kind', '8')
    .option('--max-unavailable <n>', 'servers of a channel updating at once during a rollout', '1')
    .option('--orphan-grace-seconds <s>', 'delete orphaned containers after this long', '300')
    .option('--orphan-interval-seconds <s>', 'how often to look for orphaned containers', '30')
    .option('--provider-gone-grace-seconds <s>', 'how long a deleted server waits for its vanished provider before the container is reported abandoned', '300')
    .option('--control-plane-source <addr...>', 'address(es) containers see the controller come from (proxmox firewall)')
    .action(async (o: Flags) => {
      const num = (flag: string, v: string, min: number): number => {
        const n = Number(v)
        if (!Number.isFinite(n) || n < min) { console.error(`zlh controller: ${flag} ${v} must be a number >= ${min}`); process.exit(2) }
        return n
      }
      try {
        const c = startController({
          kubeconfig: o.kubeconfig, leaderElect: o.leaderElect === true, metricsAddr: o.metricsAddr,
          ...(o.metricsTokenFile ? { metricsToken: readFileSync(o.metricsTokenFile, 'utf8').trim() } : {}), ideSuffix: o.ideSuffix,
          ...(o.idePublicPort === undefined ? {} : { idePublicPort: num('--ide-public-port', o.idePublicPort, 1) }),
          stateDir: o.stateDir ?? defaultStateDir(), concurrency: num('--concurrency', o.concurrency, 1),
          maxUnavailable: num('--max-unavailable', o.maxUnavailable, 1), orphanGraceMs: num('--orphan-grace-seconds', o.orphanGraceSeconds, 0) * 1000,
          orphanIntervalMs: num('--orphan-interval-seconds', o.orphanIntervalSeconds, 0.1) * 1000,
          providerGoneGraceMs: num('--provider-gone-grace-seconds', o.providerGoneGraceSeconds, 0) * 1000,
          controlPlaneSources: o.controlPlaneSource, handleSignals: true,
        })
        await c.done
        process.exit(0)
      } catch (err) {
        console.error(`zlh controller: ${(err as Error).message}`)
        process.exit(1)
      }
    })
}
