// Step 5 for a DevServer, run: code-server started through the agent when wanted and installed
// (and not already running), stopped when spec.codeServer.enabled is false. A failed start is an
// Event; the agent's code-server state, read again, is what observe reports.
import type { CodeServerState, DevServerStatus } from '../../src/api/index.ts'
import { CODE_SERVER_RUNTIME, type DevServer } from '../kinds.ts'
import type { Installed } from './scope.ts'

export interface CodeServerRun {
  wanted: boolean
  installed: boolean
  /** The agent's code-server state after this step (null: the agent has none). */
  state: CodeServerState | null
}

export function codeServerWanted(ds: DevServer): boolean {
  return ds.spec.codeServer?.enabled !== false
}

export async function runCodeServer(s: Installed<DevServer, DevServerStatus>): Promise<CodeServerRun> {
  const {
    deps,
    obj: ds,
    provisioned: { agent },
  } = s
  const wanted = codeServerWanted(ds)
  let cs: CodeServerState | null = s.agentStatus.codeServer
  const installed = s.agentStatus.runtimes.some((r) => r.name === CODE_SERVER_RUNTIME && r.current)
  if (wanted && installed && (cs === null || !cs.enabled || cs.phase === 'Stopped' || cs.phase === 'NotInstalled')) {
    try {
      cs = await agent.startCodeServer()
      deps.recorder.event(ds, 'Normal', 'CodeServerStarted', `code-server started on ${cs.bindAddr}`)
    } catch (err) {
      deps.recorder.event(ds, 'Warning', 'CodeServerFailed', (err as Error).message)
      cs = await agent.codeServer().catch(() => cs)
    }
  } else if (!wanted && cs !== null && (cs.enabled || cs.phase === 'Running' || cs.phase === 'Starting')) {
    cs = await agent.stopCodeServer()
    deps.recorder.event(ds, 'Normal', 'CodeServerStopped', 'code-server stopped (spec.codeServer.enabled is false)')
  }
  return { wanted, installed, state: cs }
}
