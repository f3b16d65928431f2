// The web console's session against the real gateway service and embedded API server: sign-in
// with a portal token sets a sealed HttpOnly cookie; the portal API takes that cookie only with
// the session's X-ZLH-CSRF header; console WebSockets take it only from the gateway's own
// Origin; forged, foreign-key, expired and revoked-token cookies are no session; sign-out clears it.
// The CSRF design follows the OWASP "custom request header" and "verify origin" defences.
import t from 'tap'
import { request } from 'node:http'
import { randomBytes } from 'node:crypto'
import { ConsoleSessions } from '../../../src/gateway/console/session.ts'
import { startPortal, type PortalEnv } from '../portal/portal-env.ts'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

/** A raw HTTP request to the gateway (browsers' forbidden headers, Origin and Cookie, set by hand). */
function send(p: PortalEnv, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const url = new URL(p.svc.gateway.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => {
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** What a WebSocket handshake to `path` is answered (the status line; no upgrade completes in these cases). */
function upgrade(p: PortalEnv, path: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const url = new URL(p.svc.gateway.url)
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...headers,
      },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode ?? 101, json: undefined })
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c: Buffer) => {
        text += c.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }))
    })
    req.on('error', reject)
    req.end()
  })
}

const ownOrigin = (p: PortalEnv) => `https://${new URL(p.svc.gateway.url).host}`
const cookieOf = (a: Answer): string => String([a.headers['set-cookie']].flat()[0] ?? '').split(';')[0]!

async function signIn(p: PortalEnv, token: string): Promise<{ cookie: string; csrf: string; answer: Answer }> {
  const answer = await send(
    p,
    'POST',
    '/console/session',
    { origin: ownOrigin(p), 'content-type': 'application/json' },
    JSON.stringify({ token }),
  )
  return { cookie: cookieOf(answer), csrf: answer.json?.csrf, answer }
}

t.test('sign-in: a portal token becomes a sealed, HttpOnly, SameSite=Strict, __Host- cookie', async (t) => {
  const p = await startPortal(t)
  const token = await p.token('servers:read', 'servers:write')
  const { cookie, csrf, answer } = await signIn(p, token)
  t.equal(answer.status, 200)
  t.match(answer.json, { signedIn: true, user: 'alice', scopes: ['servers:read', 'servers:write'] })
  t.match(csrf, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit CSRF value')
  const setCookie = String([answer.headers['set-cookie']].flat()[0])
  t.match(setCookie, /^__Host-zlh-console=/, '__Host- prefix: host-only, Secure, Path=/ (no dev-* host can set or read it)')
  for (const attr of [/; HttpOnly/i, /; Secure/i, /; SameSite=Strict/i, /; Path=\//, /; Max-Age=43200/])
    t.match(setCookie, attr, `cookie has ${attr.source}`)
  t.notOk(setCookie.includes(token), 'the token is not in the cookie')
  t.notOk(setCookie.includes(token.slice(18)), "not even the token's secret part")
  t.notOk(answer.text.includes(token), 'nor in the answer')
  t.equal(answer.headers['cache-control'], 'no-store')

  const who = await send(p, 'GET', '/console/session', { cookie })
  t.match(who.json, { signedIn: true, user: 'alice', csrf }, 'GET /console/session returns the same CSRF value')
  t.same((await send(p, 'GET', '/console/session')).json, { signedIn: false }, 'no cookie: not signed in (200, no error)')
})

t.test('sign-in is refused: wrong token (401), other or no Origin (403), bad body (400)', async (t) => {
  const p = await startPortal(t)
  const token = await p.token('servers:read')
  const wrong = await signIn(p, `zlh_000000000000_${'A'.repeat(43)}`)
  t.equal(wrong.answer.status, 401)
  t.equal(wrong.answer.json.code, 'ZLH_GW_CONSOLE_SIGN_IN_INVALID')
  t.notOk(wrong.answer.headers['set-cookie'], 'no cookie for a wrong token')
  for (const origin of ['https://evil.example', 'null', `http://${new URL(p.svc.gateway.url).host}`]) {
    const r = await send(p, 'POST', '/console/session', { origin, 'content-type': 'application/json' }, JSON.stringify({ token }))
    t.equal(r.status, 403, `Origin ${origin}: login CSRF refused`)
    t.equal(r.json.code, 'ZLH_GW_CONSOLE_CROSS_ORIGIN')
    t.notOk(r.headers['set-cookie'])
  }
  const noOrigin = await send(p, 'POST', '/console/session', { 'content-type': 'application/json' }, JSON.stringify({ token }))
  t.equal(noOrigin.status, 403, 'no Origin: refused')
  const form = await send(p, 'POST', '/console/session', { origin: ownOrigin(p), 'content-type': 'text/plain' }, token)
  t.equal(form.status, 400, 'a form or text body (what a cross-site form can send) is not accepted')
  t.notOk(form.headers['set-cookie'])
  const noToken = await send(p, 'POST', '/console/session', { origin: ownOrigin(p), 'content-type': 'application/json' }, '{}')
  t.equal(noToken.status, 400)
  t.equal(noToken.json.code, 'ZLH_GW_API_INVALID')
})

t.test('the portal API takes the cookie only with its X-ZLH-CSRF header', async (t) => {
  const p = await startPortal(t)
  const { cookie, csrf } = await signIn(p, await p.token('servers:read'))
  const ok = await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': csrf })
  t.equal(ok.status, 200, 'cookie + CSRF header: the token behind the cookie is used')
  t.same(ok.json, { items: [] })

  const missing = await send(p, 'GET', '/api/servers', { cookie })
  t.equal(missing.status, 403, 'no CSRF header → 403')
  t.equal(missing.json.code, 'ZLH_GW_CONSOLE_CSRF')
  const wrong = await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': `${csrf.slice(0, -1)}x` })
  t.equal(wrong.status, 403, 'a wrong CSRF value → 403')
  const post = await send(p, 'POST', '/api/game', { cookie, 'content-type': 'application/json' }, '{"name":"x","spec":{}}')
  t.equal(post.status, 403, 'a write without the header is refused before its body is read')

  const other = await signIn(p, await p.token('servers:read'))
  t.equal(
    (await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': other.csrf })).status,
    403,
    "another session's CSRF value does not fit",
  )

  const bearer = await send(p, 'GET', '/api/servers', { cookie, authorization: 'Bearer zlh_000000000000_nope' })
  t.equal(bearer.status, 401, 'an Authorization header, even a wrong one, is what counts: the cookie is not a fallback for it')
  t.equal((await send(p, 'GET', '/api/servers')).status, 401, 'nothing: 401 as before')
})

t.test('forged, tampered, foreign-key and expired cookies are no session (401)', async (t) => {
  let now = Date.now()
  const p = await startPortal(t, { clock: () => now })
  const token = await p.token('servers:read')
  const { cookie, csrf } = await signIn(p, token)
  const [name, value] = [cookie.slice(0, cookie.indexOf('=')), cookie.slice(cookie.indexOf('=') + 1)]

  const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
  for (const [what, forged] of [
    ['a flipped ciphertext byte', `${name}=${flip(value, value.length - 30)}`],
    ['a flipped header byte', `${name}=${flip(value, 5)}`],
    ['the token itself as the cookie', `${name}=${token}`],
    ['an empty cookie', `${name}=`],
  ] as const) {
    const r = await send(p, 'GET', '/api/servers', { cookie: forged, 'x-zlh-csrf': csrf })
    t.equal(r.status, 401, `${what} → 401`)
    t.equal(r.json.code, 'ZLH_GW_API_UNAUTHENTICATED')
  }
  const foreign = await new ConsoleSessions(randomBytes(32), { publicScheme: 'https' }).open(token)
  const r = await send(p, 'GET', '/api/servers', { cookie: foreign.setCookie.split(';')[0]!, 'x-zlh-csrf': foreign.csrf })
  t.equal(r.status, 401, 'sealed with another key (another gateway) → 401')

  now += 12 * 3600_000 + 1000
  const expired = await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': csrf })
  t.equal(expired.status, 401, 'after 12 h the session has expired')
  t.same((await send(p, 'GET', '/console/session', { cookie })).json, { signedIn: false })
})

t.test('revoking the token ends its console sessions', async (t) => {
  const p = await startPortal(t)
  const { id, token } = await p.svc.tokens.issue('bob', ['servers:read'])
  const { cookie, csrf } = await signIn(p, token)
  t.equal((await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': csrf })).status, 200)
  await p.svc.tokens.revoke(id)
  t.equal((await send(p, 'GET', '/api/servers', { cookie, 'x-zlh-csrf': csrf })).status, 401)
  const who = await send(p, 'GET', '/console/session', { cookie })
  t.same(who.json, { signedIn: false })
  t.match(String(who.headers['set-cookie']), /Max-Age=0/, 'the dead cookie is cleared')
})

t.test('console WebSockets take the cookie only from the gateway’s own Origin', async (t) => {
  const p = await startPortal(t)
  const { cookie } = await signIn(p, await p.token('console'))
  const path = '/api/game/nothing-here/console'
  const evil = await upgrade(p, path, { cookie, origin: 'https://evil.example' })
  t.equal(evil.status, 403, 'cross-site WebSocket hijacking: refused')
  t.equal(evil.json.code, 'ZLH_GW_CONSOLE_CSRF')
  t.equal((await upgrade(p, path, { cookie })).status, 403, 'no Origin: refused')
  const own = await upgrade(p, path, { cookie, origin: ownOrigin(p) })
  t.equal(own.status, 404, 'own Origin: authenticated, and the missing server is a 404')
  t.equal(own.json.code, 'ZLH_GW_API_NOT_FOUND')
  t.equal((await upgrade(p, path, { origin: ownOrigin(p) })).status, 401, 'no cookie: 401')

  const readOnly = await signIn(p, await p.token('servers:read'))
  const scoped = await upgrade(p, path, { cookie: readOnly.cookie, origin: ownOrigin(p) })
  t.equal(scoped.status, 403, "the cookie carries its token's scopes: no console scope, no console")
  t.equal(scoped.json.code, 'ZLH_GW_API_FORBIDDEN')
})

t.test('sign-out clears the cookie; only from the own origin', async (t) => {
  const p = await startPortal(t)
  const { cookie } = await signIn(p, await p.token('servers:read'))
  t.equal((await send(p, 'DELETE', '/console/session', { cookie, origin: 'https://evil.example' })).status, 403)
  const out = await send(p, 'DELETE', '/console/session', { cookie, origin: ownOrigin(p) })
  t.equal(out.status, 204)
  t.match(String(out.headers['set-cookie']), /^__Host-zlh-console=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Strict/)
})

t.test('plain-HTTP gateway (publicScheme http): the cookie is not Secure and has no __Host- prefix', async (t) => {
  const p = await startPortal(t, { publicScheme: 'http' })
  const url = new URL(p.svc.gateway.url)
  const token = await p.token('servers:read')
  const r = await send(
    p,
    'POST',
    '/console/session',
    { origin: `http://${url.host}`, 'content-type': 'application/json' },
    JSON.stringify({ token }),
  )
  t.equal(r.status, 200)
  const setCookie = String([r.headers['set-cookie']].flat()[0])
  t.match(setCookie, /^zlh-console=/)
  t.notMatch(setCookie, /Secure/)
  t.match(setCookie, /HttpOnly/)
})
