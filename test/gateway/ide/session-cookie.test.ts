import t from 'tap'
import { randomBytes } from 'node:crypto'
import { IdeSessionCookie, InMemoryRouteTable, stripSessionCookie, type IdeBinding } from '../../../src/gateway/ide/index.ts'

const key = randomBytes(32)
const value = (setCookie: string) => setCookie.split(';')[0]!
const UID = '3f1c2a9e-1111-4a4a-8b8b-0123456789ab'
const bound = (over: Partial<IdeBinding> = {}): IdeBinding => ({ vmid: 7, uid: UID, apiTokenId: '0123456789ab', user: 'alice', ...over })

t.test('the cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, expiring', async (t) => {
  const c = new IdeSessionCookie(key, { ttlSeconds: 1800 }).issue(bound())
  t.match(
    c,
    /^__Host-zlh-ide=v2\.7\.3f1c2a9e-1111-4a4a-8b8b-0123456789ab\.0123456789ab\.[A-Za-z0-9_-]{22}\.\d+\.YWxpY2U\.[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
  )
  t.equal(new IdeSessionCookie(key).ttlSeconds, 1800, 'sessions last 30 min by default')
})

t.test('a session is bound to its vmid, uid, API token, signature and expiry', async (t) => {
  let now = Date.now()
  const s = new IdeSessionCookie(key, { ttlSeconds: 3600, now: () => now })
  const v = value(s.issue(bound()))
  t.match(s.sessionFor(`x=1; ${v}; y=2`, 7), { vmid: 7, uid: UID, apiTokenId: '0123456789ab', user: 'alice' })
  t.equal(s.sessionFor(v, 8), undefined, 'other vmid')
  t.equal(s.sessionFor(v.replace('v2.7.', 'v2.8.'), 8), undefined, 'edited vmid')
  t.equal(s.sessionFor(v.replace(UID, UID.replace('3f', '4f')), 7), undefined, 'edited uid')
  t.equal(s.sessionFor(v.replace('.0123456789ab.', '.-.'), 7), undefined, 'edited API token id')
  t.equal(new IdeSessionCookie(randomBytes(32)).sessionFor(v, 7), undefined, 'other key')
  t.equal(s.sessionFor(`x${v}`, 7), undefined, 'name must start a cookie pair')
  t.equal(s.sessionFor(undefined, 7), undefined)
  t.match(s.sessionFor(value(s.issue(bound({ apiTokenId: null }))), 7), { apiTokenId: null }, 'no portal token: explicit')
  t.notOk(s.needsRenewal(s.sessionFor(v, 7)!))
  now += 1801_000
  const half = s.sessionFor(v, 7)!
  t.ok(s.needsRenewal(half), 'renewed after half its lifetime')
  const renewed = value(s.renew(half))
  t.equal(s.sessionFor(renewed, 7)!.sid, half.sid, 'renewal keeps the session id')
  now += 1800_000
  t.equal(s.sessionFor(v, 7), undefined, 'expired')
  t.match(
    s.sessionFor(v, 7, (sid) => sid === half.sid),
    { sid: half.sid },
    'an expired session still in use (WebSocket traffic) is accepted',
  )
  t.equal(
    s.sessionFor(v, 7, () => false),
    undefined,
  )
  t.ok(s.sessionFor(renewed, 7), 'the renewed value lives on')
})

t.test('two different valid sessions in one header are ambiguous and refused', async (t) => {
  const s = new IdeSessionCookie(key)
  const a = value(s.issue(bound()))
  const b = value(s.issue(bound({ user: 'mallory' })))
  t.equal(s.sessionFor(`${a}; ${b}`, 7), undefined)
})

t.test('only the zlh cookie is stripped', async (t) => {
  t.equal(stripSessionCookie('a=1; __Host-zlh-ide=x; b=2'), 'a=1; b=2')
  t.equal(stripSessionCookie('__Host-zlh-ide=x'), undefined)
  t.equal(stripSessionCookie('a=1;b=2'), 'a=1;b=2')
  t.equal(stripSessionCookie(undefined), undefined)
})

t.test("route table: addresses parsed once, ports defaulted to code-server's, uid required, changes announced", async (t) => {
  const r = new InMemoryRouteTable()
  const changed: number[] = []
  r.onChange((vmid) => changed.push(vmid))
  const route = { ready: true, name: 'a', namespace: 'n', uid: 'uid-1' }
  t.same(r.set(1, { ...route, address: '10.0.0.5' }).target, { protocol: 'http:', host: '10.0.0.5', port: 6000 })
  t.same(r.set(2, { ...route, address: 'ct-2.lan:6001' }).target, { protocol: 'http:', host: 'ct-2.lan', port: 6001 })
  t.same(r.set(3, { ...route, address: 'fd00::5' }).target, { protocol: 'http:', host: 'fd00::5', port: 6000 })
  t.same(r.set(4, { ...route, address: '[fd00::5]:80' }).target, { protocol: 'http:', host: 'fd00::5', port: 80 })
  t.equal(r.lookup(1), r.lookup(1), 'the stored object itself')
  for (const bad of ['', 'http://x', 'a/b', 'x:y', 'x:70000', 'user@host']) {
    t.throws(() => r.set(9, { ...route, address: bad }), /invalid DevServer address/, bad)
  }
  t.throws(() => r.set(9, { ...route, address: '10.0.0.9', uid: '' }), /uid/)
  t.ok(r.delete(1))
  t.notOk(r.delete(1))
  t.equal(r.lookup(1), undefined)
  t.same(changed, [1, 2, 3, 4, 1], 'every set and every effective delete')
})
