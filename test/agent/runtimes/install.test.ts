// Runtime installs through the agent API against a real loopback artifact server:
// install/verify/upgrade/rollback/remove, refusals that leave nothing behind, coalescing.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { startTestAgent } from '../helpers.ts'
import type { TestAgent } from '../helpers.ts'
import { runtimeTarball, sha256, startArtifactServer, tarball } from '../artifacts.ts'
import type { ArtifactServer } from '../artifacts.ts'
import type { StartAgentOptions } from '../../../agent/index.ts'

async function setup(
  t: Test,
  opts: Partial<StartAgentOptions> = {},
  serverOpts = {},
): Promise<{ agent: TestAgent; server: ArtifactServer; root: string }> {
  const root = t.testdir()
  const server = await startArtifactServer(serverOpts)
  const agent = await startTestAgent(root, opts)
  t.teardown(async () => {
    await agent.close()
    await server.close()
  })
  return { agent, server, root }
}

const verify = (name: string, version: string) => ({ command: [name], expectOutput: `${name} ${version}` })

/** Everything an install may have left behind: staging entries and temp links. */
function leftovers(root: string): string[] {
  const staging = path.join(root, 'opt/zlh/.staging')
  const out = fs.existsSync(staging) ? fs.readdirSync(staging).map((e) => `staging/${e}`) : []
  const runtimes = path.join(root, 'opt/zlh/runtimes')
  for (const name of fs.existsSync(runtimes) ? fs.readdirSync(runtimes) : []) {
    for (const e of fs.readdirSync(path.join(runtimes, name))) if (e.startsWith('.')) out.push(`${name}/${e}`)
  }
  return out
}

async function install(agent: TestAgent, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  // The test declares its own artifact server as the allowed source (what the controller sends from the ContainerProvider).
  const outbound = { allowedSources: [`${new URL(body.url as string).origin}/`] }
  const res = await agent.request('/runtimes', { method: 'POST', json: { outbound, ...body } })
  return { status: res.status, body: await res.json() }
}

t.test('install, verify, upgrade, rollback, remove', async (t) => {
  const { agent, server, root } = await setup(t)
  const v1 = runtimeTarball('tool', '1.0')
  const v2 = runtimeTarball('tool', '2.0')
  server.add('tool-1.0.tgz', v1)
  server.add('tool-2.0.tgz', v2)
  const req1 = { name: 'tool', version: '1.0', url: server.url('tool-1.0.tgz'), sha256: sha256(v1), verify: verify('tool', '1.0') }

  const first = await install(agent, req1)
  t.equal(first.status, 200, JSON.stringify(first.body))
  t.match(first.body, { name: 'tool', version: '1.0', downloaded: true, current: '1.0', previous: null })
  const current = path.join(root, 'opt/zlh/runtimes/tool/current')
  t.equal(fs.readlinkSync(current), '1.0', 'current is a relative link to the version')
  t.equal(fs.readFileSync(path.join(current, 'README'), 'utf8'), 'tool 1.0\n', 'the archive top directory is flattened')
  t.match(
    fs.readFileSync(path.join(root, 'etc/profile.d/zlh-dev-env.sh'), 'utf8'),
    `${root}/opt/zlh/runtimes/tool/current/bin:`,
    'dev PATH updated on install',
  )

  const again = await install(agent, req1)
  t.match(again.body, { downloaded: false, current: '1.0' }, 'installed and verified → no-op')
  t.equal(server.count('tool-1.0.tgz'), 1, 'no second download')

  const up = await install(agent, {
    name: 'tool',
    version: '2.0',
    url: server.url('tool-2.0.tgz'),
    sha256: sha256(v2),
    verify: verify('tool', '2.0'),
  })
  t.match(up.body, { downloaded: true, current: '2.0', previous: '1.0' }, 'upgrade installs beside and switches')
  const list = (await (await agent.request('/runtimes')).json()) as any
  t.same(
    list.runtimes.map((r: any) => [r.name, r.current, r.versions.map((v: any) => v.version)]),
    [['tool', '2.0', ['2.0', '1.0']]],
  )

  const back = await agent.request('/runtimes/tool/current', { method: 'PUT', json: { version: '1.0' } })
  t.match(await back.json(), { current: '1.0', previous: '2.0' }, 'rollback switches back')
  t.equal(fs.readlinkSync(current), '1.0')

  const inUse = await agent.request('/runtimes/tool/1.0', { method: 'DELETE' })
  t.equal(inUse.status, 409)
  t.equal(((await inUse.json()) as any).code, 'RUNTIME_IN_USE')
  const rm2 = await agent.request('/runtimes/tool/2.0', { method: 'DELETE' })
  t.match(await rm2.json(), { version: '2.0', current: '1.0' })
  t.notOk(fs.existsSync(path.join(root, 'opt/zlh/runtimes/tool/2.0')))
  const missing = await agent.request('/runtimes/tool/2.0', { method: 'DELETE' })
  t.equal(((await missing.json()) as any).code, 'RUNTIME_NOT_FOUND')
  const forced = await agent.request('/runtimes/tool/1.0?force=true', { method: 'DELETE' })
  t.match(await forced.json(), { version: '1.0', current: null })
  t.notOk(fs.existsSync(path.join(root, 'opt/zlh/runtimes/tool')), 'nothing of tool is left')
  t.notMatch(fs.readFileSync(path.join(root, 'etc/profile.d/zlh-dev-env.sh'), 'utf8'), 'runtimes/tool', 'dev PATH updated on removal')
  t.same(leftovers(root), [])
})

t.test('refusals leave nothing behind', async (t) => {
  const { agent, server, root } = await setup(t, { runtimes: { stallTimeoutMs: 400, downloadAttempts: 2 } })
  const good = runtimeTarball('tool', '1.0')
  const outside = path.join(path.dirname(root), `${path.basename(root)}-escaped`)
  t.teardown(() => fs.rmSync(outside, { recursive: true, force: true }))
  const cases: { label: string; body: Buffer; code: string; behaviour?: any; sha?: string; extra?: any; message?: RegExp }[] = [
    { label: 'wrong sha256', body: good, code: 'ARTIFACT_SHA256_MISMATCH', sha: 'a'.repeat(64) },
    { label: 'truncated download', body: good, code: 'ARTIFACT_TRUNCATED', behaviour: { kind: 'truncate', bytes: 100 } },
    { label: 'stalling server', body: good, code: 'ARTIFACT_STALLED', behaviour: { kind: 'stall', bytes: 100 } },
    { label: 'server error', body: good, code: 'ARTIFACT_HTTP_ERROR', behaviour: { kind: 'status', status: 404 } },
    {
      label: 'verify fails',
      body: good,
      code: 'VERIFY_FAILED',
      extra: { verify: { command: ['tool'], expectOutput: 'tool 9.9' } },
      message: /did not print "tool 9.9"/,
    },
    { label: 'verify command missing', body: good, code: 'VERIFY_FAILED', extra: { verify: { command: ['no-such-binary'] } } },
    {
      label: 'tar with ../x',
      body: tarball([
        { path: 'ok/', type: 'dir' },
        { path: `../${path.basename(outside)}/x`, content: 'pwned' },
      ]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
      message: /contains "\.\."/,
    },
    {
      label: 'tar with an absolute path',
      body: tarball([{ path: `${outside}/abs`, content: 'pwned' }]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
      message: /absolute/,
    },
    {
      label: 'symlink escaping the root',
      body: tarball([
        { path: 'bin/', type: 'dir' },
        { path: 'bin/esc', type: 'symlink', linkpath: '../../../../../../../../../etc' },
        { path: 'bin/esc/passwd-copy', content: 'x' },
      ]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
      message: /outside the archive/,
    },
    {
      label: 'absolute symlink',
      body: tarball([{ path: 'link', type: 'symlink', linkpath: outside }]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
      message: /absolute/,
    },
    {
      label: 'hard link outside',
      body: tarball([{ path: 'h', type: 'link', linkpath: '../../etc/passwd' }]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
    },
    {
      label: 'character device',
      body: tarball([{ path: 'null', type: 'char' }]),
      code: 'ARCHIVE_UNSAFE_ENTRY',
      message: /CharacterDevice/,
    },
    { label: 'fifo', body: tarball([{ path: 'pipe', type: 'fifo' }]), code: 'ARCHIVE_UNSAFE_ENTRY', message: /FIFO/ },
    { label: 'not a tar', body: Buffer.from('this is not an archive at all'.repeat(40)), code: 'ARCHIVE_INVALID' },
  ]
  for (const [i, c] of cases.entries()) {
    const file = `case-${i}.tgz`
    server.add(file, c.body, c.behaviour)
    const res = await install(agent, {
      name: 'tool',
      version: `1.0-${i}`,
      url: server.url(file),
      sha256: c.sha ?? sha256(c.body),
      ...c.extra,
    })
    t.equal(res.body.code, c.code, `${c.label}: ${res.body.message}`)
    t.ok(res.status >= 400, `${c.label}: error status ${res.status}`)
    if (c.message) t.match(res.body.message, c.message, `${c.label}: clear message`)
    t.same(leftovers(root), [], `${c.label}: nothing left in staging`)
    t.notOk(fs.existsSync(path.join(root, `opt/zlh/runtimes/tool/1.0-${i}`)), `${c.label}: not installed`)
  }
  t.notOk(fs.existsSync(outside), 'nothing was written outside the root')
  t.equal(server.count('case-1.tgz'), 2, 'a truncated download is retried once (downloadAttempts: 2)')
  const list = (await (await agent.request('/runtimes')).json()) as any
  t.same(list, { runtimes: [], installing: [] })
})

t.test('a truncated download is cleanly retried', async (t) => {
  const { agent, server, root } = await setup(t)
  const body = runtimeTarball('tool', '1.0')
  server.add('flaky.tgz', body, { kind: 'truncate', bytes: 200, times: 1 })
  const res = await install(agent, { name: 'tool', version: '1.0', url: server.url('flaky.tgz'), sha256: sha256(body) })
  t.equal(res.status, 200, JSON.stringify(res.body))
  t.equal(server.count('flaky.tgz'), 2)
  t.equal(fs.readFileSync(path.join(root, 'opt/zlh/runtimes/tool/current/README'), 'utf8'), 'tool 1.0\n')
})

t.test('20 concurrent identical installs share one download', async (t) => {
  const { agent, server } = await setup(t, {}, { delayMs: 100 })
  const body = runtimeTarball('tool', '1.0')
  server.add('tool.tgz', body)
  const req = { name: 'tool', version: '1.0', url: server.url('tool.tgz'), sha256: sha256(body), verify: verify('tool', '1.0') }
  const results = await Promise.all(Array.from({ length: 20 }, () => install(agent, req)))
  t.same(
    results.map((r) => r.status),
    Array(20).fill(200),
  )
  t.equal(server.count('tool.tgz'), 1, 'exactly one download')
  t.ok(results.every((r) => r.body.current === '1.0'))
  const conflicting = install(agent, { ...req, version: '2.0' })
  const conflict = install(agent, { ...req, version: '2.0', sha256: 'b'.repeat(64) })
  t.equal((await conflict).body.code, 'INSTALL_CONFLICT', 'same version, different sha256 while in flight')
  t.equal((await conflicting).status, 200)
})

t.test('limits: artifact size and disk space are checked before writing', async (t) => {
  const { agent, server } = await setup(t, { runtimes: { maxArtifactBytes: 100 } })
  const body = runtimeTarball('tool', '1.0')
  server.add('big.tgz', body)
  const big = await install(agent, { name: 'tool', version: '1.0', url: server.url('big.tgz'), sha256: sha256(body) })
  t.equal(big.body.code, 'ARTIFACT_TOO_LARGE')
  const huge = await install(agent, { name: 'tool', version: '1.0', url: server.url('big.tgz'), sha256: sha256(body), sizeBytes: 2 ** 52 })
  t.equal(huge.body.code, 'INSUFFICIENT_DISK')
  t.equal(huge.status, 507)
  t.equal(server.count('big.tgz'), 1, 'the disk check refused before downloading')
})

t.test('shutdown during an install rolls it back', async (t) => {
  let stalled!: () => void
  const reached = new Promise<void>((r) => {
    stalled = r
  })
  const { agent, server, root } = await setup(t, { installGraceMs: 100 })
  const body = runtimeTarball('tool', '1.0')
  server.add('slow.tgz', body, { kind: 'stall', bytes: 512, onStall: () => stalled() })
  const pending = install(agent, { name: 'tool', version: '1.0', url: server.url('slow.tgz'), sha256: sha256(body) }).catch(
    (err: Error) => ({ status: 0, body: { code: err.message } }),
  )
  await reached
  const during = (await (await agent.request('/runtimes')).json()) as any
  t.match(
    during.installing,
    [{ name: 'tool', version: '1.0', phase: 'downloading', totalBytes: body.length }],
    'progress is visible while downloading',
  )
  t.match((agent.ctx.hub.get('runtimes') as any).installing, [{ name: 'tool' }], 'and published to the state stream')
  await agent.close()
  const res = await pending
  t.ok(res.status === 503 || res.status === 0, `the request ended (${res.status} ${res.body.code})`)
  t.same(leftovers(root), [], 'staging cleaned')
  t.notOk(fs.existsSync(path.join(root, 'opt/zlh/runtimes/tool/1.0')))
})

t.test('an archive whose only top directory is bin/ is installed as is (not flattened)', async (t) => {
  const { agent, server, root } = await setup(t)
  const body = tarball([
    { path: 'bin/', type: 'dir' },
    { path: 'bin/tool', mode: 0o755, content: '#!/bin/sh\necho "tool 1.0"\n' },
  ])
  server.add('bin-only.tgz', body)
  const res = await install(agent, {
    name: 'tool',
    version: '1.0',
    url: server.url('bin-only.tgz'),
    sha256: sha256(body),
    verify: verify('tool', '1.0'),
  })
  t.equal(res.status, 200, JSON.stringify(res.body))
  t.ok(fs.existsSync(path.join(root, 'opt/zlh/runtimes/tool/current/bin/tool')))
})
