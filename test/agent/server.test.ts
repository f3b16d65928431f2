// The agent API shell: bearer auth on every route, error catalog, OpenAPI, state stream, logs.
import t from 'tap'
import { startTestAgent } from './helpers.ts'

t.test('every route needs the bearer token; the token is never logged', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  for (const path of ['/status', '/runtimes', '/openapi.json', '/events', '/no-such-route']) {
    const none = await agent.request(path, { headers: { authorization: '' } })
    t.equal(none.status, 401, `${path} without a token`)
    t.equal(((await none.json()) as any).code, 'UNAUTHORIZED')
    const wrong = await agent.request(path, { headers: { authorization: `Bearer ${agent.token.slice(0, -1)}x` } })
    t.equal(wrong.status, 401, `${path} with a wrong token`)
    await wrong.body?.cancel()
    const basic = await agent.request(path, { headers: { authorization: `Basic ${agent.token}` } })
    t.equal(basic.status, 401, `${path} with another scheme`)
    await basic.body?.cancel()
  }
  const ok = await agent.request('/status')
  t.equal(ok.status, 200)
  const status = (await ok.json()) as any
  t.equal(status.provisioningComplete, true)
  t.equal(typeof status.agentVersion, 'string')
  t.equal(status.devEnv.hostChanges, 'skipped', 'a test root never gets host-wide changes')
  const missing = await agent.request('/no-such-route')
  t.equal(missing.status, 404)
  t.equal(((await missing.json()) as any).code, 'NOT_FOUND')
  const all = agent.logs.join('\n')
  t.notMatch(all, agent.token, 'token absent from every log line')
  for (const line of agent.logs) {
    const parsed = JSON.parse(line)
    t.equal(parsed.vmid, 'test-1')
    t.equal(typeof parsed.component, 'string', `component on: ${parsed.msg}`)
  }
})

t.test('invalid bodies are refused with the field named', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const res = await agent.request('/runtimes', {
    method: 'POST',
    json: { name: '../x', version: '1', url: 'file:///etc/passwd', sha256: 'zz', extra: 1 },
  })
  t.equal(res.status, 400)
  const body = (await res.json()) as any
  t.equal(body.code, 'BAD_REQUEST')
  t.match(body.message, /body\/name/)
  t.match(body.message, /body\/url/)
  t.match(body.message, /sha256/)
  t.match(body.message, /additional properties/)
  const del = await agent.request('/runtimes/node/current', { method: 'DELETE' })
  t.equal(del.status, 400, 'the `current` link is not a version')
})

t.test('OpenAPI describes the whole API', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const doc = (await (await agent.request('/openapi.json')).json()) as any
  t.equal(doc.openapi, '3.0.3')
  for (const path of [
    '/status',
    '/events',
    '/runtimes',
    '/runtimes/{name}/{version}',
    '/dev/codeserver/start',
    '/dev/codeserver/stop',
    '/dev/codeserver/restart',
  ]) {
    t.ok(doc.paths[path], `${path} documented`)
  }
  t.ok(doc.paths['/runtimes'].post.requestBody, 'install body schema documented')
  t.same(doc.security, [{ bearer: [] }])
})

t.test('GET /events: snapshot on connect, then one event per change with increasing ids', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const res = await agent.request('/events')
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const next = async (): Promise<{ event: string; id: number; data: any }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n')
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        )
        if (!fields.event) continue
        return { event: fields.event, id: Number(fields.id), data: JSON.parse(fields.data) }
      }
      const { value, done } = await reader.read()
      if (done) throw new Error('stream ended')
      buffer += decoder.decode(value, { stream: true })
    }
  }
  const snapshot = await next()
  t.equal(snapshot.event, 'snapshot')
  t.ok(snapshot.data.components.runtimes, 'snapshot holds the runtimes state')
  agent.ctx.hub.update('game', { phase: 'Running' })
  agent.ctx.hub.update('game', { phase: 'Stopping' })
  const a = await next()
  const b = await next()
  t.same([a.event, a.data.component, a.data.state], ['state', 'game', { phase: 'Running' }])
  t.same(b.data.state, { phase: 'Stopping' })
  t.ok(a.id > snapshot.id && b.id === a.id + 1, 'ids increase')
  const status = (await (await agent.request('/status')).json()) as any
  t.same(status.game, { phase: 'Stopping' }, '/status reads the hub')
  // Shutdown ends the stream rather than hanging on it.
  await agent.close()
  await t.rejects(next(), /stream ended/)
})

t.test('GET /events sends keep-alive comments on an idle stream', async (t) => {
  process.env.ZLH_AGENT_SSE_KEEPALIVE_MS = '50'
  const agent = await startTestAgent(t.testdir())
  delete process.env.ZLH_AGENT_SSE_KEEPALIVE_MS
  t.teardown(() => agent.close())
  const reader = (await agent.request('/events')).body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!/\n: keep-alive \d+\n\n/.test(text)) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  t.match(text, /^retry: 1000\nid: \d+\nevent: snapshot\n/, 'snapshot first')
  t.match(text, /\n: keep-alive \d+\n\n/, 'then a comment line, ignored by SSE clients')
  await reader.cancel()
})

t.test('GET /events drops a client that stops reading instead of buffering without bound', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const { port } = new URL(agent.url)
  const net = await import('node:net')
  const socket = net.connect(Number(port), '127.0.0.1')
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(`GET /events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${agent.token}\r\n\r\n`)
  socket.pause() // never read
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const payload = 'x'.repeat(10_000)
  // Publish up to 60 MB; stop as soon as the agent gives up on the client.
  for (let i = 0; i < 6000 && !agent.logs.some((l) => l.includes('not reading')); i++) {
    agent.ctx.hub.update('flood', { i, payload })
    if (i % 50 === 0) await new Promise((r) => setImmediate(r))
  }
  t.ok(
    agent.logs.some((l) => l.includes('event stream client is not reading')),
    'the slow client was dropped',
  )
  socket.resume()
  await closed
  t.pass('its connection was closed')
})

t.test('every component state is published before the agent answers its first request', async (t) => {
  let atListen: Record<string, unknown> | undefined
  const agent = await startTestAgent(t.testdir(), {
    extraRoutePlugins: [
      async (app, { ctx }) => {
        app.addHook('onListen', async () => {
          atListen = { ...ctx.hub.snapshot().components }
        })
      },
    ],
  })
  t.teardown(() => agent.close())
  t.ok(atListen, 'the hook ran when the agent started listening')
  t.match(
    atListen,
    { agent: { provisioningComplete: false }, devEnv: { workspace: String }, codeServer: { enabled: false, phase: 'NotInstalled' } },
    'agent, dev environment and code-server states are already there (not null) while provisioning finishes',
  )
})
