import t from 'tap'
import { randomBytes } from 'node:crypto'
import { IdeTokenIssuer, ReplayCache, type IdeBinding } from '../../../src/gateway/ide/index.ts'

const key = randomBytes(32)
const UID = '3f1c2a9e-1111-4a4a-8b8b-0123456789ab'
const bound = (over: Partial<IdeBinding> = {}): IdeBinding => ({ vmid: 42, uid: UID, apiTokenId: '0123456789ab', user: 'alice', ...over })

t.test('a token redeems once, for its vmid, carrying its binding', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  const { token, expiresAt } = issuer.mint(bound({ user: 'ünïcode user' }))
  t.ok(expiresAt.getTime() - Date.now() <= 60_000)
  t.same(await issuer.redeem(token, 7), { ok: false, reason: 'other-vmid' })
  t.same(await issuer.redeem(token, 42), { ok: true, binding: bound({ user: 'ünïcode user' }) })
  t.same(await issuer.redeem(token, 42), { ok: false, reason: 'replayed' })
  const direct = issuer.mint(bound({ apiTokenId: null }))
  t.same(
    await issuer.redeem(direct.token, 42),
    { ok: true, binding: bound({ apiTokenId: null }) },
    'no portal token behind it: said explicitly',
  )
})

t.test('a token whose binding no longer holds is refused and not used up', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  const { token } = issuer.mint(bound())
  t.same(await issuer.redeem(token, 42, (b) => (b.uid === UID ? 'devserver-replaced' : undefined)), {
    ok: false,
    reason: 'devserver-replaced',
  })
  t.same(await issuer.redeem(token, 42, () => 'token-revoked'), { ok: false, reason: 'token-revoked' })
  t.match(await issuer.redeem(token, 42, () => undefined), { ok: true }, 'still redeemable once the binding holds')
})

t.test('forged, tampered, foreign-key and expired tokens are refused', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  const { token } = issuer.mint(bound())
  const parts = token.split('.')
  t.same(await issuer.redeem(new IdeTokenIssuer(randomBytes(32)).mint(bound()).token, 42), { ok: false, reason: 'forged' })
  t.same(await issuer.redeem([...parts.slice(0, 6), Buffer.from('mallory').toString('base64url'), parts[7]].join('.'), 42), {
    ok: false,
    reason: 'forged',
  })
  t.same(
    await issuer.redeem([parts[0], parts[1], 'another-uid', ...parts.slice(3)].join('.'), 42),
    { ok: false, reason: 'forged' },
    'the uid is signed',
  )
  t.same(await issuer.redeem(`${token.slice(0, -2)}AA`, 42), { ok: false, reason: 'forged' })
  t.same(await issuer.redeem('', 42), { ok: false, reason: 'malformed' })
  t.same(await issuer.redeem('a b', 42), { ok: false, reason: 'malformed' })
  let now = Date.now()
  const clocked = new IdeTokenIssuer(key, { now: () => now })
  const short = clocked.mint(bound(), 10).token
  now += 10_001
  t.same(await clocked.redeem(short, 42), { ok: false, reason: 'expired' })
})

t.test('lifetimes beyond 60 s, and unbound tokens, cannot be minted', async (t) => {
  const issuer = new IdeTokenIssuer(key)
  t.throws(() => issuer.mint(bound(), 61), /out of range/)
  t.throws(() => issuer.mint(bound({ vmid: 0 })), /invalid vmid/)
  t.throws(() => issuer.mint(bound({ user: '' })), /user/)
  t.throws(() => issuer.mint(bound({ uid: '' })), /uid/)
  t.throws(() => issuer.mint(bound({ uid: 'a.b' })), /uid/)
  t.throws(() => issuer.mint(bound({ apiTokenId: 'x.y' })), /token id/)
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
