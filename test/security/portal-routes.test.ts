// Security regression: the portal's authentication cannot be bypassed by how a request is spelled.
// Every route of the running gateway is taken from fastify's own route table (an onRoute hook
// installed, through fastify's `fastify.initialization` diagnostics channel, before the gateway
// registers anything), then sent without a token over a raw socket in many spellings of its path
// and target. Every answer must be 400/401/404/405 and nothing may change (tokens, servers).
// Both directions of the request-target rule (src/gateway/request-target.ts) are checked:
// spellings that are not in normal form are refused with 400 even with an admin token, and the
// normal form (plus harmless escapes and a bare `?`) routes with auth. Also: console WebSocket
// upgrades, the IDE host, CONNECT and `*`, the 413 and deep-JSON limits, and a positive control.
import t from 'tap'
import Fastify from 'fastify'
import { startPortal, gameSpec, NS } from '../gateway/portal/portal-env.ts'
import { SUFFIX } from '../gateway/fixtures.ts'
import { createTestTls } from '../gateway/tls-fixture.ts'
import { GAMESERVER } from '../../src/api/index.ts'
import { authenticateRoute } from '../../src/gateway/portal/auth.ts'
import { exchange, httpText, type Answer } from './raw-http.ts'
import { startPortalRecordingRoutes } from './portal-route-table.ts'

const jsonCode = (a: Answer): string | undefined => {
  try {
    return JSON.parse(a.body).code
  } catch {
    return undefined
  }
}

/** A concrete path for a route pattern: params name things that exist, so a bypass would act. */
function fill(url: string, ids: { tokenId: string }): string {
  return url
    .replace(/^\/api\/dev\/:name/, '/api/dev/victim-dev')
    .replace(/:name/g, 'victim')
    .replace(/:id/g, ids.tokenId)
    .replace(/\*$/, 'server.properties')
}

function bodyFor(method: string, path: string): { body?: string; headers?: Record<string, string> } {
  if (method !== 'POST' && method !== 'PUT') return {}
  const json = (v: unknown) => ({ body: JSON.stringify(v), headers: { 'content-type': 'application/json' } })
  if (/\/(files|uploads)\//.test(path)) return { body: 'pwned', headers: { 'content-type': 'application/octet-stream' } }
  if (path.endsWith('/tokens')) return json({ user: 'mallory', scopes: ['admin'] })
  if (path === '/api/game') return json({ name: 'pwned', spec: gameSpec() })
  if (path === '/api/dev') return json({ name: 'pwned', spec: { runtimes: [{ name: 'node', channel: 'stable' }], running: true } })
  if (path.startsWith('/api/game/'))
    return json({ spec: gameSpec({ running: false, server: { command: ['sh', '-c', 'id > /tmp/pwned'], port: 25565 } }) })
  if (path.startsWith('/api/dev/') && !path.endsWith('/ide-token'))
    return json({ spec: { runtimes: [{ name: 'node', channel: 'stable' }], running: false } })
  return {}
}

/** Spellings of a path that are not its normal form (the rule: each is refused with 400). */
function abnormalSpellings(path: string): string[] {
  const rest = path.slice('/api'.length)
  const out = [
    `/%61pi${rest}`,
    `/a%70i${rest}`,
    `/ap%69${rest}`,
    `/%61%70%69${rest}`,
    `/api%2F${rest.slice(1)}`,
    `/api%2f${rest.slice(1)}`,
    `//api${rest}`,
    `/api/${rest}`,
    `/./api${rest}`,
    `/api/.${rest}`,
    `/x/../api${rest}`,
    `/api/x/..${rest}`,
    `/x/%2e%2e/api${rest}`,
    `/x/%2E%2E/api${rest}`,
    `/%2e/api${rest}`,
    `/api\\${rest.slice(1)}`,
    `/api%5C${rest.slice(1)}`,
    `/api%5c${rest.slice(1)}`,
    `${path}%00`,
    `/api${rest}#`,
    `/api${rest}#x`,
    `/api${rest}?#`,
  ]
  // A letter of the next segment, with hex letters in both cases where its code has one (n = %6e/%6E).
  const seg = /^\/([a-z])/.exec(rest)
  if (seg) {
    const hex = seg[1]!.charCodeAt(0).toString(16)
    out.push(`/api/%${hex}${rest.slice(2)}`, `/api/%${hex.toUpperCase()}${rest.slice(2)}`)
  }
  const n = rest.indexOf('n')
  if (n !== -1) out.push(`/api${rest.slice(0, n)}%6e${rest.slice(n + 1)}`, `/api${rest.slice(0, n)}%6E${rest.slice(n + 1)}`)
  return out
}

/** Other odd spellings: allowed by the rule but naming another (unknown) path, so refused by routing or auth, never served. */
function oddSpellings(path: string): string[] {
  const rest = path.slice('/api'.length)
  return [
    `${path};x`,
    `/api;${rest}`,
    `${path}%3F`,
    `/API${rest}`,
    `/Api${rest}`,
    `/%2561pi${rest}`,
    `/%C1%A1pi${rest}`,
    `/%EF%BD%81pi${rest}`,
    `/api%20${rest}`,
    `${path}%20`,
  ]
}

/** Absolute-form and other non-path targets for a path (the rule: each is refused with 400). */
function absoluteTargets(path: string, port: number): string[] {
  return [
    `http://127.0.0.1:${port}${path}`,
    `https://127.0.0.1:${port}${path}`,
    `HTTP://127.0.0.1:${port}${path}`,
    `http://evil.example${path}`,
    `http://127.0.0.1:${port}/%61pi${path.slice(4)}`,
    `127.0.0.1:${port}`,
  ]
}

const ALLOWED = new Set([400, 401, 404, 405])

t.test('every portal route, every spelling, no token: refused, and nothing changes', async (t) => {
  const { p, routes } = await startPortalRecordingRoutes(t)
  const port = p.svc.gateway.port
  const admin = p.svc.bootstrapAdminToken!

  // The table is fastify's, not a hand list: it must be non-trivial and hold the dangerous routes.
  const has = (m: string, u: string) => routes.some((r) => r.method === m && r.url === u)
  t.ok(routes.length >= 20, `the route table has ${routes.length} entries`)
  t.ok(has('POST', '/api/tokens'), 'POST /api/tokens is enumerated')
  t.ok(has('POST', '/api/game'), 'POST /api/game is enumerated')
  t.ok(has('PUT', '/api/game/:name'), 'PUT /api/game/:name is enumerated')
  t.ok(
    routes.some((r) => r.url.startsWith('/api/game/:name/files/')),
    'the file routes are enumerated',
  )
  const portalRoutes = routes.filter((r) => r.url === '/api' || r.url.startsWith('/api/'))
  t.same(
    routes
      .filter((r) => !portalRoutes.includes(r))
      .map((r) => r.url)
      .sort(),
    [
      '/',
      '/',
      '/__ide/:id',
      '/__ide/:id',
      '/console',
      '/console',
      '/console/',
      '/console/',
      '/console/*',
      '/console/*',
      '/console/session',
      '/console/session',
      '/console/session',
      '/console/session',
      '/healthz',
      '/healthz',
    ],
    // The web console's page, files and session routes check their own callers
    // (test/gateway/console/, test/security/console-shell.test.ts).
    'outside /api only health, the legacy IDE redirect and the web console',
  )
  t.same(
    portalRoutes.filter((r) => r.scope === null).map((r) => r.url),
    ['/api/openapi.json', '/api/openapi.json'],
    'the only public portal route is the OpenAPI document',
  )
  t.same(
    portalRoutes.filter((r) => r.scope === undefined),
    [],
    'every portal route declares a scope',
  )
  const attacked = portalRoutes.filter((r) => r.scope !== null)

  // Things a bypass would act on or change.
  await p.env.client.create({
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'victim', namespace: NS },
    spec: gameSpec(),
  })
  await p.env.client.create({
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'DevServer',
    metadata: { name: 'victim-dev', namespace: NS },
    spec: { runtimes: [{ name: 'node', channel: 'stable' }], running: true },
  })
  const spare = await p.svc.tokens.issue('spare', ['servers:read'])
  const ids = { tokenId: spare.id }
  const snapshot = async () => ({
    tokens: p.svc.tokens
      .list()
      .map((x) => x.id)
      .sort(),
    games: (await p.env.client.list(GAMESERVER, { namespace: NS })).items
      .map((o) => `${o.metadata?.name}@${o.metadata?.generation}`)
      .sort(),
    devs: (await p.env.client.list({ apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' }, { namespace: NS })).items
      .map((o) => `${o.metadata?.name}@${o.metadata?.generation}`)
      .sort(),
  })
  const before = await snapshot()

  const failures: string[] = []
  let sent = 0
  const attack = async (label: string, request: string, check: (a: Answer) => string | undefined, opts: { headOnly?: boolean } = {}) => {
    sent++
    let a: Answer
    try {
      a = await exchange(port, request, opts)
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message}`)
      return
    }
    const problem = check(a)
    if (problem) failures.push(`${label}: ${problem} (got ${a.status} ${a.body.slice(0, 160)})`)
  }
  const refused = (a: Answer) => (ALLOWED.has(a.status) ? undefined : 'not 400/401/404/405')
  const exactly = (status: number) => (a: Answer) => (a.status === status ? undefined : `expected ${status}`)

  for (const r of attacked) {
    const path = fill(r.url, ids)
    const { body, headers } = bodyFor(r.method, path)
    const headOnly = r.method === 'HEAD'
    const send = (
      label: string,
      target: string,
      check: (a: Answer) => string | undefined,
      o: { version?: string; host?: string | null; method?: string } = {},
    ) =>
      attack(
        `${o.method ?? r.method} ${label}`,
        httpText(o.method ?? r.method, target, { version: o.version, host: o.host, headers, body }),
        check,
        { headOnly },
      )

    // Normal form (and a bare "?", which is still the normal path): routed, so 401 without a token.
    await send(path, path, exactly(401))
    await send(`${path}?`, `${path}?`, exactly(401))
    await send(`${path} HTTP/1.0`, path, exactly(401), { version: 'HTTP/1.0', host: null })
    await send(`lowercase ${path}`, path, refused, { method: r.method.toLowerCase() })
    for (const s of abnormalSpellings(path)) await send(s, s, exactly(400))
    for (const s of oddSpellings(path)) await send(s, s, refused)
    for (const s of absoluteTargets(path, port)) {
      await send(s, s, exactly(400))
      await send(`${s} HTTP/1.0`, s, exactly(400), { version: 'HTTP/1.0', host: null })
      await send(`${s} to an IDE host`, s, exactly(400), { host: `dev-101.${SUFFIX}` })
    }
  }
  t.ok(sent > 500, `${sent} requests sent`)
  t.same(failures, [], 'every spelling of every route was refused as the rule says')
  t.same(await snapshot(), before, 'no token issued or revoked, no GameServer or DevServer created or changed')

  await t.test('the rule holds with an admin token too: abnormal spellings are 400, the normal form routes', async (t) => {
    const auth = { authorization: `Bearer ${admin}` }
    for (const s of [...abnormalSpellings('/api/tokens'), ...absoluteTargets('/api/tokens', port)]) {
      const a = await exchange(port, httpText('GET', s, { headers: auth }))
      t.equal(a.status, 400, `GET ${s} with a token`)
      if (a.status === 400 && !s.startsWith('127.')) t.equal(jsonCode(a), 'ZLH_GW_REQUEST_TARGET_INVALID', 'the refusal says why')
    }
    const ok = await exchange(port, httpText('GET', '/api/tokens?', { headers: auth }))
    t.equal(ok.status, 200, 'a bare "?" is the normal path')
    const escaped = await exchange(port, httpText('GET', '/api/game/victim/files/a%20b%C3%A9.txt', { headers: auth }))
    t.notOk([400, 401, 403].includes(escaped.status), `escapes a file name needs are routed (got ${escaped.status})`)
    const unknown = await exchange(port, httpText('GET', '/api/nothing-here', { headers: auth }))
    t.equal(unknown.status, 404)
    t.equal(jsonCode(unknown), 'ZLH_GW_API_NO_ROUTE')
    t.equal((await exchange(port, httpText('GET', '/api/nothing-here'))).status, 401, 'unknown portal paths say nothing without a token')
  })

  await t.test('targets that are not paths: CONNECT, "*", on the portal and IDE hosts', async (t) => {
    for (const host of ['127.0.0.1', `dev-101.${SUFFIX}`]) {
      t.equal((await exchange(port, httpText('CONNECT', `127.0.0.1:${port}`, { host }))).status, 400, `CONNECT on ${host}`)
      t.equal((await exchange(port, httpText('GET', '*', { host }))).status, 400, `GET * on ${host}`)
      t.equal((await exchange(port, httpText('OPTIONS', '*', { host }))).status, 204, `OPTIONS * on ${host} is answered by the gateway`)
      t.equal(
        (await exchange(port, httpText('GET', `http://dev-101.${SUFFIX}/`, { host }))).status,
        400,
        `absolute-form to an IDE host via ${host}`,
      )
    }
  })

  await t.test('console WebSocket upgrades: authenticated on the checked path', async (t) => {
    const upgrade = {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': 'zlh.console',
    }
    const ws = (target: string, extra: Record<string, string> = {}) =>
      exchange(port, httpText('GET', target, { headers: { ...upgrade, ...extra } }))
    for (const path of [
      '/api/game/victim/console',
      '/api/dev/victim-dev/console',
      '/api/game/victim/console?session=x',
      '/api/nothing',
      '/api',
    ]) {
      t.equal((await ws(path)).status, 401, `${path} without a token`)
      t.equal(
        (await ws(path, { 'sec-websocket-protocol': `zlh.console, zlh.bearer.zlh_000000000000_${'A'.repeat(43)}` })).status,
        401,
        `${path} with an unknown token`,
      )
    }
    for (const s of [
      ...abnormalSpellings('/api/game/victim/console'),
      ...absoluteTargets('/api/game/victim/console', port).filter((x) => x.includes('/')),
    ]) {
      t.equal((await ws(s)).status, 400, `${s} is refused before anything else`)
      t.equal((await ws(s, { authorization: `Bearer ${admin}` })).status, 400, `${s} is refused with a token too`)
    }
    t.equal(
      (await exchange(port, httpText('GET', `http://127.0.0.1:${port}/`, { host: `dev-101.${SUFFIX}`, headers: upgrade }))).status,
      400,
      'absolute-form upgrade to an IDE host',
    )
    const withToken = await ws('/api/game/victim/console', { authorization: `Bearer ${admin}` })
    t.notOk(
      [400, 401, 403].includes(withToken.status),
      `with a token the normal path gets past auth (got ${withToken.status}: no agent yet)`,
    )
    t.equal((await ws('/api/nothing', { authorization: `Bearer ${admin}` })).status, 404, 'an unknown upgrade path with a token is a 404')
  })

  await t.test('positive control: the normal spelling with an admin token works', async (t) => {
    const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }
    const listed = await exchange(port, httpText('GET', '/api/tokens', { headers: auth }))
    t.equal(listed.status, 200)
    const issued = await exchange(
      port,
      httpText('POST', '/api/tokens', { headers: auth, body: JSON.stringify({ user: 'bob', scopes: ['servers:read'] }) }),
    )
    t.equal(issued.status, 201, 'POST /api/tokens issues')
    const created = await exchange(
      port,
      httpText('PUT', '/api/game/made-here', { headers: auth, body: JSON.stringify({ spec: gameSpec() }) }),
    )
    t.equal(created.status, 201, 'PUT /api/game/:name creates')
    t.equal(p.svc.tokens.list().length, before.tokens.length + 1)
  })
})

t.test('edge limits: 413 for a large body, 400 for deep JSON, both naming the limit', async (t) => {
  const p = await startPortal(t)
  const port = p.svc.gateway.port
  const admin = p.svc.bootstrapAdminToken!
  const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }

  const big = JSON.stringify({ user: 'x'.repeat(10 * 1024 * 1024), scopes: ['admin'] })
  const large = await exchange(port, httpText('POST', '/api/tokens', { headers: auth, body: big }))
  t.equal(large.status, 413, 'a 10 MB body is a 413')
  t.equal(jsonCode(large), 'ZLH_GW_API_BODY_TOO_LARGE')
  t.match(JSON.parse(large.body).message, /1048576 bytes/, 'naming the limit')
  t.equal(
    (await exchange(port, httpText('POST', '/api/tokens', { headers: { 'content-type': 'application/json' }, body: big }))).status,
    401,
    'without a token: 401, the body is never read',
  )

  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
  for (const [label, body] of [
    ['labels 10,000 deep', `{"labels":${deep(10_000)},"spec":{}}`],
    ['spec 10,000 deep', `{"spec":${deep(10_000)}}`],
    ['arrays 10,000 deep', `{"spec":{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`],
    ['65 levels', `{"spec":${deep(64)}}`],
  ] as const) {
    const a = await exchange(port, httpText('PUT', '/api/game/deep', { headers: auth, body }))
    t.equal(a.status, 400, `${label}: 400`)
    t.equal(jsonCode(a), 'ZLH_GW_API_BODY_TOO_DEEP', `${label}: names the depth limit`)
    t.match(a.body, /at most 64 levels/)
  }
  const charset = await exchange(
    port,
    httpText('PUT', '/api/game/deep', {
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      body: `{"spec":${deep(10_000)}}`,
    }),
  )
  t.equal(jsonCode(charset), 'ZLH_GW_API_BODY_TOO_DEEP', 'with a charset parameter too')
  const largeText = await exchange(
    port,
    httpText('PUT', '/api/game/deep', { headers: { ...auth, 'content-type': 'text/plain' }, body: 'x'.repeat(2 * 1024 * 1024) }),
  )
  t.equal(largeText.status, 413, 'a large body of another type is a 413 as well')
  const shallow = await exchange(port, httpText('PUT', '/api/game/deep', { headers: auth, body: `{"spec":${deep(63)}}` }))
  t.equal(shallow.status, 400)
  t.not(jsonCode(shallow), 'ZLH_GW_API_BODY_TOO_DEEP', '64 levels pass the depth check (and fail validation)')
  const bracesInStrings = await exchange(
    port,
    httpText('POST', '/api/tokens', { headers: auth, body: JSON.stringify({ user: '{['.repeat(5000), scopes: ['servers:read'] }) }),
  )
  t.not(jsonCode(bracesInStrings), 'ZLH_GW_API_BODY_TOO_DEEP', 'brackets inside strings do not count')
  t.equal((await p.env.client.list(GAMESERVER, { namespace: NS })).items.length, 0, 'nothing was written')
  t.equal((await exchange(port, httpText('GET', '/healthz'))).status, 200, 'the gateway is still up')
})

t.test('over TLS, the same rule: absolute-form and encoded spellings refused, normal form authenticated', async (t) => {
  const tls = await createTestTls(SUFFIX)
  const p = await startPortal(t, { tls: { key: tls.key, cert: tls.cert } })
  const port = p.svc.gateway.port
  const tokensBefore = p.svc.tokens.list().length
  const body = JSON.stringify({ user: 'mallory', scopes: ['admin'] })
  const headers = { 'content-type': 'application/json' }
  for (const target of [
    `https://127.0.0.1:${port}/api/tokens`,
    `http://127.0.0.1:${port}/api/tokens`,
    '/%61pi/tokens',
    '/x/../api/tokens',
  ]) {
    const a = await exchange(port, httpText('POST', target, { headers, body }), { tls: true })
    t.equal(a.status, 400, `POST ${target} over TLS`)
  }
  t.equal(
    (await exchange(port, httpText('POST', '/api/tokens', { headers, body }), { tls: true })).status,
    401,
    'the normal form is authenticated',
  )
  t.equal(p.svc.tokens.list().length, tokensBefore, 'no token was issued')
})

t.test('fail closed: a portal route that declares no scope is refused to every token', async (t) => {
  const p = await startPortal(t)
  const admin = p.svc.bootstrapAdminToken!
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(
    async (portal) => {
      portal.addHook('onRequest', authenticateRoute(p.svc.tokens))
      portal.get('/forgotten', async () => ({ reached: true }))
      portal.get('/public', { config: { scope: null } }, async () => ({ reached: true }))
      portal.get('/read', { config: { scope: 'servers:read' } }, async () => ({ reached: true }))
    },
    { prefix: '/api' },
  )
  const get = (url: string, token?: string) => app.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} })
  t.equal((await get('/api/forgotten')).statusCode, 401)
  const forgotten = await get('/api/forgotten', admin)
  t.equal(forgotten.statusCode, 403, 'even an admin token is refused on a route without a scope')
  t.equal(forgotten.json().code, 'ZLH_GW_API_FORBIDDEN')
  t.equal((await get('/api/public')).statusCode, 200, 'scope: null is public')
  t.equal((await get('/api/read')).statusCode, 401)
  t.equal((await get('/api/read', admin)).statusCode, 200)
})
