// The typed agent client against a real in-process agent: calls, catalog errors, and the state
// stream including a reconnect across an agent restart.
import t from 'tap'
import net from 'node:net'
import { userInfo } from 'node:os'
import type { AddressInfo } from 'node:net'
import { AgentClient, AgentClientError } from '../../src/agent-client/index.ts'
import type { AgentEvent } from '../../src/api/agent-types.ts'
import { startTestAgent } from '../agent/helpers.ts'
import { runtimeTarball, sha256, startArtifactServer } from '../agent/artifacts.ts'

t.test('calls and errors', async (t) => {
  const agent = await startTestAgent(t.testdir())
  const server = await startArtifactServer()
  t.teardown(async () => {
    await agent.close()
    await server.close()
  })
  const client = new AgentClient({ baseUrl: agent.url, token: agent.token })
  const status = await client.status()
  t.equal(status.provisioningComplete, true)
  const body = runtimeTarball('tool', '1.0')
  server.add('t.tgz', body)
  const installed = await client.installRuntime({
    name: 'tool',
    version: '1.0',
    url: server.url('t.tgz'),
    outbound: server.outbound,
    sha256: sha256(body),
    verify: { command: ['tool'] },
  })
  t.match(installed, { downloaded: true, current: '1.0' })
  t.same(
    (await client.listRuntimes()).runtimes.map((r) => r.name),
    ['tool'],
  )
  const err = await client.removeRuntime('tool', '1.0').catch((e: unknown) => e)
  t.type(err, AgentClientError)
  t.match(err, { code: 'RUNTIME_IN_USE', statusCode: 409 })
  t.match(await client.removeRuntime('tool', '1.0', { force: true }), { current: null })
  t.match(await client.codeServer(), { phase: 'NotInstalled' })
  t.equal((await client.devEnv()).user, userInfo().username, 'a directory root has no dev user: the agent user')
  t.ok((await client.openapi()).paths)
  const bad = new AgentClient({ baseUrl: agent.url, token: 'not-the-token-at-all' })
  t.match(await bad.status().catch((e: unknown) => e), { code: 'UNAUTHORIZED', statusCode: 401 })
  const down = new AgentClient({ baseUrl: 'http://127.0.0.1:1', token: 'x' })
  t.match(await down.status().catch((e: unknown) => e), { code: 'TRANSPORT' })
})

t.test('events() streams changes and reconnects after an agent restart', async (t) => {
  const probe = net.createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((r) => probe.close(() => r()))
  const root = t.testdir()
  const token = 'a'.repeat(40)
  let agent = await startTestAgent(root, { listen: `127.0.0.1:${port}`, token })
  t.teardown(() => agent.close())
  const client = new AgentClient({ baseUrl: agent.url, token })
  const abort = new AbortController()
  const reconnects: unknown[] = []
  const stream = client.events({ signal: abort.signal, reconnectDelayMs: 50, onReconnect: (err) => reconnects.push(err) })
  const next = async (): Promise<AgentEvent> => (await stream.next()).value as AgentEvent

  const first = await next()
  t.equal(first.type, 'snapshot')
  agent.ctx.hub.update('game', { phase: 'Starting' })
  const change = await next()
  t.match(change, { type: 'state', data: { component: 'game', state: { phase: 'Starting' } } })

  await agent.close()
  agent = await startTestAgent(root, { listen: `127.0.0.1:${port}`, token })
  const again = await next()
  t.equal(again.type, 'snapshot', 'a fresh snapshot after reconnecting')
  t.ok(reconnects.length >= 1, 'the break was reported')
  agent.ctx.hub.update('game', { phase: 'Running' })
  t.match(await next(), { type: 'state', data: { state: { phase: 'Running' } } })
  abort.abort()
  t.same(await stream.next(), { value: undefined, done: true }, 'abort ends the iteration')
})
