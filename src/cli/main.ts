// Entry point of the `zlh` command: parses the command line and dispatches to the components.

import { Command } from 'commander'
import { validateFiles } from './validate.ts'
import { registerApiserverCommand } from './apiserver.ts'
import { registerAgentCommand } from '../../agent/cli.ts'
import { registerControllerCommand } from '../../controller/cli.ts'
import { registerGatewayCommand } from '../gateway/cli.ts'
import { registerUpCommand } from './up/command.ts'
import { registerTerminalCommands } from './terminal-commands.ts'
import { registerArtifactsCommand } from './artifacts/command.ts'

const program = new Command()
  .name('zlh')
  .description('ZeroLagHub control plane: declarative game servers and dev containers')
  .showHelpAfterError()

program
  .command('validate')
  .description('check GameServer, DevServer, RuntimeCatalog and ContainerProvider manifests against the CRD schemas')
  .argument('<paths...>', 'YAML files or directories of them')
  .action((paths: string[]) => {
    try {
      const bad = validateFiles(paths, (l) => console.log(l))
      if (bad) {
        console.error(`${bad} invalid manifest(s): fix the fields named above and run again`)
        process.exitCode = 1
      }
    } catch (err) {
      console.error(`zlh validate: ${(err as Error).message}`)
      process.exitCode = 2
    }
  })

registerAgentCommand(program)
registerApiserverCommand(program)
registerControllerCommand(program)
registerGatewayCommand(program)
registerUpCommand(program)
registerTerminalCommands(program)
registerArtifactsCommand(program)

await program.parseAsync()
