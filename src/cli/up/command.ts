// `zlh up` (what `npm start` runs): the whole system on the embedded default until Ctrl-C or
// SIGTERM, then a graceful stop. Servers' containers keep running; the next start adopts them.
import type { Command } from 'commander'
import { Progress } from '../progress.ts'
import { alive, readRuntime, resolveStateDir, stateLayout } from '../state-dir.ts'
import { join } from 'node:path'
import { LXC_DEFAULTS, MINECRAFT_ROUTER_PORT, startSystem, type RunningSystem, type UpProvider } from './system.ts'
import { trustCommand } from './tls.ts'

export const READY_PREFIX = 'export KUBECONFIG='

function nextSteps(sys: RunningSystem): string {
  return [
    '',
    'zlh is up. In another terminal:',
    '',
    `  ${READY_PREFIX}${sys.layout.kubeconfig}`,
    '  kubectl apply -f manifests/examples/gameserver.yaml',
    '  kubectl get gameservers -w',
    ...(sys.viewKubeconfig !== undefined ? [`Read-only (ClusterRole view, no Secrets): export KUBECONFIG=${sys.viewKubeconfig}`] : []),
    'The controller and the gateway run as ServiceAccounts zlh-system/zlh-controller and zlh-gateway (RBAC of manifests/base).',
    '',
    `Portal API: ${sys.gatewayUrl}/api/servers`,
    `  admin token: ${sys.adminToken}`,
    `  curl --cacert ${sys.caFile} -H "Authorization: Bearer ${sys.adminToken}" ${sys.gatewayUrl}/api/servers`,
    `Web console: ${sys.gatewayUrl}/console/ (sign in with the admin token, or a tenant's token from POST /api/tokens)`,
    `Minecraft: every GameServer at ${sys.minecraftAddress}, by name: <name>.<namespace>.${sys.ideSuffix} (<name>.${sys.ideSuffix} in default)`,
    `  e.g. the example: squid.default.${sys.ideSuffix}:${sys.minecraftAddress.split(':').pop()} in the game's server address (asleep: a join wakes it)`,
    'Browser IDE: kubectl apply -f manifests/examples/devserver.yaml && npx zlh ide workbench',
    `  trust the local CA once (no certificate warning on https://dev-<vmid>.localhost): ${trustCommand(sys.caFile)}`,
    `Dashboard: npx zlh status    Logs: ${sys.layout.logs}`,
    'Ctrl-C stops the control plane; servers keep running and the next start picks them up.',
    '',
  ].join('\n')
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the whole system locally: API server, CRDs, controller, gateway, local artifacts')
    .option('--state-dir <dir>', 'state directory (default $ZLH_STATE_DIR, else $XDG_STATE_HOME/zlh = ~/.local/state/zlh)')
    .option('--json', 'JSON lines instead of the progress display')
    .option('--no-code-server', 'do not build code-server when a DevServer needs it')
    .option(
      '--provider <type>',
      'where servers run: process (each container a directory and processes, zero setup) or lxc (real LXC containers: root and the lxc package)',
      'process',
    )
    .option('--lxc-path <dir>', "lxc: the containers' directory (default <state-dir>/lxc)")
    .option('--lxc-bridge <name>', 'lxc: the host bridge to create and attach containers to', LXC_DEFAULTS.bridge)
    .option('--lxc-subnet <cidr>', 'lxc: IPv4 subnet of the bridge (the host takes its first address)', LXC_DEFAULTS.subnet)
    .option(
      '--minecraft-port <port>',
      `loopback port of the gateway's Minecraft router (0: any; default ${MINECRAFT_ROUTER_PORT} when free, else any)`,
    )
    .action(
      async (o: {
        stateDir?: string
        json?: boolean
        codeServer: boolean
        provider: string
        lxcPath?: string
        lxcBridge: string
        lxcSubnet: string
        minecraftPort?: string
      }) => {
        const stateDir = resolveStateDir(o.stateDir)
        if (o.provider !== 'process' && o.provider !== 'lxc') {
          console.error(
            `zlh up: --provider ${o.provider}: supported values are process and lxc (Proxmox runs with a cluster: docs/cluster.md)`,
          )
          process.exit(2)
        }
        const provider: UpProvider =
          o.provider === 'lxc'
            ? { type: 'lxc', lxcpath: o.lxcPath ?? join(stateDir, 'lxc'), bridge: o.lxcBridge, subnet: o.lxcSubnet }
            : { type: 'process' }
        const minecraftPort = o.minecraftPort === undefined ? undefined : Number(o.minecraftPort)
        if (minecraftPort !== undefined && !(Number.isInteger(minecraftPort) && minecraftPort >= 0 && minecraftPort <= 65535)) {
          console.error(`zlh up: --minecraft-port ${o.minecraftPort}: want a port number 0-65535 (0: any free port)`)
          process.exit(2)
        }
        const progress = new Progress({ json: o.json })
        const other = readRuntime(stateLayout(stateDir)).pid
        if (other !== undefined && other !== process.pid && alive(other)) {
          console.error(
            `zlh up: another zlh up (pid ${other}) is running on ${stateDir}: stop it first (kill ${other}) or use another --state-dir`,
          )
          process.exit(3)
        }
        let sys: RunningSystem
        try {
          sys = await startSystem({ stateDir, progress, codeServer: o.codeServer, provider, minecraftPort })
        } catch (err) {
          console.error(`zlh up: ${(err as Error).message}`)
          console.error(`logs are in ${stateLayout(stateDir).logs}; fix the cause and run again`)
          process.exit(1)
        }
        if (o.json)
          progress.info('zlh ready', {
            kubeconfig: sys.layout.kubeconfig,
            export: `${READY_PREFIX}${sys.layout.kubeconfig}`,
            apiUrl: sys.api.url,
            gatewayUrl: sys.gatewayUrl,
            minecraftAddress: sys.minecraftAddress,
            caFile: sys.caFile,
            stateDir,
            viewKubeconfig: sys.viewKubeconfig,
          })
        else process.stdout.write(nextSteps(sys))
        let stopping = false
        const stop = (signal: string): void => {
          if (stopping) {
            console.error('zlh up: second signal, exiting now')
            process.exit(130)
          }
          stopping = true
          void progress
            .step(`stopping (${signal})`, () => sys.stop())
            .then(
              () => process.exit(0),
              () => process.exit(1),
            )
        }
        process.on('SIGINT', () => stop('SIGINT'))
        process.on('SIGTERM', () => stop('SIGTERM'))
      },
    )
}
