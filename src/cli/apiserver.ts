// `zlh apiserver`: runs the embedded Kubernetes-compatible API server until SIGINT/SIGTERM.

import type { Command } from 'commander'
import { createApiServer, parseControllerList, SWITCHABLE_CONTROLLERS, type SwitchableController } from '../apiserver/index.ts'
import { writePrivateFile } from './state-dir.ts'

export function registerApiserverCommand(program: Command): void {
  program
    .command('apiserver')
    .description('run the embedded Kubernetes-compatible API server (HTTPS, bearer tokens, sqlite)')
    .requiredOption('--data-dir <dir>', 'state directory: database, CA and certificates, tokens')
    .option('--host <host>', 'address to bind; non-loopback needs TLS', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', '6443')
    .option('--kubeconfig <file>', 'where to write the admin kubeconfig once serving (default <data-dir>/kubeconfig)')
    .option(
      '--view-kubeconfig <file>',
      'also write a kubeconfig (0600) for the read-only user of tokens.json (group zlh:viewers, bound to the view ClusterRole)',
    )
    .option('--plain-http', 'serve plain HTTP (loopback only)')
    .option(
      '--disable-controllers <names>',
      `comma-separated built-in controllers not to run, so a real kube-controller-manager can (${SWITCHABLE_CONTROLLERS.join(', ')})`,
    )
    .action(
      async (o: {
        dataDir: string
        host: string
        port: string
        kubeconfig?: string
        viewKubeconfig?: string
        plainHttp?: boolean
        disableControllers?: string
      }) => {
        const port = Number(o.port)
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          console.error(`zlh apiserver: --port ${o.port} is not a port number (0-65535)`)
          process.exitCode = 2
          return
        }
        let disableControllers: SwitchableController[] = []
        try {
          disableControllers = parseControllerList(o.disableControllers ?? '')
        } catch (err) {
          console.error(`zlh apiserver: --disable-controllers: ${(err as Error).message}`)
          process.exitCode = 2
          return
        }
        try {
          const server = await createApiServer({
            dataDir: o.dataDir,
            host: o.host,
            port,
            tls: !o.plainHttp,
            kubeconfigPath: o.kubeconfig,
            disableControllers,
          })
          if (o.viewKubeconfig !== undefined) {
            if (server.readOnlyToken === undefined) {
              await server.close()
              throw new Error(
                `--view-kubeconfig: tokens.json in ${o.dataDir} has no user in group zlh:viewers; add one ({"token": ..., "user": "reader", "groups": ["zlh:viewers"]})`,
              )
            }
            writePrivateFile(o.viewKubeconfig, server.kubeconfigYaml(server.readOnlyToken))
          }
          console.log(
            JSON.stringify({
              msg: 'apiserver serving',
              url: server.url,
              kubeconfig: server.kubeconfigPath,
              ...(o.viewKubeconfig !== undefined ? { viewKubeconfig: o.viewKubeconfig } : {}),
            }),
          )
          const stop = async () => {
            await server.close()
            process.exit(0)
          }
          process.once('SIGINT', stop)
          process.once('SIGTERM', stop)
        } catch (err) {
          console.error(`zlh apiserver: ${(err as Error).message}`)
          process.exitCode = 1
        }
      },
    )
}
