// ServiceAccount tokens: the TokenRequest API (kube's "Manually create an API token for a
// ServiceAccount" and the TokenRequest API reference, k8s.io/docs/reference/kubernetes-api/
// authentication-resources/token-request-v1), `kubectl create token`, and authentication with them:
// signature, time window, audience, and the ServiceAccount still being there with the same uid.
import t from 'tap'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { ServiceAccountTokens } from '../../../src/apiserver/authn/service-account-tokens.ts'
import { kubeconfigFor, request, startServer, type Harness } from '../harness.ts'

const json = 'application/json'

function claims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
}

async function tokenRequest(h: Harness, ns: string, sa: string, spec: Record<string, unknown> = {}) {
  return request(h.server, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec }),
    contentType: json,
  })
}

async function whoami(h: Harness, token: string) {
  return request(h.server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    token,
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
    contentType: json,
  })
}

t.test('TokenRequest issues a kube-shaped JWT; defaults, minimum and cap of expirationSeconds', async (t) => {
  const h = await startServer(t)
  await h.k('create', 'serviceaccount', 'bot', '-n', 'default')
  const sa = JSON.parse(await h.k('get', 'sa', 'bot', '-n', 'default', '-o', 'json'))
  t.equal(statSync(join(h.dir, 'data', 'service-account.key')).mode & 0o777, 0o600, 'the signing key is 0600')

  let r = await tokenRequest(h, 'default', 'bot')
  t.equal(r.status, 201)
  const body = r.json()
  t.match(body, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: 'bot', namespace: 'default' },
    spec: { expirationSeconds: 3600, audiences: ['https://kubernetes.default.svc.cluster.local'] },
    status: { token: /^[\w-]+\.[\w-]+\.[\w-]+$/, expirationTimestamp: /Z$/ },
  })
  const c = claims(body.status.token)
  t.match(c, {
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: 'system:serviceaccount:default:bot',
    aud: ['https://kubernetes.default.svc.cluster.local'],
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'bot', uid: sa.metadata.uid } },
  })
  t.equal(c.exp - c.iat, 3600, 'spec.expirationSeconds defaults to 3600 (kube)')
  t.equal(c.nbf, c.iat)
  t.type(c.jti, 'string')
  t.equal(new Date(body.status.expirationTimestamp).getTime() / 1000, c.exp, 'status.expirationTimestamp is exp')

  r = await tokenRequest(h, 'default', 'bot', { expirationSeconds: 599 })
  t.equal(r.status, 422, 'below 10 minutes is refused, as kube validation does')
  t.match(r.json(), {
    reason: 'Invalid',
    message: /spec\.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/,
  })
  r = await tokenRequest(h, 'default', 'bot', { expirationSeconds: 10 * 365 * 24 * 3600 })
  t.equal(r.status, 201)
  t.equal(r.json().spec.expirationSeconds, 365 * 24 * 3600, 'a longer request is shortened to the 1-year maximum, and the answer says so')
  r = await tokenRequest(h, 'default', 'bot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p' } })
  t.equal(r.status, 422, 'binding to an object is refused (no Pods here)')
  r = await tokenRequest(h, 'default', 'nobody')
  t.equal(r.status, 404)
  t.match(r.json(), { message: 'serviceaccounts "nobody" not found' })
  r = await request(h.server, 'GET', '/api/v1/namespaces/default/serviceaccounts/bot/token')
  t.equal(r.status, 405, 'create-only')
})

t.test(
  'kubectl create token: the token authenticates as the ServiceAccount, survives a restart, and dies with the ServiceAccount',
  async (t) => {
    const h = await startServer(t)
    await h.k('create', 'namespace', 'team-a')
    await h.k('create', 'serviceaccount', 'builder', '-n', 'team-a')
    const token = (await h.k('create', 'token', 'builder', '-n', 'team-a', '--duration=15m')).trim()
    const c = claims(token)
    t.equal(c.exp - c.iat, 900, '--duration=15m → expirationSeconds 900')

    const who = await h.kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig: kubeconfigFor(h, token, 'builder') })
    t.equal(who.code, 0, who.stderr)
    const sa = JSON.parse(await h.k('get', 'sa', 'builder', '-n', 'team-a', '-o', 'json'))
    t.match(JSON.parse(who.stdout).status.userInfo, {
      username: 'system:serviceaccount:team-a:builder',
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] },
    })

    await h.restart()
    t.equal((await whoami(h, token)).status, 201, 'the signing key is persisted: tokens outlive a restart')

    await h.k('delete', 'serviceaccount', 'builder', '-n', 'team-a')
    let r = await whoami(h, token)
    t.equal(r.status, 401, "a deleted ServiceAccount's token is refused at once")
    t.match(r.json(), { reason: 'Unauthorized' })
    t.notMatch(r.text, token, 'the 401 does not echo the token')
    await h.k('create', 'serviceaccount', 'builder', '-n', 'team-a')
    r = await whoami(h, token)
    t.equal(r.status, 401, 'a re-created ServiceAccount (new uid) does not revive old tokens')
  },
)

t.test('expired, not-yet-valid, foreign-audience and tampered tokens are 401', async (t) => {
  const h = await startServer(t)
  await h.k('create', 'serviceaccount', 'bot', '-n', 'default')
  const sa = JSON.parse(await h.k('get', 'sa', 'bot', '-n', 'default', '-o', 'json'))
  // The server's own key, used directly to mint tokens with other clocks.
  const minter = new ServiceAccountTokens(join(h.dir, 'data', 'service-account.key'), () => ({ uid: sa.metadata.uid, deleting: false }))
  const ref = { namespace: 'default', name: 'bot', uid: sa.metadata.uid }
  const aud = ['https://kubernetes.default.svc.cluster.local']
  const good = await minter.issue(ref, aud, 600)
  t.equal((await whoami(h, good.token)).status, 201, 'a token the key signed now is good')
  const expired = await minter.issue(ref, aud, 600, Date.now() - 3600_000)
  t.equal((await whoami(h, expired.token)).status, 401, 'expired')
  const future = await minter.issue(ref, aud, 600, Date.now() + 3600_000)
  t.equal((await whoami(h, future.token)).status, 401, 'not valid yet (nbf in the future)')
  const other = await minter.issue(ref, ['vault'], 600)
  t.equal((await whoami(h, other.token)).status, 401, 'a token for another audience is not accepted by the API server')
  const [hd, payload, sig] = good.token.split('.')
  const forged = Buffer.from(JSON.stringify({ ...claims(good.token), sub: 'system:serviceaccount:kube-system:admin' })).toString(
    'base64url',
  )
  t.equal((await whoami(h, `${hd}.${forged}.${sig}`)).status, 401, 'a changed payload breaks the signature')
  t.equal((await whoami(h, `${hd}.${payload}.${sig.slice(0, -4)}AAAA`)).status, 401, 'a changed signature')

  // TokenReview checks a token for the audiences asked.
  const review = async (token: string, audiences?: string[]) =>
    (
      await request(h.server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: JSON.stringify({
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(audiences ? { audiences } : {}) },
        }),
        contentType: json,
      })
    ).json()
  t.match(await review(other.token, ['vault']), {
    status: { authenticated: true, audiences: ['vault'], user: { username: 'system:serviceaccount:default:bot' } },
  })
  const refused = await review(other.token)
  t.notOk(refused.status.authenticated, "not for the API server's audience")
  t.notOk(JSON.stringify(refused).includes(other.token), 'the review does not echo the token')
  t.match(await review(h.server.adminToken), {
    status: {
      authenticated: true,
      audiences: ['https://kubernetes.default.svc.cluster.local'],
      user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    },
  })
  t.notOk(
    (await review(h.server.adminToken, ['vault'])).status.authenticated,
    'a static token is good for the API server only (kube wraps its token file so)',
  )
})
