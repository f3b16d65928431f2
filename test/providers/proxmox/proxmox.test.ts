// The proxmox provider against the Proxmox VE API double (test/providers/proxmox-double):
// nextid races, locked CTs, failing tasks with their log, token and TLS checks, an unreachable
// endpoint, ownership checks and the firewall. The shared lifecycle suite is conformance-proxmox.
import t, { type Test } from 'tap'
import http from 'node:http'
import net from 'node:net'
import { ProxmoxBackend, type ProxmoxBackendOptions } from '../../../src/providers/proxmox/index.ts'
import { isProviderError } from '../../../src/providers/errors.ts'
import type { ContainerSpec } from '../../../src/providers/types.ts'
import { startProxmoxDouble, type ProxmoxDouble } from '../proxmox-double/server.ts'

const TOKEN = 'zlh@pve!controller=3f0a9c52-7d1e-4b8a-9a55-0c2b8e1f4d77'

function spec(ownerUid: string): ContainerSpec {
  return {
    identity: { ownerUid, kind: 'GameServer', namespace: 'default', name: `gs-${ownerUid.slice(0, 6)}` },
    resources: { cores: 2, memoryMiB: 1024, diskGiB: 8 },
    agent: { token: 'agent-token-0123456789abcdef' },
  }
}

async function setup(
  t: Test,
  overrides: Partial<ProxmoxBackendOptions> = {},
  hooks: Partial<Parameters<typeof startProxmoxDouble>[0]> = {},
): Promise<{ pve: ProxmoxDouble; provider: ProxmoxBackend }> {
  const pve = await startProxmoxDouble({ apiToken: TOKEN, taskMs: 60, ...hooks })
  const provider = new ProxmoxBackend({
    endpoint: pve.url,
    apiToken: TOKEN,
    caPem: pve.tls.caPem,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/zlh-agent_1.0_amd64.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
    retryDelayMs: 10,
    lockWaitSeconds: 5,
    ...overrides,
  })
  t.teardown(async () => {
    await provider.close()
    await pve.close()
  })
  return { pve, provider }
}

t.test('create waits for the task, tags the CT and opens only the control plane ports', async (t) => {
  const { pve, provider } = await setup(t)
  const ct = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000001'))
  t.equal(ct.vmid, 100)
  t.equal(ct.state, 'stopped')
  t.same(ct.resources, { cores: 2, memoryMiB: 1024, diskGiB: 8 })
  t.same(ct.identity, spec('a1b2c3d4-0000-4000-8000-000000000001').identity)
  const stored = pve.cluster.cts.get(100)!
  t.equal(stored.config.tags, 'zlh;zlh-owner-a1b2c3d4-0000-4000-8000-000000000001')
  t.equal(stored.config.unprivileged, 1)
  t.match(String(stored.config.net0), /bridge=vmbr0.*firewall=1/)
  t.same(stored.firewallOptions, { enable: '1', policy_in: 'DROP', policy_out: 'ACCEPT', macfilter: '1' })
  t.same(stored.firewallRules.map((r) => `${r.action} ${r.dport} ${r.source}`).sort(), ['ACCEPT 6000 10.0.0.5', 'ACCEPT 7100 10.0.0.5'])
  // Repeating ensure changes nothing: same CT, no duplicate rules, no second create.
  const again = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000001'))
  t.equal(again.vmid, 100)
  t.equal(stored.firewallRules.length, 2)
  t.equal(pve.requests.filter((r) => r.method === 'POST' && r.path === '/api2/json/nodes/pve/lxc').length, 1)
})

t.test('nextid race: a concurrent create took the vmid, the next free one is used', async (t) => {
  const { pve, provider } = await setup(t)
  pve.raceNextId(2)
  const ct = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000002'))
  t.equal(ct.vmid, 102, 'vmids 100 and 101 were taken by the racing client')
  t.equal(pve.cluster.cts.get(100)!.config.tags, 'someone-else')
  t.equal(
    pve.requests.filter((r) => r.method === 'POST' && r.path === '/api2/json/nodes/pve/lxc').length,
    3,
    'two creates lost the race, the third won',
  )
})

t.test('vmidRange: vmids come from the configured range, races included', async (t) => {
  const { pve, provider } = await setup(t, { vmidRange: { min: 5000, max: 5010 } })
  pve.raceNextId(2) // the cluster-wide next id (100) and then 5000 are taken by another client
  const ct = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-00000000000a'))
  t.equal(ct.vmid, 5001)
  t.equal(pve.cluster.cts.get(5000)!.config.tags, 'someone-else')
})

t.test('a locked CT is retried with backoff until the lock is released', async (t) => {
  const { pve, provider } = await setup(t)
  const ref = { ownerUid: 'a1b2c3d4-0000-4000-8000-000000000003' }
  const ct = await provider.ensure(spec(ref.ownerUid))
  pve.lockCt(ct.vmid, 'backup', 400)
  const started = Date.now()
  const running = await provider.start(ref)
  t.equal(running.state, 'running')
  t.ok(Date.now() - started >= 350, 'start waited for the backup lock')
  const starts = pve.requests.filter((r) => r.path.endsWith('/status/start'))
  t.ok(starts.length >= 2, `start was retried (${starts.length} attempts)`)
})

t.test('a CT locked past the wait surfaces as a retryable Locked error', async (t) => {
  const { pve, provider } = await setup(t, { lockWaitSeconds: 0.3 })
  const ref = { ownerUid: 'a1b2c3d4-0000-4000-8000-000000000004' }
  const ct = await provider.ensure(spec(ref.ownerUid))
  pve.lockCt(ct.vmid, 'backup', 5000)
  const err = await provider.start(ref).catch((e: unknown) => e)
  t.ok(isProviderError(err, 'Locked'), String(err))
  t.equal((err as { retryable: boolean }).retryable, true)
  t.match((err as Error).message, /CT is locked \(backup\)/)
  delete pve.cluster.cts.get(ct.vmid)!.lock
})

t.test('a failing create task surfaces with its log and leaves no CT', async (t) => {
  const { pve, provider } = await setup(t)
  pve.failNextCreate("storage 'local-lvm' does not exist", ['TASK ERROR preparing volume', "can't activate storage"])
  const err = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000005')).catch((e: unknown) => e)
  t.ok(isProviderError(err, 'TaskFailed'), String(err))
  t.match((err as Error).message, /unable to create CT 100 - storage 'local-lvm' does not exist/)
  const log = (err as { details: { log: string[] } }).details.log
  t.ok(log.includes("can't activate storage"), 'the task log is in the error')
  t.ok(log.some((l) => l.startsWith('TASK ERROR: unable to create CT 100')))
  t.equal(pve.cluster.cts.size, 0)
  // The next attempt (a later reconcile) succeeds.
  t.equal((await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000005'))).vmid, 100)
})

t.test('a bad token is a 401 ProviderAuthFailed that never shows the token', async (t) => {
  const { pve } = await setup(t)
  const wrong = 'zlh@pve!controller=00000000-wrong-secret-0000'
  const provider = new ProxmoxBackend({
    endpoint: pve.url,
    apiToken: wrong,
    caPem: pve.tls.caPem,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
  })
  t.teardown(() => provider.close())
  const err = await provider.list().catch((e: unknown) => e)
  t.ok(isProviderError(err, 'ProviderAuthFailed'), String(err))
  t.equal((err as { retryable: boolean }).retryable, false)
  t.match((err as Error).message, /HTTP 401 authentication failure.*credentialsSecretRef/)
  t.notMatch(JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details }), /wrong-secret/)
})

t.test('an unreachable endpoint is a clear, retryable ProviderUnreachable after bounded retries', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
  const provider = new ProxmoxBackend({
    endpoint: `https://127.0.0.1:${port}`,
    apiToken: TOKEN,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
    retryDelayMs: 10,
    connectAttempts: 3,
  })
  t.teardown(() => provider.close())
  const err = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000006')).catch((e: unknown) => e)
  t.ok(isProviderError(err, 'ProviderUnreachable'), String(err))
  t.equal((err as { retryable: boolean }).retryable, true)
  t.equal((err as { details: { attempts: number } }).details.attempts, 3)
  t.match((err as Error).message, new RegExp(`cannot reach Proxmox VE at https://127.0.0.1:${port} \\(ECONNREFUSED\\).*will retry`))
})

t.test('an endpoint that accepts but never answers: reads are retried, then ProviderUnreachable', async (t) => {
  const sockets: net.Socket[] = []
  const silent = net.createServer((s) => {
    sockets.push(s)
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })
  const port = (silent.address() as net.AddressInfo).port
  const provider = new ProxmoxBackend({
    endpoint: `https://127.0.0.1:${port}`,
    apiToken: TOKEN,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
    retryDelayMs: 10,
    connectAttempts: 2,
    requestTimeoutMs: 200,
  })
  t.teardown(() => provider.close())
  const err = await provider.list().catch((e: unknown) => e)
  t.ok(isProviderError(err, 'ProviderUnreachable'), String(err))
  t.equal((err as { details: { attempts: number } }).details.attempts, 2)
  t.equal(sockets.length, 2, 'each attempt opened a connection')
})

t.test('TLS: fingerprint pin accepted, wrong pin and unknown CA refused before the token is sent', async (t) => {
  const { pve } = await setup(t)
  const base = {
    endpoint: pve.url,
    apiToken: TOKEN,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
  }
  const pinned = new ProxmoxBackend({ ...base, fingerprint: pve.tls.fingerprint })
  t.same(await pinned.list(), [])
  await pinned.close()
  const before = pve.requests.length
  const wrongPin = new ProxmoxBackend({
    ...base,
    fingerprint: pve.tls.fingerprint.replace(/^../, pve.tls.fingerprint.startsWith('00') ? '11' : '00'),
  })
  const err = await wrongPin.list().catch((e: unknown) => e)
  await wrongPin.close()
  t.ok(isProviderError(err, 'ProviderTlsFailed'), String(err))
  const noPin = new ProxmoxBackend(base)
  const err2 = await noPin.list().catch((e: unknown) => e)
  await noPin.close()
  t.ok(isProviderError(err2, 'ProviderTlsFailed'), String(err2))
  t.equal(pve.requests.length, before, 'no request reached the server over an unverified connection')
})

t.test('operations check the owner tag: a foreign vmid is a Conflict and is left alone', async (t) => {
  const { pve, provider } = await setup(t)
  const mine = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000007'))
  const err = await provider.delete({ ownerUid: 'ffffffff-0000-4000-8000-000000000000', vmid: mine.vmid }).catch((e: unknown) => e)
  t.ok(isProviderError(err, 'Conflict'), String(err))
  t.ok(pve.cluster.cts.has(mine.vmid))
  // A CT without our tags is not listed and cannot be addressed.
  pve.raceNextId(1)
  await provider.ensure(spec('a1b2c3d4-0000-4000-8000-000000000008'))
  t.same((await provider.list()).map((c) => c.ownerUid).sort(), [
    'a1b2c3d4-0000-4000-8000-000000000007',
    'a1b2c3d4-0000-4000-8000-000000000008',
  ])
})

t.test('start, stop and delete are idempotent; missing CT is NotFound for start', async (t) => {
  const { pve, provider } = await setup(t)
  const ref = { ownerUid: 'a1b2c3d4-0000-4000-8000-000000000009' }
  await provider.ensure(spec(ref.ownerUid))
  t.equal((await provider.start(ref)).state, 'running')
  t.equal((await provider.start(ref)).address, '127.0.0.100')
  t.equal((await provider.stop(ref, { timeoutSeconds: 5 })).state, 'stopped')
  t.equal((await provider.stop(ref)).state, 'stopped')
  await provider.start(ref)
  await provider.delete(ref)
  await provider.delete(ref)
  t.equal(pve.cluster.cts.size, 0)
  t.equal(await provider.observe(ref), undefined)
  const err = await provider.start(ref).catch((e: unknown) => e)
  t.ok(isProviderError(err, 'NotFound'), String(err))
})

t.test('ensure resizes an existing CT (cores, memory, growing the disk) and adopts a CT whose create a crash interrupted', async (t) => {
  const { pve, provider } = await setup(t)
  const s = spec('a1b2c3d4-0000-4000-8000-00000000000b')
  await provider.ensure(s)
  const bigger = { ...s, resources: { cores: 4, memoryMiB: 2048, diskGiB: 16 } }
  const resized = await provider.ensure(bigger)
  t.same(resized.resources, bigger.resources)
  t.equal(pve.cluster.cts.get(100)!.config.rootfs, 'local-lvm:vm-100-disk-0,size=16G')
  const smaller = await provider.ensure({ ...s, resources: { cores: 4, memoryMiB: 2048, diskGiB: 8 } })
  t.equal(smaller.resources.diskGiB, 16, 'a root disk is never shrunk')

  // A controller crashed right after POSTing a create: the CT exists, tagged, still locked.
  const crashed = spec('a1b2c3d4-0000-4000-8000-00000000000c')
  await provider.client.post('/nodes/pve/lxc', {
    vmid: 200,
    ostemplate: 'local:vztmpl/x.tar.zst',
    tags: 'zlh;zlh-owner-a1b2c3d4-0000-4000-8000-00000000000c',
    unprivileged: 1,
    rootfs: 'local-lvm:8',
    cores: 2,
    memory: 1024,
  })
  const fresh = new ProxmoxBackend({
    endpoint: pve.url,
    apiToken: TOKEN,
    caPem: pve.tls.caPem,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
  })
  t.teardown(() => fresh.close())
  const early = await fresh.start({ ownerUid: crashed.identity.ownerUid }).catch((e: unknown) => e)
  t.match(String(early), /has no firewall yet/, 'a CT without its firewall is not started')
  const adopted = await fresh.ensure(crashed)
  t.equal(adopted.vmid, 200, 'the half-created CT is adopted, not duplicated')
  t.equal((await fresh.start({ ownerUid: crashed.identity.ownerUid })).state, 'running', 'start waits out the create lock')
  t.same((await fresh.ensure(crashed)).identity, crashed.identity, 'the next ensure completes its description')
  t.equal(pve.requests.filter((r) => r.method === 'POST' && r.path === '/api2/json/nodes/pve/lxc').length, 2)
})

t.test('enrollment: the token is handed to an enrolling agent once; a different token is a Conflict', async (t) => {
  // STAND-IN for the agent's proposed --enroll mode (docs/agent-token-delivery.md): accepts one
  // POST /enroll while it has no token, 409 afterwards; /status needs the enrolled token.
  let enrolled: string | undefined
  const enrollments: string[] = []
  const standIn = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c
    })
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/enroll') {
        enrollments.push(body)
        if (enrolled) return res.writeHead(409).end()
        enrolled = (JSON.parse(body) as { token: string }).token
        return res.writeHead(204).end()
      }
      const ok = enrolled !== undefined && req.headers.authorization === `Bearer ${enrolled}`
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"provisioningComplete":true}' : '{}')
    })
  })
  let agentPort = 0
  const { pve, provider } = await setup(
    t,
    {},
    {
      onCtStart: (ct) =>
        new Promise<void>((resolve) =>
          standIn.listen(0, ct.address, () => {
            agentPort = (standIn.address() as net.AddressInfo).port
            resolve()
          }),
        ),
    },
  )
  t.teardown(() => new Promise<void>((resolve) => standIn.close(() => resolve())))
  const s = spec('a1b2c3d4-0000-4000-8000-00000000000d')
  await provider.ensure(s)
  await provider.start({ ownerUid: s.identity.ownerUid })
  // The stand-in listens on a random port on the CT's address; a provider configured with it.
  const p2 = new ProxmoxBackend({
    endpoint: pve.url,
    apiToken: TOKEN,
    caPem: pve.tls.caPem,
    nodes: ['pve'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
    agentPort,
  })
  t.teardown(() => p2.close())
  await p2.deliverCredentials({ ownerUid: s.identity.ownerUid }, s.agent)
  t.equal(enrolled, s.agent.token, 'the agent got the container token')
  await p2.deliverCredentials({ ownerUid: s.identity.ownerUid }, s.agent)
  t.equal(enrollments.length, 2, 'repeated delivery asked again and accepted the 409 because the token works')
  const err = await p2
    .deliverCredentials({ ownerUid: s.identity.ownerUid }, { token: 'another-token-0123456789abcdef' })
    .catch((e: unknown) => e)
  t.ok(isProviderError(err, 'Conflict'), String(err))
  t.notMatch((err as Error).message, /another-token|agent-token-0123/, 'no token in the message')
})

t.test('CTs are spread over the configured nodes', async (t) => {
  const pve = await startProxmoxDouble({ apiToken: TOKEN, taskMs: 20, nodes: ['pve1', 'pve2'] })
  const provider = new ProxmoxBackend({
    endpoint: pve.url,
    apiToken: TOKEN,
    caPem: pve.tls.caPem,
    nodes: ['pve1', 'pve2'],
    ostemplate: 'local:vztmpl/x.tar.zst',
    controlPlaneSources: ['10.0.0.5'],
  })
  t.teardown(async () => {
    await provider.close()
    await pve.close()
  })
  const a = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-00000000000e'))
  const b = await provider.ensure(spec('a1b2c3d4-0000-4000-8000-00000000000f'))
  t.same([a.node, b.node], ['pve1', 'pve2'])
  await provider.start({ ownerUid: b.ownerUid })
  t.equal((await provider.observe({ ownerUid: b.ownerUid }))!.state, 'running', "operations go to the CT's own node")
  await provider.delete({ ownerUid: a.ownerUid })
  await provider.delete({ ownerUid: b.ownerUid })
  t.equal(pve.cluster.cts.size, 0)
})
