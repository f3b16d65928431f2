// The IDE flow over HTTP and every security defence of the proxy, each attacked directly.
import t from 'tap'
import { IdeTokenIssuer } from '../../../src/gateway/index.ts'
import { randomBytes } from 'node:crypto'
import { send, sessionCookieOf, signIn, startGateway, startUpstream, SUFFIX, type TestGateway, type Upstream } from '../fixtures.ts'

let up: Upstream
let g: TestGateway
t.before(async () => {
  up = await startUpstream()
  g = await startGateway()
  g.routes.set(101, { address: up.address, ready: true, name: 'alice-dev', namespace: 'team-a', uid: 'uid-1' })
  g.routes.set(102, { address: up.address, ready: true, name: 'bob-dev', namespace: 'team-b', uid: 'uid-1' })
  g.routes.set(103, { address: up.address, ready: false, name: 'starting', namespace: 'team-a', uid: 'uid-1' })
})
t.teardown(async () => {
  await g.gw.close()
  await up.close()
})

t.test('token → cookie → redirect without token → folder redirect → upstream page', async (t) => {
  const { token, url } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
  t.equal(url, `https://dev-101.${SUFFIX}:${g.gw.port}/?token=${token}`)
  const r1 = await send(g.gw, { host: g.host(101), path: `/?token=${token}` })
  t.equal(r1.status, 302)
  t.equal(r1.headers.location, `${g.origin(101)}/`)
  t.equal(r1.headers['referrer-policy'], 'no-referrer')
  const setCookie = r1.headers['set-cookie']![0]!
  t.match(setCookie, /^__Host-zlh-ide=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  t.notMatch(setCookie, /Domain=/i)
  const cookie = sessionCookieOf(r1)!
  const r2 = await send(g.gw, { host: g.host(101), path: '/', headers: { cookie } })
  t.equal(r2.status, 302)
  t.equal(r2.headers.location, `${g.origin(101)}/?folder=/home/dev/workspace`)
  const r3 = await send(g.gw, { host: g.host(101), path: '/?folder=/home/dev/workspace', headers: { cookie } })
  t.equal(r3.status, 200)
  t.match(r3.body, /fake code-server/)
})

t.test('other query parameters survive the token exchange; the token does not', async (t) => {
  const { token } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
  const r = await send(g.gw, { host: g.host(101), path: `/sub/path?folder=%2Fsrv&token=${token}&x=1` })
  t.equal(r.status, 302)
  t.equal(r.headers.location, `${g.origin(101)}/sub/path?folder=%2Fsrv&x=1`)
})

t.test('token attacks: replayed, expired, forged, other-vmid, other key → 401 page and no cookie', async (t) => {
  const expectRejected = async (path: string, vmid: number, why: RegExp) => {
    const r = await send(g.gw, { host: g.host(vmid), path })
    t.equal(r.status, 401, path)
    t.equal(r.headers['x-zlh-error'], 'ZLH_GW_IDE_TOKEN_INVALID')
    t.equal(r.headers['set-cookie'], undefined, 'no cookie')
    t.equal(r.headers['referrer-policy'], 'no-referrer')
    t.match(r.body, why)
  }
  const { token } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
  t.equal((await send(g.gw, { host: g.host(101), path: `/?token=${token}` })).status, 302)
  await expectRejected(`/?token=${token}`, 101, /already been used/)

  const past = new IdeTokenIssuer(randomBytes(32))
  await expectRejected(
    `/?token=${past.mint({ vmid: 101, uid: 'uid-1', apiTokenId: null, user: 'alice' }).token}`,
    101,
    /not issued by this service/,
  )
  const good = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null }).token
  const tampered = good.replace(/^v2\.101\./, 'v2.102.')
  await expectRejected(`/?token=${tampered}`, 102, /not issued by this service/)
  await expectRejected(`/?token=${good}`, 102, /different dev server/)
  // The token refused at the wrong host was not consumed.
  t.equal((await send(g.gw, { host: g.host(101), path: `/?token=${good}` })).status, 302)
  await expectRejected('/?token=not-a-token', 101, /not issued|damaged/)
  const two = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null }).token
  await expectRejected(`/?token=${two}&token=${two}`, 101, /damaged/)
})

t.test('a token on anything but a page load is refused, never forwarded', async (t) => {
  const before = up.requests.length
  const cookie = await signIn(g, 101)
  const { token } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
  const r = await send(g.gw, {
    host: g.host(101),
    path: `/upload?token=${token}`,
    method: 'POST',
    body: 'x',
    headers: { cookie, origin: g.origin(101) },
  })
  t.equal(r.status, 405)
  t.equal(r.headers['x-zlh-error'], 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
  t.equal(up.requests.length, before)
  t.equal((await send(g.gw, { host: g.host(101), path: `/?token=${token}` })).status, 302, 'and it was not consumed')
})

t.test('an expired token with a valid signature is refused', async (t) => {
  const key = randomBytes(32)
  const local = await startGateway({ signingKey: key })
  t.teardown(() => local.gw.close())
  local.routes.set(101, { address: up.address, ready: true, name: 'a', namespace: 'n', uid: 'uid-1' })
  const old = new IdeTokenIssuer(key, { now: () => Date.now() - 61_000 }).mint({
    vmid: 101,
    uid: 'uid-1',
    apiTokenId: null,
    user: 'alice',
  }).token
  const r = await send(local.gw, { host: local.host(101), path: `/?token=${old}` })
  t.equal(r.status, 401)
  t.match(r.body, /expired/)
  t.equal(r.headers['set-cookie'], undefined)
  // The same key, fresh: accepted (so the refusal above is about time alone).
  const fresh = new IdeTokenIssuer(key).mint({ vmid: 101, uid: 'uid-1', apiTokenId: null, user: 'alice' }).token
  t.equal((await send(local.gw, { host: local.host(101), path: `/?token=${fresh}` })).status, 302)
})

t.test("no cookie, a garbage cookie, or another dev host's cookie → 401, never proxied", async (t) => {
  const before = up.requests.length
  const cookie101 = await signIn(g, 101)
  const attempts: Array<Record<string, string>> = [{}, { cookie: '__Host-zlh-ide=v1.101.9999999999.YQ.AAAA' }, { cookie: cookie101 }]
  for (const headers of attempts) {
    const r = await send(g.gw, { host: g.host(102), path: '/headers', headers })
    t.equal(r.status, 401)
    t.equal(r.headers['x-zlh-error'], 'ZLH_GW_IDE_SESSION_REQUIRED')
  }
  // Smuggling a second copy of a valid cookie next to a forged one does not help either.
  const cookie102 = await signIn(g, 102, 'bob')
  const r = await send(g.gw, {
    host: g.host(102),
    path: '/headers',
    headers: { cookie: `${cookie102}; ${cookie101.replace('101', '102')}` },
  })
  t.equal(r.status, 200, 'the valid one is used; the forged one is ignored')
  t.equal(up.requests.length, before + 1, 'only the authorised request reached the upstream')
})

t.test('Origin must be the dev host on non-GET requests', async (t) => {
  const cookie = await signIn(g, 101)
  const post = (origin?: string) =>
    send(g.gw, {
      host: g.host(101),
      path: '/upload',
      method: 'POST',
      body: 'x=1',
      headers: { cookie, 'content-type': 'text/plain', ...(origin ? { origin } : {}) },
    })
  for (const bad of [undefined, g.origin(102), `http://dev-101.${SUFFIX}:${g.gw.port}`, 'https://evil.example', 'null']) {
    const r = await post(bad)
    t.equal(r.status, 403, `origin ${bad}`)
    t.equal(r.headers['x-zlh-error'], 'ZLH_GW_IDE_ORIGIN_MISMATCH')
  }
  const ok = await post(g.origin(101))
  t.equal(ok.status, 200)
  t.equal(ok.body, 'got 3 bytes')
  const get = await send(g.gw, { host: g.host(101), path: '/headers', headers: { cookie, origin: 'https://evil.example' } })
  t.equal(get.status, 200, 'GET is not state-changing and is allowed')
})

t.test('forwarded headers: zlh cookie stripped, X-Forwarded-* overwritten, Host kept', async (t) => {
  const cookie = await signIn(g, 101)
  const r = await send(g.gw, {
    host: g.host(101),
    path: '/headers?q=1',
    headers: {
      cookie: `a=1; ${cookie}; b=2`,
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=6.6.6.6;host=evil.example',
      'x-real-ip': '6.6.6.6',
    },
  })
  t.equal(r.status, 200)
  const seen = JSON.parse(r.body).headers
  t.equal(seen.cookie, 'a=1; b=2')
  t.equal(seen['x-forwarded-for'], '127.0.0.1')
  t.equal(seen['x-forwarded-proto'], 'https')
  t.equal(seen['x-forwarded-host'], g.host(101))
  t.equal(seen.host, g.host(101))
  t.equal(seen.forwarded, undefined)
  t.equal(seen['x-real-ip'], undefined)
  t.same(r.headers['set-cookie'], ['app=1; Path=/'], 'upstream cannot set the zlh cookie')
  const only = await send(g.gw, { host: g.host(101), path: '/headers', headers: { cookie } })
  t.equal(JSON.parse(only.body).headers.cookie, undefined, 'no Cookie header when only ours was sent')
})

t.test('no open redirect: targets are built from the dev host', async (t) => {
  for (const path of ['//evil.example/', '/\\evil.example/', 'http://evil.example/']) {
    const { token } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
    const r = await send(g.gw, { host: g.host(101), path: `${path}?token=${token}` })
    if (!path.startsWith('/')) {
      t.equal(r.status, 400, `${path}: an absolute-form target is refused before anything routes`)
      t.equal(r.headers.location, undefined)
      continue
    }
    t.equal(r.status, 302, path)
    const loc = new URL(r.headers.location!)
    t.equal(loc.host, g.host(101), `${path} stays on the dev host`)
  }
  const legacy = await send(g.gw, { host: 'portal.example', path: '/__ide/101?token=abc.def' })
  t.equal(legacy.status, 302)
  t.equal(legacy.headers.location, `${g.origin(101)}/?token=abc.def`)
  const legacyBad = await send(g.gw, { host: 'portal.example:8080', path: '/__ide/101?token=%0d%0aX:1"><script>' })
  t.equal(legacyBad.headers.location, `${g.origin(101)}/`, 'a token with foreign characters is dropped')
  const legacyHost = await send(g.gw, { host: 'evil.example', path: '/__ide/evil.example' })
  t.equal(legacyHost.status, 404)
})

t.test('legacy /__ide/:id redirects into the dev host flow', async (t) => {
  const { token } = g.gw.mintIdeToken(101, 'alice', { apiTokenId: null })
  const r = await send(g.gw, { host: `portal.example:${g.gw.port}`, path: `/__ide/101?token=${token}` })
  t.equal(r.status, 302)
  t.equal(r.headers.location, `${g.origin(101)}/?token=${token}`)
  t.equal(r.headers['referrer-policy'], 'no-referrer')
  const r2 = await send(g.gw, { host: g.host(101), path: new URL(r.headers.location!).pathname + new URL(r.headers.location!).search })
  t.equal(r2.status, 302)
  t.ok(sessionCookieOf(r2))
})

t.test('hosts that are not dev-<digits>.<suffix> → 404, never proxied', async (t) => {
  const before = up.requests.length
  const cookie = await signIn(g, 101)
  for (const host of [
    `dev-abc.${SUFFIX}`,
    `dev-0101.${SUFFIX}`,
    `dev-.${SUFFIX}`,
    `x.${SUFFIX}`,
    SUFFIX,
    `dev-101.${SUFFIX}.evil.example`,
    `dev-101.evil.example`,
    `dev-101.${SUFFIX}:x`,
    `dev-1-101.${SUFFIX}`,
    `dev-99999999999.${SUFFIX}`,
  ]) {
    const r = await send(g.gw, { host, path: '/headers', headers: { cookie } })
    t.equal(r.status, 404, host)
  }
  t.equal(up.requests.length, before)
})

t.test('unknown or not-Ready DevServer → a clear page at once; upstream down → 502 page', async (t) => {
  const c104 = await (async () => {
    g.routes.set(104, { address: up.address, ready: true, name: 'x', namespace: 'n', uid: 'uid-1' })
    const c = await signIn(g, 104)
    g.routes.delete(104)
    return c
  })()
  const unknown = await send(g.gw, { host: g.host(104), path: '/x', headers: { cookie: c104 } })
  t.equal(unknown.status, 404)
  t.equal(unknown.headers['x-zlh-error'], 'ZLH_GW_IDE_DEVSERVER_NOT_FOUND')
  const c103 = await (async () => {
    g.routes.set(103, { address: up.address, ready: true, name: 'starting', namespace: 'team-a', uid: 'uid-1' })
    const c = await signIn(g, 103)
    g.routes.set(103, { address: up.address, ready: false, name: 'starting', namespace: 'team-a', uid: 'uid-1' })
    return c
  })()
  const notReady = await send(g.gw, { host: g.host(103), path: '/x', headers: { cookie: c103 } })
  t.equal(notReady.status, 503)
  t.equal(notReady.headers['retry-after'], '5')
  t.match(notReady.body, /team-a\/starting is not ready/)
  // An address nothing listens on.
  const dead = await startUpstream()
  const deadAddr = dead.address
  await dead.close()
  g.routes.set(105, { address: deadAddr, ready: true, name: 'dead', namespace: 'n', uid: 'uid-1' })
  const c105 = await signIn(g, 105)
  const down = await send(g.gw, { host: g.host(105), path: '/x', headers: { cookie: c105 } })
  t.equal(down.status, 502)
  t.equal(down.headers['x-zlh-error'], 'ZLH_GW_IDE_UPSTREAM_UNAVAILABLE')
})

t.test('the session cookie is renewed once half its lifetime has passed', async (t) => {
  const key = randomBytes(32)
  const now = Date.now()
  const local = await startGateway({ signingKey: key, sessionTtlSeconds: 3600 })
  t.teardown(() => local.gw.close())
  local.routes.set(101, { address: up.address, ready: true, name: 'a', namespace: 'n', uid: 'uid-1' })
  const { IdeSessionCookie } = await import('../../../src/gateway/index.ts')
  const young = new IdeSessionCookie(key, { ttlSeconds: 3600 })
    .issue({ vmid: 101, uid: 'uid-1', apiTokenId: null, user: 'alice' })
    .split(';')[0]!
  const r1 = await send(local.gw, { host: local.host(101), path: '/headers', headers: { cookie: young } })
  t.same(r1.headers['set-cookie'], ['app=1; Path=/'], 'a fresh cookie is not re-issued')
  const aged = new IdeSessionCookie(key, { ttlSeconds: 3600, now: () => now - 2000 * 1000 })
    .issue({ vmid: 101, uid: 'uid-1', apiTokenId: null, user: 'alice' })
    .split(';')[0]!
  const r2 = await send(local.gw, { host: local.host(101), path: '/headers', headers: { cookie: aged } })
  t.equal(r2.status, 200)
  const renewed = (r2.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-zlh-ide='))
  t.ok(renewed, 'renewed')
  t.match(renewed!, /Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Lax/, 'the browser keeps it 12 h; the signed expiry is the ttl')
  const gone = new IdeSessionCookie(key, { ttlSeconds: 3600, now: () => now - 3601 * 1000 })
    .issue({ vmid: 101, uid: 'uid-1', apiTokenId: null, user: 'alice' })
    .split(';')[0]!
  t.equal(
    (await send(local.gw, { host: local.host(101), path: '/headers', headers: { cookie: gone } })).status,
    401,
    'expired cookie refused',
  )
})

t.test('minting is explicit about what a link is bound to', async (t) => {
  t.throws(
    () => g.gw.mintIdeToken(999, 'alice', { apiTokenId: null }),
    /no DevServer is routed at vmid 999/,
    'no route and no uid: nothing to bind to',
  )
  t.throws(
    () => g.gw.mintIdeToken(101, 'alice', { apiTokenId: '0123456789ab' }),
    /needs a gateway with apiTokens/,
    'a portal token id this gateway cannot check',
  )
  const forOther = g.gw.mintIdeToken(101, 'alice', { uid: 'some-other-uid', apiTokenId: null })
  const r = await send(g.gw, { host: g.host(101), path: `/?token=${forOther.token}` })
  t.equal(r.status, 401, 'a link for another DevServer uid at this vmid is refused')
  t.match(r.body, /another one now has its number/)
})
