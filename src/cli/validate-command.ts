// `zlh validate <paths...>`: checks manifests against the CRD schemas (validate.ts does the work).
import type { Command } from 'commander'
import { validateFiles } from './validate.ts'

export function registerValidateCommand(program: Command): void {
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
}
