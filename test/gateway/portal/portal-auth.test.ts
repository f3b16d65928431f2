// Portal API authentication: no token 401, unknown token 401, wrong scope 403, tokens hashed at
// rest in their Secret (the stored form never contains the token), revocation, OpenAPI document.
import t from 'tap'
import { createHash } from 'node:crypto'
import { startPortal } from './portal-env.ts'
import { SECRET } from '../../../src/gateway/portal/kinds.ts'

t.test('auth, scopes, hashing at rest, token admin, openapi', async (t) => {
  const p = await startPortal(t)
  t.ok(p.svc.bootstrapAdminToken, 'a first start with no admin token issues one to print')

  const none = await p.api('/api/servers')
  t.equal(none.status, 401)
  t.equal(none.json.code, 'ZLH_GW_API_UNAUTHENTICATED')
  t.match(none.headers.get('www-authenticate'), /^Bearer/)

  const forged = await p.api('/api/servers', { token: `zlh_000000000000_${'A'.repeat(43)}` })
  t.equal(forged.status, 401, 'a well-formed but unknown token is refused')

  const ideOnly = await p.token('ide')
  const wrong = await p.api('/api/servers', { token: ideOnly })
  t.equal(wrong.status, 403)
  t.equal(wrong.json.code, 'ZLH_GW_API_FORBIDDEN')
  t.equal(wrong.json.requiredScope, 'servers:read')
  const unknownRoute = await p.api('/api/nope', { token: ideOnly })
  t.equal(unknownRoute.status, 404, 'an unknown path under /api is a 404 once authenticated')
  t.equal(unknownRoute.json.code, 'ZLH_GW_API_NO_ROUTE')
  t.equal((await p.api('/api/nope')).status, 401, 'and a 401 without a token: nothing about the portal leaks')

  const reader = await p.token('servers:read')
  const ok = await p.api('/api/servers', { token: reader })
  t.equal(ok.status, 200)
  t.same(ok.json, { items: [] })
  const noWrite = await p.api('/api/game/x', { method: 'PUT', token: reader, json: { spec: {} } })
  t.equal(noWrite.status, 403, 'servers:read cannot write')

  // Stored form: only sha256 hashes; no token (or any 16-char piece of one) appears.
  const secret = await p.env.client.get<{ data: Record<string, string> }>(SECRET, 'zlh-gateway-api-tokens', 'zlh-system')
  const stored =
    Object.values(secret.data)
      .map((b) => Buffer.from(b, 'base64').toString('utf8'))
      .join('\n') + JSON.stringify(secret)
  for (const tok of [reader, ideOnly, p.svc.bootstrapAdminToken!]) {
    t.notOk(stored.includes(tok.slice(17, 33)), 'the secret part of the token is not stored')
    t.ok(stored.includes(createHash('sha256').update(tok).digest('hex')), 'its sha256 is')
  }

  // Admin issues and revokes through the API; the token works at once and stops at once.
  const admin = p.svc.bootstrapAdminToken!
  const badIssue = await p.api('/api/tokens', { method: 'POST', token: admin, json: { user: 'bob', scopes: ['servers:fly'] } })
  t.equal(badIssue.status, 400)
  t.match(badIssue.json.errors[0].field, /scopes/, 'the error names the field')
  const issued = await p.api('/api/tokens', { method: 'POST', token: admin, json: { user: 'bob', scopes: ['servers:read'] } })
  t.equal(issued.status, 201)
  t.equal((await p.api('/api/servers', { token: issued.json.token })).status, 200)
  const listed = await p.api('/api/tokens', { token: admin })
  t.notOk(listed.text.includes(issued.json.token.slice(17)), 'listing never shows tokens')
  t.equal((await p.api(`/api/tokens/${issued.json.id}`, { method: 'DELETE', token: admin })).status, 204)
  t.equal((await p.api('/api/servers', { token: issued.json.token })).status, 401, 'revoked')
  t.equal((await p.api('/api/tokens', { token: reader })).status, 403, 'token admin needs admin')

  t.equal((await p.api('/healthz')).status, 200, 'health stays public')
  const legacy = await p.api('/__ide/101')
  t.equal(legacy.status, 302, 'the legacy IDE redirect stays public')
  t.equal((await p.api('/apix')).status, 404, 'only /api is behind tokens')

  const doc = await p.api('/api/openapi.json')
  t.equal(doc.status, 200, 'the OpenAPI document is public')
  t.match(doc.json.openapi, /^3\./)
  t.ok(doc.json.paths['/api/servers/{name}/status'], 'documents the status route')
  t.ok(doc.json.paths['/api/dev/{name}/ide-token'], 'documents the IDE link route')
  t.ok(doc.json.paths['/api/game/{name}'].put.requestBody, 'documents the CRD-derived body')
})

t.test('without the CRDs the gateway refuses to start, saying what to do', async (t) => {
  const { startTestEnv } = await import('../../../src/runtime/envtest/index.ts')
  const { startGatewayService } = await import('../../../src/gateway/service.ts')
  const env = await startTestEnv()
  t.teardown(() => env.stop())
  await t.rejects(
    startGatewayService({ client: env.client, listen: '127.0.0.1:0', ideSuffix: 'zlh.test', syncTimeoutMs: 1500 }),
    /apply the CRDs/,
  )
})

t.test('bootstrap admin token from a file: generated into it (0600) once, then read from it', async (t) => {
  const { statSync, readFileSync, writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { startGatewayService } = await import('../../../src/gateway/service.ts')
  const dir = t.testdir()
  const file = join(dir, 'admin-token')
  const p = await startPortal(t, { adminTokenFile: file })
  t.equal(p.svc.bootstrapAdminToken, undefined, 'written to the file, not returned for printing')
  t.equal(statSync(file).mode & 0o777, 0o600)
  const token = readFileSync(file, 'utf8').trim()
  t.equal((await p.api('/api/tokens', { token })).status, 200, 'the file holds a working admin token')

  // An operator-provided token in a file is registered (hashed) on start.
  const own = join(dir, 'own-token')
  const chosen = `zlh_abcdefabcdef_${'Q'.repeat(43)}`
  writeFileSync(own, `${chosen}\n`, { mode: 0o600 })
  const second = await startGatewayService({ client: p.env.client, listen: '127.0.0.1:0', ideSuffix: 'zlh.test', adminTokenFile: own })
  t.teardown(() => second.close())
  const res = await fetch(`${second.gateway.url}/api/tokens`, { headers: { authorization: `Bearer ${chosen}` } })
  t.equal(res.status, 200)
  t.notOk(JSON.stringify(await res.json()).includes('QQQQ'), 'listed without the token')
})
