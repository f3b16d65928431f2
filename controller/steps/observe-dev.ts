// Step 6 for a DevServer, observe: CodeServerReady from the agent's code-server state, restarts,
// and phase + Ready (Running once the runtimes are installed and code-server, when wanted, runs
// healthy; status.ide.url is then where the IDE is). Looks again each second until Running.
import type { DevServerStatus } from '../../src/api/index.ts'
import { Reason } from '../condition-reasons.ts'
import type { DevServer } from '../kinds.ts'
import type { Installed } from './scope.ts'
import type { CodeServerRun } from './run-code-server.ts'

export async function observeDevServer(s: Installed<DevServer, DevServerStatus>, cs: CodeServerRun): Promise<number> {
  const { status, conds } = s.out
  let csReady = !cs.wanted
  if (cs.wanted) {
    if (cs.state?.phase === 'Running') {
      csReady = true
      conds.set(
        'CodeServerReady',
        'True',
        Reason.Healthy,
        `code-server ${cs.state.version ?? ''} answers /healthz on ${cs.state.bindAddr}`.replace('  ', ' '),
      )
    } else {
      // The agent's code-server phase is the reason (a family in condition-reasons.ts).
      const reason = cs.state?.phase ?? Reason.NotInstalled
      conds.set(
        'CodeServerReady',
        'False',
        reason,
        cs.state?.message ?? (cs.installed ? `code-server is ${reason}` : 'code-server is not installed yet'),
      )
    }
  } else {
    conds.set('CodeServerReady', 'False', Reason.Disabled, 'spec.codeServer.enabled is false')
  }
  status.restarts = cs.state?.restarts ?? 0

  if (s.install.failed || !s.installedAll) {
    status.phase = status.phase === 'Installing' ? 'Error' : status.phase
    conds.set('Ready', 'False', Reason.RuntimeNotReady, conds.get('RuntimeReady')?.message ?? 'runtimes not installed')
  } else if (csReady) {
    status.phase = 'Running'
    conds.set('Ready', 'True', Reason.Running, cs.wanted ? `IDE at ${status.ide?.url}` : 'runtimes installed')
  } else {
    status.phase = cs.state?.phase === 'Crashed' ? (cs.state.nextRestartAt ? 'Backoff' : 'Crashed') : 'Starting'
    conds.set('Ready', 'False', Reason.CodeServerNotReady, conds.get('CodeServerReady')?.message ?? 'code-server not ready')
  }
  const idle = s.obj.spec.idle
  if (idle === undefined) conds.remove('SleepReady')
  else conds.set('SleepReady', 'True', Reason.IdleClockRunning, `the container sleeps after ${idle.stopAfterSeconds} s without IDE traffic`)
  return status.phase === 'Running' ? 60_000 : 1000
}
