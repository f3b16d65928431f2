// Entry point of the `zlh` command: parses the command line and dispatches to the components.
//
// Each command loads only its own modules: the command named on the command line is the only one
// registered (its module imported on demand), so `zlh agent` never loads the API server, the
// controller or the gateway. Without a known command name (`zlh`, `zlh --help`, a typo) every
// command is registered, so help lists them all and commander's "unknown command" suggestions work.

import { Command } from 'commander'

type Register = (program: Command) => void

/** Command name → the module that registers it (and everything below it). */
const commands: Record<string, () => Promise<Register>> = {
  validate: async () => (await import('./validate-command.ts')).registerValidateCommand,
  agent: async () => (await import('../../agent/cli.ts')).registerAgentCommand,
  apiserver: async () => (await import('./apiserver.ts')).registerApiserverCommand,
  controller: async () => (await import('../../controller/cli.ts')).registerControllerCommand,
  gateway: async () => (await import('../gateway/cli.ts')).registerGatewayCommand,
  up: async () => (await import('./up/command.ts')).registerUpCommand,
  kubeconfig: async () => (await import('./terminal-commands.ts')).registerTerminalCommands,
  status: async () => (await import('./terminal-commands.ts')).registerTerminalCommands,
  ide: async () => (await import('./terminal-commands.ts')).registerTerminalCommands,
  artifacts: async () => (await import('./artifacts/command.ts')).registerArtifactsCommand,
}

/** The command named on the command line: the first argument that is not an option. */
function commandName(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'))
}

const program = new Command()
  .name('zlh')
  .description('ZeroLagHub control plane: declarative game servers and dev containers')
  .showHelpAfterError()

const named = commandName(process.argv.slice(2))
const loaders = named !== undefined && named in commands ? [commands[named]!] : [...new Set(Object.values(commands))]
const registered = new Set<Register>()
for (const register of await Promise.all(loaders.map((load) => load()))) {
  if (registered.has(register)) continue
  registered.add(register)
  register(program)
}

await program.parseAsync()
