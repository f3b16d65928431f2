// Security regression: the web console's session cookie (src/gateway/console/session.ts).
//  - Cross-site request forgery: every portal route in fastify's route table, called the way a
//    page of another site could (the admin's console cookie, no X-ZLH-CSRF header, a foreign
//    Origin), is refused with 403 ZLH_GW_CONSOLE_CSRF and changes nothing. (OWASP CSRF cheat
//    sheet: "custom request headers" — a cross-site page cannot set one without a CORS preflight,
//    which the gateway never grants.)
//  - The token never reaches the gateway's log, from sign-in to sign-out.
//  - Cookie injection: a second cookie of the same name (e.g. set by a sibling host) does not
//    turn a valid session into another one, and a cookie from another gateway key is refused.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { GAMESERVER, DEVSERVER } from '../../src/api/index.ts'
import { gameSpec } from '../gateway/portal/portal-env.ts'
import { startPortalRecordingRoutes } from './portal-route-table.ts'

const EVIL = 'https://evil.example'

t.test('every portal route refuses the console cookie without its CSRF header, and nothing changes', async (t) => {
  const { p, routes } = await startPortalRecordingRoutes(t)
  const admin = p.svc.bootstrapAdminToken!
  t.equal((await p.api('/api/game', { method: 'POST', token: admin, json: { name: 'a-game', spec: gameSpec() } })).status, 201)
  const signIn = await p.api('/console/session', {
    method: 'POST',
    json: { token: admin },
    headers: { origin: `https://${new URL(p.svc.gateway.url).host}` },
  })
  t.equal(signIn.status, 200)
  const cookie = String(signIn.headers.get('set-cookie')).split(';')[0]!
  const csrf = signIn.json.csrf as string

  const snapshot = async () => {
    const out: string[] = []
    for (const ref of [GAMESERVER, DEVSERVER])
      for (const o of (await p.env.client.list(ref)).items) out.push(`${o.kind}/${o.metadata?.name}@${o.metadata?.resourceVersion}`)
    out.push(
      ...p.svc.tokens
        .list()
        .map((x) => `token ${x.id}`)
        .sort(),
    )
    return out.sort()
  }
  const before = await snapshot()

  const scoped = routes.filter((r) => r.url.startsWith('/api/') && r.scope !== null)
  t.ok(scoped.length >= 30, `${scoped.length} scoped portal routes`)
  for (const r of scoped) {
    const path = r.url
      .replace(':name', 'a-game')
      .replace(':id', 'ffffffffffff')
      .replace('*', 'motd.txt')
      .replace(/:[a-zA-Z]+/g, 'x')
    const target = r.url.startsWith('/api/dev/') ? path.replace('a-game', 'a-dev') : path
    const write = r.method === 'POST' || r.method === 'PUT'
    const answer = await p.api(target, {
      method: r.method,
      headers: { cookie, origin: EVIL, ...(write ? { 'content-type': 'application/json' } : {}) },
      ...(write ? { body: JSON.stringify({ name: 'pwned', spec: gameSpec(), user: 'mallory', scopes: ['admin'] }) } : {}),
    })
    t.equal(answer.status, 403, `${r.method} ${r.url}: 403`)
    if (r.method !== 'HEAD') t.equal(answer.json?.code, 'ZLH_GW_CONSOLE_CSRF', `${r.method} ${r.url}: ZLH_GW_CONSOLE_CSRF`)
  }
  t.same(await snapshot(), before, 'no server, token or status changed')

  // The same cookie with its header works: the refusals above were the missing proof, nothing else.
  const ok = await p.api('/api/servers', { headers: { cookie, 'x-zlh-csrf': csrf } })
  t.equal(ok.status, 200)
  t.equal(ok.json.items.length, 1)
})

t.test('cookie injection: a second cookie of the same name never stands for another session', async (t) => {
  const { p } = await startPortalRecordingRoutes(t)
  const origin = `https://${new URL(p.svc.gateway.url).host}`
  const signInAs = async (token: string) => {
    const r = await p.api('/console/session', { method: 'POST', json: { token }, headers: { origin } })
    return { cookie: String(r.headers.get('set-cookie')).split(';')[0]!, csrf: r.json.csrf as string }
  }
  const reader = await signInAs(await p.token('servers:read'))
  const writer = await signInAs(await p.token('servers:read', 'servers:write'))
  // The browser sends the attacker's planted cookie (writer's, or garbage) next to the reader's.
  for (const cookie of [`${reader.cookie}; ${writer.cookie}`, `${writer.cookie}; ${reader.cookie}`]) {
    for (const csrf of [reader.csrf, writer.csrf]) {
      const r = await p.api('/api/game', {
        method: 'POST',
        headers: { cookie, 'x-zlh-csrf': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', spec: gameSpec() }),
      })
      // The first cookie of the name is the session; its own CSRF value is the only one that fits.
      const first = cookie.startsWith(reader.cookie) ? reader : writer
      if (csrf !== first.csrf) t.equal(r.status, 403, 'the other session’s CSRF value does not fit the session read')
      else t.equal(r.status, first === writer ? 201 : 403, first === writer ? 'the writer session as itself' : 'the reader stays a reader')
      if (r.status === 201) await p.api('/api/game/x', { method: 'DELETE', token: p.svc.bootstrapAdminToken! })
    }
  }
})

t.test('the token never reaches the gateway log', async (t) => {
  const lines: string[] = []
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk))
        cb()
      },
    }),
  )
  const { p } = await startPortalRecordingRoutes(t, { logger })
  const token = await p.token('servers:read', 'console')
  const origin = `https://${new URL(p.svc.gateway.url).host}`
  const r = await p.api('/console/session', { method: 'POST', json: { token }, headers: { origin } })
  t.equal(r.status, 200)
  const cookie = String(r.headers.get('set-cookie')).split(';')[0]!
  await p.api('/api/servers', { headers: { cookie, 'x-zlh-csrf': r.json.csrf } })
  await p.api('/api/servers', { headers: { cookie } })
  await p.api('/console/session', { method: 'POST', json: { token: `${token}x` }, headers: { origin } })
  await p.api('/console/session', { method: 'DELETE', headers: { cookie, origin } })
  t.ok(
    lines.some((l) => l.includes('console sign-in')),
    'sign-in is logged (by token id)',
  )
  const secret = token.slice(18)
  t.notOk(
    lines.some((l) => l.includes(secret)),
    'no log line holds the token',
  )
  t.notOk(
    lines.some((l) => l.includes(cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf('=') + 40))),
    'nor the sealed cookie',
  )
})
