// IDE token claims as Leases in the real embedded API server: one claim per id whichever
// instance makes it, no nonce stored in the clear, expired claims swept (live ones kept), and
// API failures rejected so the token is refused (fail closed).
import t from 'tap'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { IdeTokenIssuer } from '../../../src/gateway/index.ts'
import { LeaseClaims } from '../../../src/gateway/portal/lease-claims.ts'
import { ensureNamespace } from '../../../src/gateway/portal/system-secrets.ts'

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }
const NS = 'zlh-system'

t.test('one claim per id across instances, swept after expiry', async (t) => {
  const env = await startTestEnv({ crds: [] })
  t.teardown(() => env.stop())
  await ensureNamespace(env.client, NS)
  let now = Date.parse('2026-11-25T10:00:00Z')
  const a = new LeaseClaims(env.client, { namespace: NS, holder: 'replica-a', now: () => now })
  const b = new LeaseClaims(env.client, { namespace: NS, holder: 'replica-b', now: () => now })

  const nonce = 'n0nce-value-that-must-not-be-stored'
  t.equal(await a.claim(nonce, now + 60_000), true, 'first claim wins')
  t.equal(await a.claim(nonce, now + 60_000), false, 'the same instance cannot claim it again')
  t.equal(await b.claim(nonce, now + 60_000), false, 'nor can another instance')
  t.equal(await b.claim('another-nonce', now + 10_000), true, 'other ids are independent')

  const leases = (await env.client.list<any>(LEASE, { namespace: NS })).items
  t.equal(leases.length, 2)
  t.notOk(JSON.stringify(leases).includes(nonce), 'the nonce itself is not written to the API')
  t.match(
    leases.map((l) => l.metadata.name),
    [/^zlh-ide-token-[0-9a-f]{40}$/, /^zlh-ide-token-[0-9a-f]{40}$/],
  )

  t.equal(await a.sweep(), 0, 'nothing has expired yet')
  // Past the short claim's expiry plus the skew margin, not yet the long one's.
  now += 10_000 + 61_000
  t.equal(await a.sweep(), 1, 'the expired claim is deleted')
  t.equal((await env.client.list(LEASE, { namespace: NS })).items.length, 1, 'the live claim is kept')
  now += 60_000
  t.equal(await b.sweep(), 1)
  t.equal((await env.client.list(LEASE, { namespace: NS })).items.length, 0)
})

t.test('when the claim cannot be recorded, the token is refused', async (t) => {
  const env = await startTestEnv({ crds: [] })
  t.teardown(() => env.stop())
  // No such namespace: the API answers 404 to the create.
  const claims = new LeaseClaims(env.client, { namespace: 'does-not-exist' })
  await t.rejects(claims.claim('x', Date.now() + 60_000))
  const issuer = new IdeTokenIssuer(Buffer.alloc(32, 1), { sharedClaims: claims })
  const { token } = issuer.mint({ vmid: 9, uid: 'uid-1', apiTokenId: null, user: 'alice' })
  t.same(await issuer.redeem(token, 9), { ok: false, reason: 'unverifiable' })
})
