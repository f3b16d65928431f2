// Server-side request forgery: mod and runtime artifact URLs (agent) and RuntimeCatalog artifact
// URLs (controller verification) aimed at loopback, private and metadata addresses are refused
// before any connection, redirects are checked hop by hop, and a refusal says nothing about the
// target. Traffic goes only to loopback listeners this test starts; for every other address the
// test proves the refusal happened before a connection was attempted (no connect, stub resolver).
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import t, { type Test } from 'tap'
import { startTestAgent } from '../agent/helpers.ts'
import { buildArtifacts, condition, startE2E } from '../e2e/harness.ts'
import { runtimeCatalog } from '../../src/cli/artifacts/index.ts'
import { checkArtifact } from '../../controller/runtimecatalog.ts'
import { installRuntimes } from '../../controller/steps/install.ts'
import { catalogVerificationPolicy, refusal } from '../../controller/outbound.ts'
import { AgentClient } from '../../src/agent-client/index.ts'
import { guardedGet, isNonPublicAddress, matchSource, addressAllowed, type NormalizedUrl } from '../../src/platform/index.ts'

const SECRET = 'TOP-SECRET-INTERNAL-BODY'
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

interface Listener {
  port: number
  base: string
  connections: () => number
  requests: string[]
}

/** A loopback HTTP listener that counts connections; `handler` answers (default: the secret). */
async function listener(t: Test, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Listener> {
  let connections = 0
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    if (handler) handler(req, res)
    else res.end(SECRET)
  })
  server.on('connection', (s) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  )
  const port = (server.address() as AddressInfo).port
  return { port, base: `http://127.0.0.1:${port}/`, connections: () => connections, requests }
}

t.test('source matcher: normalized scheme + host + port + path prefix, never a raw string prefix', async (t) => {
  const rules = { allowedSources: ['https://cdn.example.com/mods/', 'http://127.0.0.1:8081/', 'https://files.example.com/exact.jar'] }
  const allowed = [
    'https://cdn.example.com/mods/a.jar',
    'HTTPS://CDN.EXAMPLE.COM/mods/a.jar',
    'https://cdn.example.com:443/mods/a.jar',
    'https://cdn.example.com./mods/a.jar',
    'https://cdn.example.com/mods/sub/../b.jar',
    'https://cdn.example.com/mods/a.jar?x=1#f',
    'http://127.0.0.1:8081/x',
    'http://0x7f.1:8081/x',
    'http://2130706433:8081/x',
    'http://[::ffff:127.0.0.1]:8081/x',
    'https://files.example.com/exact.jar',
  ]
  for (const url of allowed) t.ok(matchSource(url, rules).allowed, `allowed: ${url}`)
  const refused = [
    'https://cdn.example.com/modsevil/a.jar',
    'https://cdn.example.com/mods/../secret',
    'https://cdn.example.com/mods/%2e%2e/secret',
    'https://cdn.example.com/mods/..%2fsecret',
    'https://cdn.example.com/mods/..%2Fsecret',
    'https://cdn.example.com/mods/..%5csecret',
    'https://cdn.example.com/mods/%2E%2E%2fsecret',
    'http://cdn.example.com/mods/a.jar',
    'https://cdn.example.com:8443/mods/a.jar',
    'https://cdn.example.com.evil.net/mods/a.jar',
    'https://evil.net/https://cdn.example.com/mods/',
    'https://cdn.example.com/Mods/a.jar',
    'https://allowed@127.0.0.1/',
    'http://cdn.example.com@127.0.0.1:8081/x',
    'http://u:p@127.0.0.1:8081/x',
    'http://127.0.0.1:8082/x',
    'http://127.0.0.2:8081/x',
    'http://localhost:8081/x',
    'http://localhost.:8081/x',
    'http://[::1]:8081/x',
    'https://127.0.0.1:8081/x',
    'file:///etc/passwd',
    'ftp://cdn.example.com/mods/a.jar',
    'not a url',
    'https://files.example.com/exact.jar.evil',
    'https://files.example.com/exact.jarx',
  ]
  for (const url of refused) t.notOk(matchSource(url, rules).allowed, `refused: ${url}`)
})

t.test('addresses: loopback, private, link-local, CGNAT, multicast, unspecified, mapped forms are non-public', async (t) => {
  for (const a of [
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    '::127.0.0.1',
    'not-an-ip',
  ]) {
    t.ok(isNonPublicAddress(a), `non-public: ${a}`)
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) t.notOk(isNonPublicAddress(a), `public: ${a}`)
  const named = matchSource('https://cdn.example.com/mods/a', { allowedSources: ['https://cdn.example.com/mods/'] }) as {
    source: NormalizedUrl
  }
  const literal = matchSource('http://127.0.0.1:8081/a', { allowedSources: ['http://127.0.0.1:8081/'] }) as { source: NormalizedUrl }
  const rules = { allowedSources: [] }
  t.notOk(addressAllowed('10.0.0.1', named.source, rules), 'a listed name resolving to a private address is refused')
  t.ok(addressAllowed('10.0.0.1', named.source, { allowedSources: [], allowedNetworks: ['10.0.0.0/8'] }), '… unless its network is listed')
  t.ok(addressAllowed('8.8.8.8', named.source, rules), 'a public address is fine')
  t.ok(addressAllowed('127.0.0.1', literal.source, rules), 'a literal loopback source allows its own address')
  t.notOk(addressAllowed('127.0.0.2', literal.source, rules), '… and no other')
})

t.test('guarded fetch: host names resolved once, the checked address is the one connected to', async (t) => {
  const trap = await listener(t)
  const connects: string[] = []
  const onConnect = (address: string, port: number): void => {
    connects.push(`${address}:${port}`)
  }
  const stub = (answers: string[]) => async () => answers.map((address) => ({ address }))
  const rules = (extra: Partial<{ allowedNetworks: string[] }> = {}) => ({
    allowedSources: [`http://mirror.test:${trap.port}/`, `http://localhost.:${trap.port}/`],
    ...extra,
  })

  for (const answers of [['127.0.0.1'], ['::1'], ['10.0.0.1'], ['169.254.169.254'], ['8.8.8.8', '192.168.0.10'], []]) {
    const err = await guardedGet(`http://mirror.test:${trap.port}/a.jar`, { rules: rules(), resolve: stub(answers), onConnect }).catch(
      (e: unknown) => e,
    )
    t.match(err, { code: 'OUTBOUND_NOT_ALLOWED' }, `mirror.test → ${answers.join(',') || 'nothing'} refused`)
    t.notMatch((err as Error).message, /127\.0\.0\.1|10\.0\.0\.1|169\.254|192\.168|::1/, 'the message names no address')
  }
  const viaSystem = await guardedGet(`http://localhost.:${trap.port}/a.jar`, { rules: rules(), onConnect }).catch((e: unknown) => e)
  t.match(viaSystem, { code: 'OUTBOUND_NOT_ALLOWED' }, 'a listed "localhost." resolves to loopback: refused')
  t.same(connects, [], 'no connection was attempted for any refused case')
  t.equal(trap.connections(), 0, 'the loopback listener saw nothing')

  // Positive control: the network listed, the stub's answer is what gets connected to (mirror.test
  // exists in no DNS, so a second resolution would fail).
  const ok = await guardedGet(`http://mirror.test:${trap.port}/a.jar`, {
    rules: rules({ allowedNetworks: ['127.0.0.0/8'] }),
    resolve: stub(['127.0.0.1']),
    onConnect,
  })
  let body = ''
  for await (const chunk of ok.response) body += String(chunk)
  t.equal(body, SECRET)
  t.same(connects, [`127.0.0.1:${trap.port}`])
  t.equal(trap.requests.length, 1)
})

t.test('redirects: each hop checked, bounded, a refused hop never contacted nor named', async (t) => {
  const trap = await listener(t)
  let target = ''
  const origin = await listener(t, (req, res) => {
    if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end()
      return
    }
    res.writeHead(302, { location: target }).end()
  })
  const connects: string[] = []
  const rules = { allowedSources: [origin.base] }
  for (const to of [
    `${trap.base}secret`,
    `http://[::1]:${trap.port}/secret`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/x',
    `http://localhost:${trap.port}/`,
    'file:///etc/passwd',
  ]) {
    target = to
    const err = await guardedGet(`${origin.base}a.jar`, { rules, onConnect: (a, p) => connects.push(`${a}:${p}`) }).catch((e: unknown) => e)
    t.match(
      err,
      { code: 'OUTBOUND_NOT_ALLOWED', message: new RegExp(`^${origin.base}a\\.jar redirected to a URL that is not an allowed source`) },
      `redirect to ${to}`,
    )
    t.notMatch((err as Error).message, /secret|169\.254|10\.0\.0\.1|localhost|passwd/, 'the hop is not named')
    t.notMatch((err as Error).message, new RegExp(String(trap.port)), 'nor its port')
  }
  t.ok(
    connects.every((c) => c === `127.0.0.1:${origin.port}`),
    'only the allowed origin was connected to',
  )
  t.equal(trap.connections(), 0, 'the refused hop was never contacted')
  const loop = await guardedGet(`${origin.base}loop`, { rules }).catch((e: unknown) => e)
  t.match(loop, { code: 'OUTBOUND_TOO_MANY_REDIRECTS' })
})

t.test('agent: mods and runtime installs aimed at internal addresses are refused before any connection', async (t) => {
  const trap = await listener(t)
  const mod = Buffer.from('A-REAL-MOD-'.repeat(100))
  let redirectTo = ''
  const artifacts = await listener(t, (req, res) => {
    if (req.url === '/good.jar') {
      res.end(mod)
      return
    }
    res.writeHead(302, { location: redirectTo }).end()
  })
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const outbound = { allowedSources: [artifacts.base], provider: 'local' }
  const hint = 'ask the operator to add it to ContainerProvider "local" spec.outbound.allowedSources'
  const internal = [
    `http://127.0.0.1:${trap.port}/a.jar`,
    `http://[::1]:${trap.port}/a.jar`,
    `http://0x7f.1:${trap.port}/a.jar`,
    `http://2130706433:${trap.port}/a.jar`,
    `http://localhost:${trap.port}/a.jar`,
    `http://localhost.:${trap.port}/a.jar`,
    `http://[::ffff:127.0.0.1]:${trap.port}/a.jar`,
    `http://${artifacts.base.slice(7, -1)}@127.0.0.1:${trap.port}/a.jar`,
    'http://10.0.0.1/a.jar',
    'http://169.254.169.254/latest/meta-data/',
    'http://192.168.0.1/a.jar',
    'http://[fd00::1]/a.jar',
    'https://100.64.0.1/a.jar',
  ]
  for (const url of internal) {
    const res = await agent.request('/mods/x.jar', { method: 'PUT', json: { url, sha256: sha256(SECRET), outbound } })
    const body = (await res.json()) as { code: string; message: string }
    t.equal(res.status, 403, `mod ${url}: 403`)
    t.equal(body.code, 'OUTBOUND_NOT_ALLOWED')
    t.ok(body.message.startsWith(`mod "x.jar": ${url} is not an allowed source`) && body.message.includes(`; ${hint}`), body.message)
    t.notMatch(body.message, /ECONNREFUSED|answered|sha256|SECRET/i, 'nothing about the target')
    const rt = await agent.request('/runtimes', {
      method: 'POST',
      json: { name: 'tool', version: '1.0', url, sha256: sha256(SECRET), outbound },
    })
    t.match(await rt.json(), { code: 'OUTBOUND_NOT_ALLOWED' }, `runtime ${url}`)
  }
  redirectTo = `${trap.base}a.jar`
  const redirected = await agent.request('/mods', {
    method: 'PUT',
    json: { mods: [{ name: 'r.jar', url: `${artifacts.base}r.jar`, sha256: sha256(SECRET) }], outbound },
  })
  const rbody = (await redirected.json()) as { code: string; message: string }
  t.equal(rbody.code, 'OUTBOUND_NOT_ALLOWED', 'a redirect from an allowed source to a refused one')
  t.notMatch(rbody.message, new RegExp(String(trap.port)), 'the hop is not named')
  const none = await agent.request('/mods/x.jar', { method: 'PUT', json: { url: `${artifacts.base}good.jar`, sha256: sha256(mod) } })
  t.match(await none.json(), { code: 'OUTBOUND_NOT_ALLOWED' }, 'no policy given: nothing is downloaded')
  t.equal(trap.connections(), 0, 'the internal listener was never contacted')

  const good = await agent.request('/mods/good.jar', {
    method: 'PUT',
    json: { url: `${artifacts.base}good.jar`, sha256: sha256(mod), outbound },
  })
  t.equal(good.status, 200, 'positive control: an allowed loopback source is fetched')
  t.match(await good.json(), { mods: [{ name: 'good.jar', sha256: sha256(mod) }] }, 'and hash-checked')
  const wrong = await agent.request('/mods/bad.jar', {
    method: 'PUT',
    json: { url: `${artifacts.base}good.jar`, sha256: 'f'.repeat(64), outbound },
  })
  t.match(await wrong.json(), { code: 'ARTIFACT_SHA256_MISMATCH' })
  t.equal((await agent.request('/status')).status, 200, 'the agent is still up')
})

t.test('controller: catalog verification and install requests never reach internal targets', async (t) => {
  const trap = await listener(t)
  const good = Buffer.from('artifact')
  const artifacts = await listener(t, (_req, res) => {
    res.end(good)
  })
  const policy = { allowedSources: [artifacts.base], provider: 'local' }
  for (const url of [
    `${trap.base}node.tgz`,
    `http://[::1]:${trap.port}/node.tgz`,
    'http://10.0.0.1/node.tgz',
    'http://169.254.169.254/latest/meta-data/',
    `http://localhost:${trap.port}/x`,
  ]) {
    const r = await checkArtifact(url, { sha256: sha256(SECRET) }, { maxBytes: 1 << 20, timeoutMs: 5000, policy })
    t.equal(r.ok, false, `catalog ${url} not verified`)
    t.match(r.message, /is not an allowed source/)
    t.notOk(r.sha256 ?? r.sizeBytes, 'no hash or size of the target')
    t.notMatch(r.message, /ECONNREFUSED|HTTP \d|sha256 [0-9a-f]|bytes/, 'nothing about whether the target answered')
    t.match(
      refusal(url, policy, 'mod "x"'),
      /^mod "x": .* is not an allowed source; ask the operator to add it to ContainerProvider "local" spec\.outbound\.allowedSources$/,
    )
  }
  t.equal(trap.connections(), 0, 'the internal listener was never contacted')
  t.match(
    await checkArtifact(`${artifacts.base}node.tgz`, { sha256: sha256(good) }, { maxBytes: 1 << 20, timeoutMs: 5000, policy }),
    { ok: true },
    'positive control',
  )

  // The install request is not even sent to the agent.
  const agentSide = await listener(t, (_req, res) => {
    res.writeHead(500).end()
  })
  const client = new AgentClient({ baseUrl: agentSide.base.slice(0, -1), token: 'x'.repeat(32) })
  const out = await installRuntimes(
    client,
    [{ name: 'node', version: '1', url: `${trap.base}node.tgz`, sha256: sha256(SECRET) } as never],
    AbortSignal.timeout(5000),
    policy,
  )
  t.match(out.failed, { reason: 'SourceNotAllowed' })
  t.equal(agentSide.requests.length, 0, 'the agent was not asked')

  const store = {
    list: () => [
      { metadata: { name: 'a' }, spec: { type: 'process', outbound: { allowedSources: ['https://a.example/'] } } },
      {
        metadata: { name: 'b' },
        spec: { type: 'process', outbound: { allowedSources: ['https://b.example/'], allowedNetworks: ['10.1.0.0/16'] } },
      },
      { metadata: { name: 'c' }, spec: { type: 'process' } },
    ],
  }
  t.same(
    catalogVerificationPolicy(store as never),
    { allowedSources: ['https://a.example/', 'https://b.example/'], allowedNetworks: ['10.1.0.0/16'] },
    'catalogs: the union of every provider',
  )
})

t.test('end to end: what a servers:read user sees of a mod and a catalog artifact aimed at a loopback listener', async (t) => {
  t.setTimeout(10 * 60_000)
  const trap = await listener(t)
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  t.teardown(() => {
    if (!t.passing()) console.error(e.logs().split('\n').slice(-40).join('\n'))
  })
  await e.startController()
  await e.apply(runtimeCatalog('probe', [{ artifact: art.node, url: `${trap.base}node.tgz` }], { stable: art.node.version }) as never)
  const program = "require('net').createServer((c)=>c.end('hi')).listen(Number(process.env.SERVER_PORT))"
  await e.apply({
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'probe', namespace: 'default' },
    spec: {
      game: 'tcp',
      runtime: { name: 'node', channel: 'stable' },
      resources: { memoryMiB: 256 },
      server: { command: ['node', '-e', program], port: e.portBase + 90, gracePeriodSeconds: 2 },
      mods: [{ name: 'probe.jar', url: `${trap.base}probe.jar`, sha256: sha256('x') }],
    },
  })
  const gs = await e.waitFor('ModsReady=False', 'gameserver', 'probe', (o: any) => condition(o, 'ModsReady')?.status === 'False', 180_000)
  const mods = condition(gs, 'ModsReady')!
  t.equal(mods.reason, 'SourceNotAllowed')
  t.equal(
    mods.message,
    `mod "probe.jar": ${trap.base}probe.jar is not an allowed source; ask the operator to add it to ContainerProvider "local" spec.outbound.allowedSources`,
  )
  const rc = await e.waitFor('catalog checked', 'runtimecatalog', 'probe', (o: any) => o.status?.versions?.length === 1, 120_000)
  const v = rc.status.versions[0]
  t.equal(v.verified, false)
  t.match(
    v.message,
    new RegExp(
      `${trap.base}node\\.tgz is not an allowed source; ask the operator to add it to a ContainerProvider's spec\\.outbound\\.allowedSources$`,
    ),
  )
  t.notOk(v.sizeBytes, 'no size of the target')
  const visible = JSON.stringify([gs.status, rc.status])
  t.notMatch(visible, new RegExp(`${sha256(SECRET)}|ECONNREFUSED|HTTP \\d{3}|${SECRET}`), 'nothing the target said or whether it answered')
  t.equal(trap.connections(), 0, 'the loopback listener was never contacted')
})
