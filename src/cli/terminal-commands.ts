// Commands for people at a terminal (the other commands run daemons or build things):
// `zlh kubeconfig`, `zlh status`, `zlh ide <devserver>`. They find the system `zlh up` runs
// through its state directory (up.json, kubeconfig, admin token).
import type { Command } from 'commander'
import { kubeconfigCommand } from './kubeconfig.ts'
import { statusCommand } from './status.ts'
import { ideCommand } from './ide.ts'

export function registerTerminalCommands(program: Command): void {
  program
    .command('kubeconfig')
    .description('print the path of the all-in-one kubeconfig as an export line (or its contents with --raw)')
    .option('--state-dir <dir>', 'state directory of zlh up')
    .option('--raw', 'print the kubeconfig file itself')
    .option('--view', "the read-only identity's kubeconfig (ClusterRole view: everything but Secrets) instead of the admin's")
    .action((o: { stateDir?: string; raw?: boolean; view?: boolean }) => kubeconfigCommand(o))
  program
    .command('status')
    .description('dashboard of all game and dev servers: phase, restarts, last crash; and whether zlh up runs')
    .option('--state-dir <dir>', 'state directory of zlh up')
    .option('--kubeconfig <file>', "another cluster (default: the state dir's, else $KUBECONFIG)")
    .option('-n, --namespace <ns>', 'only this namespace (default: all)')
    .option('--json', 'machine-readable')
    .action(async (o: { stateDir?: string; kubeconfig?: string; namespace?: string; json?: boolean }) => statusCommand(o))
  program
    .command('ide')
    .description('get a one-time IDE link for a DevServer through the portal API (waits until it is Ready)')
    .argument('<devserver>', 'DevServer name')
    .option('--state-dir <dir>', 'state directory of zlh up')
    .option('-n, --namespace <ns>', "namespace of the DevServer (default: the token's home namespace; admin: default)")
    .option('--gateway <url>', "gateway URL (default: the running zlh up's)")
    .option('--token-file <file>', "portal API token (default: zlh up's admin token)")
    .option('--open', 'open the link in the default browser (xdg-open / open)')
    .option('--timeout <seconds>', 'how long to wait for the DevServer to be Ready', '900')
    .action(
      async (
        name: string,
        o: { stateDir?: string; namespace?: string; gateway?: string; tokenFile?: string; open?: boolean; timeout: string },
      ) => ideCommand(name, o),
    )
}
