// `zlh kubeconfig`: where the all-in-one kubeconfig is, as the line to paste into a shell; `--view`
// the read-only one (ClusterRole view: everything but Secrets).
import { existsSync, readFileSync } from 'node:fs'
import { resolveStateDir, stateLayout } from './state-dir.ts'

export function kubeconfigCommand(o: { stateDir?: string; raw?: boolean; view?: boolean }): void {
  const layout = stateLayout(resolveStateDir(o.stateDir))
  const file = o.view ? layout.viewKubeconfig : layout.kubeconfig
  if (!existsSync(file)) {
    console.error(
      `zlh kubeconfig: no ${o.view ? 'read-only kubeconfig (kubeconfig-view)' : 'kubeconfig'} in ${layout.root}: start the system first (npm start, or zlh up --state-dir ${layout.root})`,
    )
    process.exitCode = 3
    return
  }
  if (o.raw) process.stdout.write(readFileSync(file, 'utf8'))
  else console.log(`export KUBECONFIG=${file}`)
}
