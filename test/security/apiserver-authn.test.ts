// Security regression suite of the API server's authentication (issue 18, part A): no token ever
// reaches a log or an error; minting ServiceAccount tokens, reviewing other identities and
// impersonating are each gated by RBAC (the reader and a namespace's ServiceAccount get 403s worded
// as kube's); a malformed tokens.json stops the start without printing its tokens.
// Sources: the "User impersonation" section of k8s.io/docs/reference/access-authn-authz/authentication/
// and staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go (one check per header).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createApiServer } from '../../src/apiserver/index.ts'
import { request, startServer } from '../apiserver/harness.ts'

const json = 'application/json'
const ALICE = 'alice-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa'

t.test('no token in any log line or error body', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const h = await startServer(t, { logger: { level: 'trace', stream } })
  const s = h.server
  await h.k('create', 'serviceaccount', 'bot', '-n', 'default')
  const sa = (await h.k('create', 'token', 'bot', '-n', 'default')).trim()
  const bogus = 'bogus-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
  const bodies: string[] = []
  for (const token of [s.adminToken, s.readOnlyToken!, sa, bogus, `${sa.slice(0, -6)}AAAAAA`]) {
    bodies.push((await request(s, 'GET', '/api/v1/namespaces/default/secrets', { token })).text)
    bodies.push(
      (await request(s, 'GET', '/api/v1/namespaces', { token, headers: { 'Impersonate-User': 'x', 'Impersonate-Group': 'y' } })).text,
    )
    bodies.push(
      (
        await request(s, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
          body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
          contentType: json,
        })
      ).text,
    )
  }
  bodies.push(
    (
      await request(s, 'GET', '/api/v1/namespaces', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`u:${s.adminToken}`).toString('base64')}` },
      })
    ).text,
  )
  t.ok(lines.length > 10, 'the server logged requests')
  const denied = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request forbidden' && l.user === 'reader')
  t.match(
    denied,
    { user: 'reader', verb: 'list', resource: 'secrets', namespace: 'default' },
    'a refused request is logged with who and what',
  )
  for (const token of [s.adminToken, s.readOnlyToken!, sa, bogus]) {
    t.notOk(
      lines.some((l) => l.includes(token)),
      'no log line holds a token',
    )
    t.notOk(
      bodies.some((b) => b.includes(token)),
      'no answer echoes a token',
    )
  }
})

t.test('minting tokens, reviewing others and impersonating are each gated by RBAC', async (t) => {
  const h = await startServer(t, { tokens: [{ token: ALICE, user: 'alice' }] })
  const s = h.server
  for (const ns of ['team-a', 'team-b']) await h.k('create', 'namespace', ns)
  for (const ns of ['team-a', 'team-b']) await h.k('create', 'serviceaccount', 'deployer', '-n', ns)
  await h.k('create', 'rolebinding', 'deployer-edit', '--clusterrole=edit', '--serviceaccount=team-a:deployer', '-n', 'team-a')
  const deployer = (await h.k('create', 'token', 'deployer', '-n', 'team-a')).trim()
  const mint = (token: string, ns: string) =>
    request(s, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/deployer/token`, {
      token,
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }),
      contentType: json,
    })

  let r = await mint(s.readOnlyToken!, 'team-a')
  t.equal(r.status, 403, "view may not mint ServiceAccount tokens (kube's view has no serviceaccounts/token)")
  t.match(
    r.json().message,
    /^serviceaccounts "deployer" is forbidden: User "reader" cannot create resource "serviceaccounts\/token" in API group "" in the namespace "team-a"$/,
  )
  t.notOk('status' in r.json() && typeof r.json().status === 'object', 'and gets no token')
  t.equal((await mint(deployer, 'team-a')).status, 201, "edit may mint tokens in its namespace (as kube's edit)")
  t.equal((await mint(deployer, 'team-b')).status, 403, 'but not in another namespace')

  const review = (token: string, path: string, body: unknown) =>
    request(s, 'POST', path, { token, body: JSON.stringify(body), contentType: json })
  r = await review(s.readOnlyToken!, '/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token: deployer },
  })
  t.equal(r.status, 403, 'TokenReview is no token oracle for the reader')
  r = await review(s.readOnlyToken!, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user: 'admin', resourceAttributes: { verb: 'get', resource: 'secrets' } },
  })
  t.equal(r.status, 403, 'nor may it review what others may do')
  r = await review(deployer, '/apis/authorization.k8s.io/v1/namespaces/team-b/localsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'LocalSubjectAccessReview',
    metadata: { namespace: 'team-b' },
    spec: { user: 'admin', resourceAttributes: { namespace: 'team-b', verb: 'get', resource: 'secrets' } },
  })
  t.equal(r.status, 403, 'edit may not review others anywhere (admin may, in its namespace)')
  r = await review(s.adminToken, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: 'system:serviceaccount:team-a:deployer',
      groups: ['system:serviceaccounts'],
      resourceAttributes: { namespace: 'team-a', verb: 'create', resource: 'configmaps' },
    },
  })
  t.match(
    r.json(),
    { kind: 'SubjectAccessReview', status: { allowed: true, reason: /RBAC: allowed by RoleBinding "deployer-edit\/team-a"/ } },
    "the admin may, and gets kube's reason",
  )

  // alice may impersonate users (any name) and nothing else: every other header needs its own grant.
  await h.k('create', 'clusterrole', 'impersonate-users', '--verb=impersonate', '--resource=users')
  await h.k('create', 'clusterrolebinding', 'alice-impersonates', '--clusterrole=impersonate-users', '--user=alice')
  const as = (headers: Record<string, string>) => request(s, 'GET', '/apis/authentication.k8s.io/v1', { token: ALICE, headers })
  t.equal((await as({ 'Impersonate-User': 'jane' })).status, 200, 'the granted kind passes')
  for (const [headers, message] of [
    [
      { 'Impersonate-User': 'system:serviceaccount:team-a:deployer' },
      /^serviceaccounts "deployer" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"$/,
    ],
    [
      { 'Impersonate-User': 'jane', 'Impersonate-Group': 'system:masters' },
      /^groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope$/,
    ],
    [
      { 'Impersonate-User': 'jane', 'Impersonate-Uid': 'u-1' },
      /^uids\.authentication\.k8s\.io "u-1" is forbidden: User "alice" cannot impersonate resource "uids" in API group "authentication\.k8s\.io" at the cluster scope$/,
    ],
    [
      { 'Impersonate-User': 'jane', 'Impersonate-Extra-Scopes': 'admin' },
      /^userextras\.authentication\.k8s\.io "admin" is forbidden: User "alice" cannot impersonate resource "userextras\/scopes" in API group "authentication\.k8s\.io" at the cluster scope$/,
    ],
  ] as const) {
    r = await as(headers)
    t.equal(r.status, 403, `${JSON.stringify(headers)} → 403`)
    t.match(r.json(), { kind: 'Status', reason: 'Forbidden', message }, "worded as kube-apiserver's")
  }
  t.equal(
    (
      await request(s, 'GET', '/apis/authentication.k8s.io/v1', {
        token: deployer,
        headers: { 'Impersonate-User': 'system:serviceaccount:team-a:deployer' },
      })
    ).status,
    200,
    "edit may impersonate ServiceAccounts of its namespace (kube's edit)",
  )
  t.equal(
    (
      await request(s, 'GET', '/apis/authentication.k8s.io/v1', {
        token: deployer,
        headers: { 'Impersonate-User': 'system:serviceaccount:team-b:deployer' },
      })
    ).status,
    403,
    'not of another',
  )
})

t.test("forged ServiceAccount tokens: alg none, HMAC with a guessed key, another issuer's key — all 401", async (t) => {
  const h = await startServer(t)
  await h.k('create', 'serviceaccount', 'bot', '-n', 'default')
  const sa = JSON.parse(await h.k('get', 'sa', 'bot', '-n', 'default', '-o', 'json'))
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: 'system:serviceaccount:default:bot',
    aud: ['https://kubernetes.default.svc.cluster.local'],
    iat: now,
    nbf: now,
    exp: now + 600,
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'bot', uid: sa.metadata.uid } },
  }
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const { SignJWT } = await import('jose')
  const { generateKeyPairSync } = await import('node:crypto')
  const forged = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.AAAA`,
    await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('guessed-secret')),
    await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
  ]
  for (const token of forged) {
    const r = await request(h.server, 'GET', '/api/v1/namespaces/default/configmaps', { token })
    t.equal(r.status, 401, `${JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg} forgery → 401`)
  }
})

t.test('a malformed tokens.json stops the start, naming the entry and not its token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-tokens-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const secret = 'short-secret'
  writeFileSync(
    join(dir, 'tokens.json'),
    JSON.stringify({
      tokens: [
        { token: 'a'.repeat(32), user: 'admin', groups: ['system:masters'] },
        { token: secret, user: 'x' },
      ],
    }),
    { mode: 0o600 },
  )
  const err = await createApiServer({ dataDir: dir, port: 0 }).then(
    async (s) => {
      await s.close()
      return undefined
    },
    (e: Error) => e,
  )
  t.ok(err, 'the server does not start')
  t.match(err?.message, /tokens\[1\]: token must be a string of at least 16 characters/)
  t.notMatch(err?.message, secret)
  writeFileSync(
    join(dir, 'tokens.json'),
    JSON.stringify({
      tokens: [
        { token: 'b'.repeat(32), user: 'legacy-admin', role: 'admin' },
        { token: 'c'.repeat(32), user: 'legacy-reader', role: 'read-only' },
      ],
    }),
    { mode: 0o600 },
  )
  const s = await createApiServer({ dataDir: dir, port: 0 })
  t.teardown(() => s.close())
  t.equal(s.adminToken, 'b'.repeat(32), 'a legacy role: admin entry is the admin (system:masters)')
  t.equal(s.readOnlyToken, 'c'.repeat(32), 'and role: read-only the reader (zlh:viewers)')
  const who = await request(s, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    token: 'c'.repeat(32),
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
    contentType: json,
  })
  t.same(who.json().status.userInfo, { username: 'legacy-reader', groups: ['zlh:viewers', 'system:authenticated'] })
})
