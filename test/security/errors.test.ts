// Error answers built from the catalogs (src/platform/error-catalog.ts) under hostile input: the
// status and text are the catalog entry's, the specific part names the field or route, and a
// presented token (bearer or IDE link) is never echoed in a body, a header or the agent's log.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { startTestAgent } from '../agent/helpers.ts'
import { agentErrors } from '../../agent/errors.ts'
import { gatewayErrors } from '../../src/gateway/errors.ts'
import { send, startGateway } from '../gateway/fixtures.ts'

t.test('agent: refusals carry the catalog entry and echo no presented token', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const marker = `tok${randomBytes(12).toString('hex')}`

  const wrongToken = await agent.request('/status', { headers: { authorization: `Bearer ${marker}` } })
  t.equal(wrongToken.status, agentErrors.entries.UNAUTHORIZED.httpStatus)
  t.same(await wrongToken.json(), { code: 'UNAUTHORIZED', message: agentErrors.entries.UNAUTHORIZED.message, statusCode: 401 })

  const unknown = await agent.request('/no-such-route/x', { headers: { authorization: `Bearer ${marker}` } })
  t.equal(unknown.status, 401, 'an unknown route is refused before it is routed')
  t.notMatch(await unknown.text(), marker)

  const nul = await agent.request('/game', { method: 'PUT', json: { server: { command: ['a\u0000b'] } } })
  const nulBody = (await nul.json()) as { code: string; message: string; statusCode: number }
  t.equal(nul.status, agentErrors.entries.FIELD_NUL_BYTE.httpStatus)
  t.equal(nulBody.code, 'FIELD_NUL_BYTE')
  t.ok(nulBody.message.endsWith(`: ${agentErrors.entries.FIELD_NUL_BYTE.message}`), 'the specific part, then the catalog message')

  const missing = await agent.request('/no-such-route')
  t.equal(missing.status, agentErrors.entries.NOT_FOUND.httpStatus)
  t.match(await missing.json(), { code: 'NOT_FOUND', message: /^GET \/no-such-route is not an agent route: no such resource$/ })

  t.notMatch(agent.logs.join('\n'), marker, 'the presented token is in no log line')
})

t.test('gateway: an IDE link refused shows the catalog entry and echoes no token', async (t) => {
  const g = await startGateway()
  t.teardown(() => g.gw.close())
  const marker = `v2.101.${randomBytes(16).toString('hex')}`
  const r = await send(g.gw, { host: g.host(101), path: `/?token=${marker}` })
  const code = r.headers['x-zlh-error']
  t.ok(typeof code === 'string' && gatewayErrors.has(code), `answered with a catalog code (${String(code)})`)
  const entry = gatewayErrors.entries[code as keyof typeof gatewayErrors.entries]
  t.equal(r.status, entry.httpStatus)
  t.match(r.body, `<h1>${entry.message}</h1>`)
  t.notMatch(r.body, marker)
  t.notMatch(JSON.stringify(r.headers), marker)
})
