import t from 'tap'
import { randomBytes } from 'node:crypto'
import { IdeTokenIssuer, ReplayCache } from '../../../src/gateway/index.ts'

const key = randomBytes(32)

t.test('a token redeems once, for its vmid, carrying its user', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  const { token, expiresAt } = issuer.mint(42, 'ünïcode user')
  t.ok(expiresAt.getTime() - Date.now() <= 60_000)
  t.same(await issuer.redeem(token, 7), { ok: false, reason: 'other-vmid' })
  t.same(await issuer.redeem(token, 42), { ok: true, vmid: 42, user: 'ünïcode user' })
  t.same(await issuer.redeem(token, 42), { ok: false, reason: 'replayed' })
})

t.test('forged, tampered, foreign-key and expired tokens are refused', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  const { token } = issuer.mint(42, 'alice')
  const parts = token.split('.')
  t.same(await issuer.redeem(new IdeTokenIssuer(randomBytes(32)).mint(42, 'alice').token, 42), { ok: false, reason: 'forged' })
  t.same(await issuer.redeem([...parts.slice(0, 4), Buffer.from('mallory').toString('base64url'), parts[5]].join('.'), 42), { ok: false, reason: 'forged' })
  t.same(await issuer.redeem(`${token.slice(0, -2)}AA`, 42), { ok: false, reason: 'forged' })
  t.same(await issuer.redeem('', 42), { ok: false, reason: 'malformed' })
  t.same(await issuer.redeem('a b', 42), { ok: false, reason: 'malformed' })
  let now = Date.now()
  const clocked = new IdeTokenIssuer(key, { now: () => now })
  const short = clocked.mint(42, 'alice', 10).token
  now += 10_001
  t.same(await clocked.redeem(short, 42), { ok: false, reason: 'expired' })
})

t.test('lifetimes beyond 60 s cannot be minted', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  t.throws(() => issuer.mint(42, 'alice', 61), /out of range/)
  t.throws(() => issuer.mint(0, 'alice'), /invalid vmid/)
  t.throws(() => issuer.mint(42, ''), /user/)
  t.throws(() => new IdeTokenIssuer(Buffer.alloc(16)), /too short/)
})

t.test('the replay cache forgets expired entries and fails closed when full', async (t) => {
  const cache = new ReplayCache(2)
  t.ok(cache.claim('a', 2000, 1000))
  t.notOk(cache.claim('a', 2000, 1500), 'second claim refused')
  t.ok(cache.claim('b', 2000, 1500))
  t.notOk(cache.claim('c', 5000, 1600), 'full: refused rather than forgetting a live entry')
  t.ok(cache.claim('c', 5000, 2500), 'after expiry, space is reclaimed')
  t.ok(cache.claim('a', 6000, 2600), 'an expired id may be claimed again (its token has expired anyway)')
})
