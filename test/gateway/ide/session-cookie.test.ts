import t from 'tap'
import { randomBytes } from 'node:crypto'
import { IdeSessionCookie, InMemoryRouteTable, stripSessionCookie } from '../../../src/gateway/ide/index.ts'

const key = randomBytes(32)
const value = (setCookie: string) => setCookie.split(';')[0]!

t.test('the cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, expiring', async (t) => {
  const c = new IdeSessionCookie(key, { ttlSeconds: 3600 }).issue(7, 'alice')
  t.match(c, /^__Host-zlh-ide=v1\.7\.\d+\.YWxpY2U\.[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
})

t.test('a session is bound to its vmid, its signature and its expiry', async (t) => {
  let now = Date.now()
  const s = new IdeSessionCookie(key, { ttlSeconds: 3600, now: () => now })
  const v = value(s.issue(7, 'alice'))
  t.match(s.sessionFor(`x=1; ${v}; y=2`, 7), { vmid: 7, user: 'alice' })
  t.equal(s.sessionFor(v, 8), undefined, 'other vmid')
  t.equal(s.sessionFor(v.replace('v1.7.', 'v1.8.'), 8), undefined, 'edited vmid')
  t.equal(new IdeSessionCookie(randomBytes(32)).sessionFor(v, 7), undefined, 'other key')
  t.equal(s.sessionFor(`x${v}`, 7), undefined, 'name must start a cookie pair')
  t.equal(s.sessionFor(undefined, 7), undefined)
  t.notOk(s.needsRenewal(s.sessionFor(v, 7)!))
  now += 1801_000
  t.ok(s.needsRenewal(s.sessionFor(v, 7)!), 'renewed after half its lifetime')
  now += 1800_000
  t.equal(s.sessionFor(v, 7), undefined, 'expired')
})

t.test('two different valid sessions in one header are ambiguous and refused', async (t) => {
  const s = new IdeSessionCookie(key)
  const a = value(s.issue(7, 'alice'))
  const b = value(s.issue(7, 'mallory'))
  t.equal(s.sessionFor(`${a}; ${b}`, 7), undefined)
})

t.test('only the zlh cookie is stripped', async (t) => {
  t.equal(stripSessionCookie('a=1; __Host-zlh-ide=x; b=2'), 'a=1; b=2')
  t.equal(stripSessionCookie('__Host-zlh-ide=x'), undefined)
  t.equal(stripSessionCookie('a=1;b=2'), 'a=1;b=2')
  t.equal(stripSessionCookie(undefined), undefined)
})

t.test('route table: addresses parsed once, ports defaulted to code-server\'s', async (t) => {
  const r = new InMemoryRouteTable()
  t.same(r.set(1, { address: '10.0.0.5', ready: true, name: 'a', namespace: 'n' }).target, { protocol: 'http:', host: '10.0.0.5', port: 6000 })
  t.same(r.set(2, { address: 'ct-2.lan:6001', ready: true, name: 'a', namespace: 'n' }).target, { protocol: 'http:', host: 'ct-2.lan', port: 6001 })
  t.same(r.set(3, { address: 'fd00::5', ready: true, name: 'a', namespace: 'n' }).target, { protocol: 'http:', host: 'fd00::5', port: 6000 })
  t.same(r.set(4, { address: '[fd00::5]:80', ready: true, name: 'a', namespace: 'n' }).target, { protocol: 'http:', host: 'fd00::5', port: 80 })
  t.equal(r.lookup(1), r.lookup(1), 'the stored object itself')
  for (const bad of ['', 'http://x', 'a/b', 'x:y', 'x:70000', 'user@host']) {
    t.throws(() => r.set(9, { address: bad, ready: true, name: 'a', namespace: 'n' }), /invalid DevServer address/, bad)
  }
  t.ok(r.delete(1))
  t.equal(r.lookup(1), undefined)
})
