// A DevServer's console opened and typed in through the portal counts as IDE activity (spec.idle):
// the gateway writes its last-activity annotation, coalesced, like IDE traffic. A real agent
// in-process serves the console; the embedded API server holds the DevServer.
import t from 'tap'
import WebSocket from 'ws'
import { LAST_ACTIVITY_ANNOTATION } from '../../../src/api/index.ts'
import { startTestAgent } from '../../agent/helpers.ts'
import { waitFor } from '../fixtures.ts'
import { NS, startSleepEnv } from './sleep-env.ts'

t.test('console sessions opened and typed in through the portal are activity', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const s = await startSleepEnv(t)
  await s.devServer('box', 801, 5)
  await s.env.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'box-agent-token', namespace: NS },
    data: { token: Buffer.from(agent.token).toString('base64'), agentUrl: Buffer.from(agent.url).toString('base64') },
  })
  const { token } = await s.svc.tokens.issue('alice', ['console'])
  const ws = new WebSocket(`${s.svc.gateway.url.replace(/^http/, 'ws')}/api/dev/box/console`, {
    headers: { authorization: `Bearer ${token}` },
  })
  t.teardown(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  await waitFor(() => s.activityWrites('box').length >= 1, 'the activity write of the opened console')
  const first = s.activityWrites('box').length
  const until = Date.now() + 15_000
  while (s.activityWrites('box').length < first + 1 && Date.now() < until) {
    ws.send(JSON.stringify({ type: 'input', data: 'true\n' }))
    await new Promise((r) => setTimeout(r, 200))
  }
  t.ok(s.activityWrites('box').length > first, 'typing keeps writing activity (once per interval)')
  t.ok((await s.get('box')).metadata.annotations?.[LAST_ACTIVITY_ANNOTATION], 'the annotation is on the DevServer')
  const closed = new Promise((r) => ws.once('close', r))
  ws.close()
  await closed
})
