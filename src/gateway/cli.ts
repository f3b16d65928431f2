// `zlh gateway`: the portal API and the hosted IDE proxy against a Kubernetes API (kubeconfig or
// in-cluster), until SIGTERM/SIGINT. Flags: DESIGN.md's contract plus additive ones.

import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { pino } from 'pino'
import { AGENT_PORT } from '../api/index.ts'
import { Client } from '../runtime/index.ts'
import { startGatewayService } from './service.ts'
import { parseListen } from './server.ts'
import { startMinecraftRouter, type MinecraftRouter } from './minecraft/index.ts'

interface Flags {
  kubeconfig?: string
  listen: string
  ideSuffix: string
  namespace: string
  systemNamespace: string
  adminTokenFile?: string
  tlsCert?: string
  tlsKey?: string
  publicPort?: string
  plainHttpBrowsers?: boolean
  agentPort: string
  minecraftListen?: string
  gameSuffix?: string
  minecraftHoldSeconds: string
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('serve the portal API (/api) and the hosted IDE proxy (dev-<vmid>.<suffix>)')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG, ~/.kube/config, then in-cluster)')
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 0.0.0.0:8443')
    .requiredOption('--ide-suffix <suffix>', 'IDE hosts are dev-<vmid>.<suffix>')
    .option('--namespace <ns>', "namespace of the portal's game and dev servers", 'default')
    .option('--system-namespace <ns>', "namespace of the gateway's Secrets (signing key, API tokens)", 'zlh-system')
    .option('--admin-token-file <file>', 'bootstrap admin token: read from FILE, or generated into it (0600) when absent')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM); without it, run behind a TLS terminator')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--public-port <port>', "port browsers use for IDE hosts, when not the scheme's default")
    .option('--plain-http-browsers', 'browsers reach the gateway over plain http (development only: the IDE cookie then cannot be Secure)')
    .option('--agent-port <port>', 'port of the agent API in containers', String(AGENT_PORT))
    .option(
      '--minecraft-listen <host:port>',
      'route Minecraft connections by host name (<server>.<namespace>.<game-suffix>) on this address; off when absent',
    )
    .option('--game-suffix <suffix>', 'game host names are <server>[.<namespace>].<suffix> (default: the IDE suffix)')
    .option('--minecraft-hold-seconds <n>', 'how long a login to a sleeping server is held while it wakes (1-60)', '25')
    .action(async (o: Flags) => {
      const log = pino({ name: 'zlh-gateway', redact: ['req.headers.authorization', 'req.headers.cookie'] })
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
        console.error('zlh gateway: --tls-cert and --tls-key go together: give both or neither')
        process.exit(2)
      }
      const holdSeconds = Number(o.minecraftHoldSeconds)
      if (!Number.isInteger(holdSeconds) || holdSeconds < 1 || holdSeconds > 60) {
        console.error(`zlh gateway: --minecraft-hold-seconds ${o.minecraftHoldSeconds}: want a whole number of seconds from 1 to 60`)
        process.exit(2)
      }
      try {
        const minecraftListen = o.minecraftListen === undefined ? undefined : parseListen(o.minecraftListen)
        const client = Client.fromKubeConfigFile(o.kubeconfig)
        const svc = await startGatewayService({
          client,
          listen: o.listen,
          ideSuffix: o.ideSuffix,
          namespace: o.namespace,
          systemNamespace: o.systemNamespace,
          adminTokenFile: o.adminTokenFile,
          logger: log,
          tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined,
          publicScheme: o.plainHttpBrowsers ? 'http' : 'https',
          publicPort: o.publicPort === undefined ? undefined : Number(o.publicPort),
          agents: { agentPort: Number(o.agentPort) },
        })
        if (svc.bootstrapAdminToken) {
          // Shown once, on stderr, never logged: only its hash is stored.
          process.stderr.write(`\nBootstrap admin API token (shown once; store it now):\n  ${svc.bootstrapAdminToken}\n\n`)
        }
        let minecraft: MinecraftRouter | undefined
        if (minecraftListen) {
          const gameSuffix = o.gameSuffix ?? o.ideSuffix
          minecraft = await startMinecraftRouter({
            listen: minecraftListen,
            cache: svc.informers,
            client,
            suffix: gameSuffix,
            systemNamespace: o.systemNamespace,
            holdTimeoutMs: holdSeconds * 1000,
            log,
          })
          const { address, port } = minecraft.address
          console.log(
            JSON.stringify({
              msg: 'minecraft router listening',
              address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
              gameSuffix,
            }),
          )
        }
        console.log(JSON.stringify({ msg: 'gateway serving', url: svc.gateway.url, ideSuffix: o.ideSuffix, namespace: o.namespace }))
        const stop = async (): Promise<void> => {
          await minecraft?.close()
          await svc.close()
          client.close()
          process.exit(0)
        }
        process.once('SIGINT', () => void stop())
        process.once('SIGTERM', () => void stop())
      } catch (err) {
        console.error(`zlh gateway: ${(err as Error).message}`)
        process.exit(1)
      }
    })
}
