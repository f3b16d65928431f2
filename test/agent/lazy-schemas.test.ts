// Route schemas compile on first use (agent/lazy-schema-compilers.ts) and the OpenAPI document is
// built on the first GET /openapi.json (agent/openapi.ts): nothing of either happens at start, and
// every schema the agent declares still compiles and still applies.
import t from 'tap'
import { startTestAgent } from './helpers.ts'
import { compileAgentRouteSchemas } from '../../agent/server.ts'

t.test('every route schema of the agent compiles (a broken one would otherwise fail only its first request)', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const compiled = compileAgentRouteSchemas(agent.app)
  t.ok(compiled > 20, `${compiled} validators and serializers handed out lazily and compiled`)
})

t.test('the first request of a route is validated and serialized by its schema', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  // first use of POST /runtimes: refused by its body schema, every error listed (allErrors)
  const bad = await agent.request('/runtimes', { method: 'POST', json: { name: 'node', extra: 1 } })
  t.equal(bad.status, 400)
  const body = (await bad.json()) as { code: string; message: string }
  t.equal(body.code, 'BAD_REQUEST')
  t.match(body.message, /version/)
  t.match(body.message, /additional properties/)
  // a NUL byte is refused before the schema (the edge's own check), also on first use
  const nul = await agent.request('/runtimes', { method: 'POST', json: { name: 'no\u0000de' } })
  t.equal(nul.status, 400)
  // first use of GET /status: the response schema shapes it (no field outside the schema)
  const status = (await (await agent.request('/status')).json()) as Record<string, unknown>
  t.equal(typeof status.agentVersion, 'string')
})

t.test('the OpenAPI document is built once, on request, and served the same every time', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const [a, b] = await Promise.all([agent.request('/openapi.json'), agent.request('/openapi.json')])
  const first = await a.text()
  t.equal(await b.text(), first)
  const third = await (await agent.request('/openapi.json')).text()
  t.equal(third, first)
  const doc = JSON.parse(first) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: object } }
  t.equal(doc.openapi, '3.0.3')
  t.ok(doc.paths['/status']?.get, 'GET /status documented')
  t.notOk(doc.paths['/status']?.head, 'HEAD routes left out, as the plugin does')
  t.notOk(doc.paths['/openapi.json'], 'the document hides itself')
  t.ok(doc.paths['/game/console']?.get, 'WebSocket consoles documented as GET upgrades')
  t.ok('AgentError' in doc.components.schemas)
})
