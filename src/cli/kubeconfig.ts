// `zlh kubeconfig`: where the all-in-one kubeconfig is, as the line to paste into a shell.
import { existsSync, readFileSync } from 'node:fs'
import { resolveStateDir, stateLayout } from './state-dir.ts'

export function kubeconfigCommand(o: { stateDir?: string, raw?: boolean }): void {
  const layout = stateLayout(resolveStateDir(o.stateDir))
  if (!existsSync(layout.kubeconfig)) {
    console.error(`zlh kubeconfig: no kubeconfig in ${layout.root}: start the system first (npm start, or zlh up --state-dir ${layout.root})`)
    process.exitCode = 3
    return
  }
  if (o.raw) process.stdout.write(readFileSync(layout.kubeconfig, 'utf8'))
  else console.log(`export KUBECONFIG=${layout.kubeconfig}`)
}
