// Steps run and observe of a DevServer (controller/steps/run-code-server.ts, observe-dev.ts)
// against the STUB agent: code-server started once installed, stopped when disabled; CodeServerReady,
// phase and Ready from its state (the agent's code-server phase is the reason while not running).
import t from 'tap'
import type { DevServerStatus } from '../../../src/api/index.ts'
import type { DevServer } from '../../../controller/kinds.ts'
import { observeDevServer } from '../../../controller/steps/observe-dev.ts'
import { runCodeServer } from '../../../controller/steps/run-code-server.ts'
import { codeServerState, runtime } from './stub-agent.ts'
import { installedOf, startWorld } from './fixtures.ts'

t.test('installed and wanted: started, CodeServerReady Healthy, Running with the IDE URL', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('node', '22'), runtime('code-server', '4.0.0')]
  const s = installedOf<DevServer, DevServerStatus>(w, w.devServer)
  s.out.status.ide = { host: 'dev-100.ide.test', url: 'https://dev-100.ide.test/' }
  const ran = await runCodeServer(s)
  t.equal(w.agent.count('POST /dev/codeserver/start'), 1)
  t.match(w.events, [{ reason: 'CodeServerStarted', message: /127\.0\.0\.1:6000/ }])
  const lookAgain = await observeDevServer(s, ran)
  t.match(s.out.conds.get('CodeServerReady'), { status: 'True', reason: 'Healthy' })
  t.equal(s.out.status.phase, 'Running')
  t.match(s.out.conds.get('Ready'), { status: 'True', reason: 'Running', message: 'IDE at https://dev-100.ide.test/' })
  t.equal(lookAgain, 60_000)
})

t.test('not installed yet: nothing started, CodeServerReady NotInstalled, Starting', async (t) => {
  const w = await startWorld(t)
  const s = installedOf<DevServer, DevServerStatus>(w, w.devServer)
  const ran = await runCodeServer(s)
  t.equal(w.agent.count('POST /dev/codeserver/start'), 0)
  await observeDevServer(s, ran)
  t.match(s.out.conds.get('CodeServerReady'), { status: 'False', reason: 'NotInstalled', message: 'code-server is not installed yet' })
  t.equal(s.out.status.phase, 'Starting')
  t.match(s.out.conds.get('Ready'), { reason: 'CodeServerNotReady' })
})

t.test('crashed with a restart due: the agent phase is the reason, phase Backoff', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.runtimes = [runtime('code-server', '4.0.0')]
  w.agent.state.status.codeServer = {
    ...codeServerState('Crashed', true),
    nextRestartAt: '2026-01-01T00:00:10Z',
    message: 'code-server exited with code 1',
    restarts: 2,
  }
  const s = installedOf<DevServer, DevServerStatus>(w, w.devServer)
  await observeDevServer(s, await runCodeServer(s))
  t.equal(w.agent.count('POST /dev/codeserver/start'), 0, 'the agent restarts it itself')
  t.match(s.out.conds.get('CodeServerReady'), { reason: 'Crashed', message: 'code-server exited with code 1' })
  t.equal(s.out.status.phase, 'Backoff')
  t.equal(s.out.status.restarts, 2)
})

t.test('disabled: a running code-server is stopped, CodeServerReady Disabled, Running on runtimes alone', async (t) => {
  const w = await startWorld(t)
  w.agent.state.status.codeServer = codeServerState('Running', true)
  const disabled = await w.env.client.patch<DevServer>(
    { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' },
    'octo',
    'default',
    { spec: { codeServer: { enabled: false } } },
    'application/merge-patch+json',
  )
  const s = installedOf<DevServer, DevServerStatus>(w, disabled)
  await observeDevServer(s, await runCodeServer(s))
  t.equal(w.agent.count('POST /dev/codeserver/stop'), 1)
  t.match(w.events, [{ reason: 'CodeServerStopped' }])
  t.match(s.out.conds.get('CodeServerReady'), { status: 'False', reason: 'Disabled' })
  t.match(s.out.conds.get('Ready'), { status: 'True', message: 'runtimes installed' })
})

t.test('runtimes not installed: Ready RuntimeNotReady, and an Installing phase becomes Error', async (t) => {
  const w = await startWorld(t)
  const s = installedOf<DevServer, DevServerStatus>(w, w.devServer, { failed: true, installedAll: false })
  s.out.status.phase = 'Installing'
  s.out.conds.set('RuntimeReady', 'False', 'ArtifactUnavailable', 'installing node 22 failed')
  await observeDevServer(s, await runCodeServer(s))
  t.equal(s.out.status.phase, 'Error')
  t.match(s.out.conds.get('Ready'), { reason: 'RuntimeNotReady', message: 'installing node 22 failed' })
})
