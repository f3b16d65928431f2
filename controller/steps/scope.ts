// What every step of one server reconcile may read: the deps, the server, the status being built,
// and — for run and observe — what the earlier steps produced.
import type { AgentStatus } from '../../src/api/index.ts'
import type { ResolvedRuntime } from '../catalog-resolve.ts'
import type { ReconcilerDeps } from '../reconciler-deps.ts'
import type { StatusWriter } from '../status-writer.ts'
import type { InstallResult } from './install.ts'
import type { Provisioned } from './provision.ts'
import type { ChosenProvider } from './resolve.ts'

/** One reconcile of one server: what every step may read, and the status being built. */
export interface ServerScope<T, S> {
  deps: ReconcilerDeps
  obj: T
  key: string
  signal: AbortSignal
  out: StatusWriter<S>
}

/** What run and observe start from: the container is up and installs were attempted. */
export interface Installed<T, S> extends ServerScope<T, S> {
  resolved: ResolvedRuntime[]
  provider: ChosenProvider
  provisioned: Provisioned
  install: InstallResult
  /** The agent's status after the installs. */
  agentStatus: AgentStatus
  /** Every resolved runtime is current in the agent. */
  installedAll: boolean
}
