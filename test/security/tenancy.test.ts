// Security regression: portal tenants. Two tenants, A (namespace tenant-a) and B (tenant-b), with
// tokens issued through POST /api/tokens {namespaces}, and the admin. A owns a GameServer and a
// DevServer that are Ready, with agent credentials pointing at a real agent (so a leak would act).
// Every portal route is taken from fastify's route table (portal-route-table.ts) and called with
// B's token on A's server names, with and without ?namespace=tenant-a: never a 2xx on A's servers,
// nothing of A's changes, no IDE link is minted, and the answer is the same as for a server that
// does not exist (and the same whether the namespace asked for exists or not: no existence
// oracle). The event stream and the console WebSocket show none of A's servers, and B's IDE links
// and session open only B's DevServer's host. A reaches its own,
// the admin reaches both, and A's creations land in A's namespace.
// The namespace per customer is how Kubernetes itself separates tenants
// (https://kubernetes.io/docs/concepts/security/multi-tenancy/).
import t from 'tap'
import WebSocket from 'ws'
import { startTestAgent } from '../agent/helpers.ts'
import { gameSpec, readyConditions } from '../gateway/portal/portal-env.ts'
import { PatchType } from '../../src/runtime/index.ts'
import { DEVSERVER, GAMESERVER } from '../../src/api/index.ts'
import { NAMESPACE, SECRET } from '../../src/gateway/portal/kinds.ts'
import { startPortalRecordingRoutes } from './portal-route-table.ts'
import { send, sessionCookieOf, SUFFIX } from '../gateway/fixtures.ts'

const NS_A = 'tenant-a'
const NS_B = 'tenant-b'
const TENANT_SCOPES = ['servers:read', 'servers:write', 'ide', 'console', 'files']
const devSpec = (over: Record<string, unknown> = {}) => ({ runtimes: [{ name: 'node', channel: 'stable' }], running: true, ...over })

t.test("tenant B reaches none of tenant A's servers by any route; A reaches its own; the admin reaches both", async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const { p, routes } = await startPortalRecordingRoutes(t)
  const admin = p.svc.bootstrapAdminToken!
  const client = p.env.client

  // ─── tokens: issued by the admin through the portal, for namespaces ───
  const issue = async (user: string, namespaces: string[]) => {
    const r = await p.api('/api/tokens', { method: 'POST', token: admin, json: { user, scopes: TENANT_SCOPES, namespaces } })
    t.equal(r.status, 201, `token for ${user} issued: ${r.text}`)
    t.same(r.json.namespaces, namespaces, 'the answer names its namespaces')
    return r.json.token as string
  }
  const tokenA = await issue('alice', [NS_A])
  const tokenB = await issue('bob', [NS_B])
  for (const ns of [NS_A, NS_B]) t.ok(await client.get(NAMESPACE, ns), `issuing the token created namespace ${ns}`)
  const invalid = await p.api('/api/tokens', {
    method: 'POST',
    token: admin,
    json: { user: 'x', scopes: ['servers:read'], namespaces: ['Not_A_Label'] },
  })
  t.equal(invalid.status, 400, 'a namespace that is not a DNS label is refused')
  t.match(invalid.text, /namespaces/, 'naming the field')
  t.equal(
    (await p.api('/api/tokens', { method: 'POST', token: admin, json: { user: 'x', scopes: ['servers:read'], namespaces: [] } })).status,
    400,
    'an empty namespace list is refused (1..N)',
  )
  for (const reserved of ['kube-system', 'zlh-system']) {
    const r = await p.api('/api/tokens', {
      method: 'POST',
      token: admin,
      json: { user: 'x', scopes: ['servers:read'], namespaces: [NS_A, reserved] },
    })
    t.equal(r.status, 400, `${reserved} is never a tenant`)
    t.match(r.json.message, reserved, 'naming it')
  }
  t.equal(
    (await p.api('/api/tokens', { method: 'POST', token: tokenA, json: { user: 'x', scopes: ['servers:read'], namespaces: [NS_A] } }))
      .status,
    403,
    'token administration stays admin-only',
  )

  // ─── A's servers: Ready, with a vmid, a uid and agent credentials; B has one of its own ───
  const create = async (kind: 'GameServer' | 'DevServer', ns: string, name: string, vmid: number) => {
    await client.create({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind,
      metadata: { name, namespace: ns },
      spec: kind === 'GameServer' ? gameSpec() : devSpec(),
    })
    await client.patch(
      { apiVersion: 'zerolaghub.dev/v1alpha1', kind },
      name,
      ns,
      { status: { phase: 'Running', vmid, address: '127.0.0.1', conditions: readyConditions(true) } },
      PatchType.merge,
      { subresource: 'status', fieldManager: 'zlh-controller' },
    )
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-agent-token`, namespace: ns },
      data: { token: Buffer.from(agent.token).toString('base64'), agentUrl: Buffer.from(agent.url).toString('base64') },
    })
  }
  await create('GameServer', NS_A, 'a-game', 301)
  await create('DevServer', NS_A, 'a-dev', 302)
  await create('GameServer', NS_B, 'b-game', 401)
  await create('DevServer', NS_B, 'b-dev', 402)
  const writeA = await p.api('/api/game/a-game/files/motd.txt', {
    method: 'PUT',
    token: tokenA,
    body: 'from A\n',
    headers: { 'content-type': 'application/octet-stream' },
  })
  t.ok(writeA.status >= 200 && writeA.status < 300, `A writes a file on its own server (${writeA.status} ${writeA.text})`)

  // Everything of A's a bypass could change, read with the API server's admin identity.
  const snapshotA = async () => {
    const out: string[] = []
    for (const ref of [GAMESERVER, DEVSERVER, SECRET]) {
      for (const o of (await client.list(ref, { namespace: NS_A })).items)
        out.push(`${o.kind}/${o.metadata?.name}@${o.metadata?.resourceVersion}${o.metadata?.deletionTimestamp ? ' deleting' : ''}`)
    }
    const file = await agent.request('/files/motd.txt')
    out.push(`motd.txt=${file.status}:${await file.text()}`)
    return out.sort()
  }
  const before = await snapshotA()
  const tokensBefore = p.svc.tokens
    .list()
    .map((x) => x.id)
    .sort()

  // ─── every route from fastify's table ───
  const portalRoutes = routes.filter((r) => r.url.startsWith('/api/') && r.scope !== null)
  const named = portalRoutes.filter((r) => r.url.includes(':name'))
  const collections = portalRoutes.filter((r) => !r.url.includes(':name'))
  t.ok(named.length >= 20, `${named.length} routes address one server`)
  t.same(
    collections.map((r) => `${r.method} ${r.url}`).sort(),
    [
      'DELETE /api/tokens/:id',
      'GET /api/dev',
      'GET /api/events',
      'GET /api/game',
      'GET /api/runtimes',
      'GET /api/servers',
      'GET /api/tokens',
      'HEAD /api/dev',
      'HEAD /api/events',
      'HEAD /api/game',
      'HEAD /api/runtimes',
      'HEAD /api/servers',
      'HEAD /api/tokens',
      'POST /api/dev',
      'POST /api/game',
      'POST /api/tokens',
    ],
    'every other route is one this test knows how to check (classify a new one here)',
  )

  const serverOf = (url: string) => (url.startsWith('/api/dev/') ? 'a-dev' : url.startsWith('/api/game/') ? 'a-game' : 'a-game')
  const bodyFor = (method: string, url: string): { body?: string; headers?: Record<string, string> } => {
    if (method !== 'PUT' && method !== 'POST') return {}
    if (/\/(files|uploads)\//.test(url)) return { body: 'pwned', headers: { 'content-type': 'application/octet-stream' } }
    if (url.endsWith('/ide-token')) return {}
    return {
      body: JSON.stringify({
        spec: url.startsWith('/api/dev/')
          ? devSpec({ running: false })
          : gameSpec({ running: false, server: { command: ['sh', '-c', 'id > /tmp/pwned'], port: 25565 } }),
      }),
      headers: { 'content-type': 'application/json' },
    }
  }
  const pathFor = (url: string, name: string) => url.replace(':name', name).replace(/\*$/, 'motd.txt')
  const answerOf = async (method: string, url: string, name: string, query: string) => {
    const r = await p.api(`${pathFor(url, name)}${query}`, { method, token: tokenB, ...bodyFor(method, url) })
    let code: string | undefined
    try {
      code = r.json?.code
    } catch {
      code = undefined
    }
    // The same answer up to the names in it.
    const message =
      typeof r.json?.message === 'string'
        ? r.json.message.replaceAll(name, '<name>').replace(/tenant-a|tenant-b|no-such-tenant/g, '<ns>')
        : undefined
    if (r.json?.url !== undefined || r.json?.token !== undefined)
      t.fail(`${method} ${pathFor(url, name)}${query} handed out a link or token`)
    return { status: r.status, code, message }
  }

  const failures: string[] = []
  const deferredPuts: Array<{ method: string; url: string }> = []
  for (const r of named) {
    if (r.method === 'PUT' && /^\/api\/(game|dev)\/:name$/.test(r.url)) {
      deferredPuts.push(r)
      continue
    }
    const victim = serverOf(r.url)
    const ghost = `${victim}-ghost`
    for (const [label, query, ghostQueries] of [
      ['?namespace=tenant-a', `?namespace=${NS_A}`, [`?namespace=${NS_A}`, '?namespace=no-such-tenant', '']],
      ['own namespace', '', ['']],
    ] as const) {
      const got = await answerOf(r.method, r.url, victim, query)
      if (got.status >= 200 && got.status < 300) failures.push(`${r.method} ${r.url} ${label}: ${got.status}`)
      for (const gq of ghostQueries) {
        const ref = await answerOf(r.method, r.url, ghost, gq)
        if (JSON.stringify(ref) !== JSON.stringify(got))
          failures.push(
            `${r.method} ${r.url} ${label}: ${JSON.stringify(got)} differs from a missing server (${gq || 'own namespace'}): ${JSON.stringify(ref)}`,
          )
      }
    }
  }
  // PUT (create or change) last: without ?namespace it is B's own namespace, where it creates.
  for (const r of deferredPuts) {
    const victim = serverOf(r.url)
    const got = await answerOf(r.method, r.url, victim, `?namespace=${NS_A}`)
    const ghost = await answerOf(r.method, r.url, `${victim}-ghost`, '?namespace=no-such-tenant')
    t.equal(got.status, 404, `${r.method} ${r.url}?namespace=tenant-a: 404`)
    t.same(got, ghost, 'the same answer whether the namespace exists or not')
    t.equal(got.code, 'ZLH_GW_API_NAMESPACE_NOT_FOUND')
    const own = await p.api(pathFor(r.url, victim), { method: 'PUT', token: tokenB, ...bodyFor('PUT', r.url) })
    t.equal(own.status, 201, `${r.method} ${r.url} without ?namespace creates B's own ${victim}`)
    t.equal(own.json?.namespace, NS_B, "in B's namespace")
    await client.delete(own.json.kind === 'DevServer' ? DEVSERVER : GAMESERVER, victim, NS_B)
  }
  t.same(failures, [], "B on A's servers: never 2xx, always the answer of a missing server")

  // Collections: lists show only B's; A's namespace is a 404 like one that does not exist.
  for (const path of ['/api/servers', '/api/game', '/api/dev']) {
    const own = await p.api(path, { token: tokenB })
    t.equal(own.status, 200)
    t.notMatch(own.text, /a-game|a-dev|tenant-a/, `${path}: none of A's servers`)
    const other = await p.api(`${path}?namespace=${NS_A}`, { token: tokenB })
    const none = await p.api(`${path}?namespace=no-such-tenant`, { token: tokenB })
    t.equal(other.status, 404, `${path}?namespace=tenant-a: 404`)
    t.equal(other.json.code, 'ZLH_GW_API_NAMESPACE_NOT_FOUND')
    t.same(
      [none.status, none.json.code, none.json.message.replace('no-such-tenant', NS_A)],
      [other.status, other.json.code, other.json.message],
      'the same as for a namespace that does not exist',
    )
  }
  for (const kind of ['game', 'dev']) {
    const spec = kind === 'game' ? gameSpec() : devSpec()
    const post = await p.api(`/api/${kind}?namespace=${NS_A}`, { method: 'POST', token: tokenB, json: { name: `b-into-a-${kind}`, spec } })
    t.equal(post.status, 404, `POST /api/${kind}?namespace=tenant-a: 404`)
    t.equal(post.json.code, 'ZLH_GW_API_NAMESPACE_NOT_FOUND')
  }
  t.equal((await p.api('/api/tokens', { token: tokenB })).status, 403, 'B lists no tokens')
  t.equal((await p.api(`/api/tokens/${p.svc.tokens.list()[0]!.id}`, { method: 'DELETE', token: tokenB })).status, 403, 'nor revokes one')
  t.equal((await p.api('/api/runtimes', { token: tokenB })).status, 200, 'the runtime catalog is cluster-wide, for every reader')

  t.same(await snapshotA(), before, "nothing of A's changed: servers, Secrets, files")
  t.same(
    p.svc.tokens
      .list()
      .map((x) => x.id)
      .sort(),
    tokensBefore,
    'no token issued or revoked',
  )

  await t.test("the event stream shows B none of A's servers", async (t) => {
    const events: string[] = []
    const ac = new AbortController()
    t.teardown(() => ac.abort())
    const res = await fetch(`${p.svc.gateway.url}/api/events`, { headers: { authorization: `Bearer ${tokenB}` }, signal: ac.signal })
    t.equal(res.status, 200)
    const reader = res.body!.getReader()
    let buffer = ''
    const next = async (until: (text: string) => boolean) => {
      const deadline = Date.now() + 15_000
      while (!until(buffer)) {
        if (Date.now() > deadline) throw new Error(`no such event; got ${buffer.slice(0, 400)}`)
        const { value, done } = await reader.read()
        if (done) throw new Error('the stream ended')
        buffer += Buffer.from(value).toString('utf8')
      }
    }
    await next((b) => b.includes('event: snapshot'))
    t.match(buffer, /b-game/, "the snapshot holds B's server")
    t.notMatch(buffer, /a-game|a-dev/, "and none of A's")
    // A change of A's server, then one of B's: B's arrives, A's never did before it.
    await client.patch(GAMESERVER, 'a-game', NS_A, { status: { restarts: 7 } }, PatchType.merge, {
      subresource: 'status',
      fieldManager: 'zlh-controller',
    })
    await client.patch(GAMESERVER, 'b-game', NS_B, { status: { restarts: 8 } }, PatchType.merge, {
      subresource: 'status',
      fieldManager: 'zlh-controller',
    })
    await next((b) => b.includes('"restarts":8'))
    events.push(buffer)
    t.notMatch(events.join(''), /a-game|a-dev|"restarts":7/, "A's change was not streamed to B")
    const other = await fetch(`${p.svc.gateway.url}/api/events?namespace=${NS_A}`, { headers: { authorization: `Bearer ${tokenB}` } })
    t.equal(other.status, 404, '?namespace=tenant-a: 404 before any stream')
    await other.body?.cancel()
  })

  const wsUrl = (kind: string, name: string, query = '') =>
    `${p.svc.gateway.url.replace(/^http/, 'ws')}/api/${kind}/${name}/console${query}`
  const refusal = (url: string, token: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
      ws.once('unexpected-response', (_req, res) => {
        let b = ''
        res.on('data', (c) => {
          b += c
        })
        res.on('end', () => resolve({ status: res.statusCode!, body: b }))
      })
      ws.once('open', () => {
        ws.close()
        reject(new Error(`${url} opened`))
      })
      ws.once('error', () => {})
    })
  const opens = (url: string, token: string) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
      ws.once('open', () => {
        ws.close()
        resolve()
      })
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: ${res.statusCode}`)))
      ws.once('error', reject)
    })

  await t.test("the console WebSocket: B gets a missing server's 404; A and the admin get through", async (t) => {
    const normalize = (r: { status: number; body: string }, name: string) => ({ status: r.status, body: r.body.replaceAll(name, '<name>') })
    for (const [kind, name] of [
      ['game', 'a-game'],
      ['dev', 'a-dev'],
    ] as const) {
      const ghost = normalize(await refusal(wsUrl(kind, `${name}-ghost`), tokenB), `${name}-ghost`)
      t.equal(ghost.status, 404)
      t.same(normalize(await refusal(wsUrl(kind, name), tokenB), name), ghost, `${kind} ${name} in B's namespace: as missing`)
      t.same(
        normalize(await refusal(wsUrl(kind, name, `?namespace=${NS_A}`), tokenB), name),
        ghost,
        `${kind} ${name}?namespace=tenant-a: as missing`,
      )
      t.same(
        normalize(await refusal(wsUrl(kind, `${name}-ghost`, '?namespace=no-such-tenant'), tokenB), `${name}-ghost`),
        ghost,
        'and as a namespace that does not exist',
      )
    }
    await opens(wsUrl('game', 'a-game'), tokenA)
    t.pass('A opens the console of its own game server')
    await opens(wsUrl('game', 'a-game', `?namespace=${NS_A}`), admin)
    t.pass('the admin opens it with ?namespace=tenant-a')
  })

  await t.test("the IDE host: B's own link and session open B's DevServer only", async (t) => {
    const ideHost = (vmid: number) => `dev-${vmid}.${SUFFIX}:${p.svc.gateway.port}`
    const linkFor = async () => {
      const r = await p.api('/api/dev/b-dev/ide-token', { method: 'POST', token: tokenB })
      t.equal(r.status, 200, `B gets a link for its own DevServer (${r.text})`)
      return new URL(r.json.url).searchParams.get('token')!
    }
    const onA = await send(p.svc.gateway, { host: ideHost(302), path: `/?token=${await linkFor()}` })
    t.equal(onA.status, 401, "B's link, presented on A's IDE host, is refused")
    t.notOk(sessionCookieOf(onA), 'and sets no session')
    const own = await send(p.svc.gateway, { host: ideHost(402), path: `/?token=${await linkFor()}` })
    const cookie = sessionCookieOf(own)
    t.ok(own.status === 302 && cookie, "on B's own host it signs B in")
    const replayed = await send(p.svc.gateway, { host: ideHost(302), path: '/', headers: { cookie: cookie! } })
    t.equal(replayed.status, 401, "B's session cookie, sent to A's IDE host, is refused")
  })

  await t.test('A reaches its own servers, the admin both; A creates in its namespace', async (t) => {
    t.equal((await p.api('/api/game/a-game', { token: tokenA })).status, 200, 'A reads its game server')
    t.equal((await p.api('/api/servers/a-dev/status', { token: tokenA })).json.namespace, NS_A, "A reads its dev server's status")
    const file = await p.api('/api/game/a-game/files/motd.txt', { token: tokenA })
    t.equal(file.text, 'from A\n', 'A reads its files')
    const link = await p.api('/api/dev/a-dev/ide-token', { method: 'POST', token: tokenA })
    t.equal(link.status, 200, `A gets an IDE link for its DevServer (${link.text})`)
    t.match(link.json.url, /^https:\/\/dev-302\./)
    const mine = await p.api('/api/servers', { token: tokenA })
    t.same(
      mine.json.items.map((i: { name: string; namespace: string }) => `${i.namespace}/${i.name}`).sort(),
      ['tenant-a/a-dev', 'tenant-a/a-game'],
      'A lists exactly its servers, each naming its namespace',
    )

    const all = await p.api('/api/servers', { token: admin })
    const names = all.json.items.map((i: { name: string; namespace: string }) => `${i.namespace}/${i.name}`)
    for (const n of ['tenant-a/a-game', 'tenant-a/a-dev', 'tenant-b/b-game']) t.ok(names.includes(n), `the admin lists ${n}`)
    t.equal((await p.api(`/api/game/b-game?namespace=${NS_B}`, { token: admin })).status, 200, "the admin reads B's server")
    t.equal((await p.api(`/api/game/a-game/files/motd.txt?namespace=${NS_A}`, { token: admin })).text, 'from A\n', "and A's files")
    t.equal(
      (await p.api('/api/game/a-game', { token: admin })).status,
      404,
      "the admin's default namespace is the portal's (default), as before",
    )

    const created = await p.api('/api/game', { method: 'POST', token: tokenA, json: { name: 'a-new', spec: gameSpec() } })
    t.equal(created.status, 201)
    t.equal(created.json.namespace, NS_A, "the answer names A's namespace")
    t.ok(await client.get(GAMESERVER, 'a-new', NS_A), 'the GameServer is in tenant-a')
    t.equal((await p.api('/api/game/a-new', { token: tokenB })).status, 404, 'and B does not see it')
    const nowhere = await p.api('/api/game?namespace=no-such-tenant', {
      method: 'POST',
      token: admin,
      json: { name: 'x', spec: gameSpec() },
    })
    t.equal(nowhere.status, 404, 'the admin creating in a namespace that does not exist: 404')
    t.equal(nowhere.json.code, 'ZLH_GW_API_NAMESPACE_NOT_FOUND', 'naming the namespace, not the server')
  })
})
