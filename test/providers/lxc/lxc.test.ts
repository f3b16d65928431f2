// The lxc provider on real LXC containers (busybox template): cgroup limits seen from inside,
// the fixed address on the provider's bridge, isolation between containers, the token file's
// permissions, and cleanup — no test container is left in lxc-ls, even when a test fails.
// Needs root and the lxc + busybox-static packages (CI has both).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LxcBackend, listLxcNames } from '../../../src/providers/lxc/index.ts'
import type { ContainerSpec } from '../../../src/providers/types.ts'

const projectDir = resolve(import.meta.dirname, '../../..')
const lxcAvailable = process.getuid?.() === 0 && existsSync('/usr/bin/lxc-create')
if (!lxcAvailable) t.plan(0, 'needs root and the lxc package (apt-get install -y lxc busybox-static)')

function spec(ownerUid: string, cores: number, memoryMiB: number): ContainerSpec {
  return {
    identity: { ownerUid, kind: 'DevServer', namespace: 'default', name: `ds-${ownerUid.slice(-4)}` },
    resources: { cores, memoryMiB, diskGiB: 1 },
    agent: { token: `lxc-test-token-${ownerUid}` },
  }
}

const attach = (lxcpath: string, vmid: number, script: string) =>
  execFileSync('lxc-attach', ['-P', lxcpath, '-n', `zlh-${vmid}`, '--', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 30_000 })

if (lxcAvailable) {
  const lxcpath = mkdtempSync(join(tmpdir(), 'zlh-lxc-test-'))
  const bridge = 'zlhtst1'
  const provider = new LxcBackend({ lxcpath, bridge, subnet: '10.213.91.0/24', projectDir })
  t.teardown(async () => {
    for (const c of await provider.list()) await provider.delete({ ownerUid: c.ownerUid }).catch(() => undefined)
    for (const name of await listLxcNames(lxcpath)) execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'])
    execFileSync('ip', ['link', 'del', 'dev', bridge], { stdio: 'ignore' })
    rmSync(lxcpath, { recursive: true, force: true })
  })

  t.test('limits, address, token and isolation inside real containers', async (t) => {
    const a = spec('0a0a0a0a-0000-4000-8000-00000000aaaa', 1, 256)
    const b = spec('0b0b0b0b-0000-4000-8000-00000000bbbb', 2, 128)
    t.teardown(async () => {
      await provider.delete({ ownerUid: a.identity.ownerUid })
      await provider.delete({ ownerUid: b.identity.ownerUid })
    })
    const ca = await provider.ensure(a)
    const cb = await provider.ensure(b)
    t.same([ca.vmid, cb.vmid], [100, 101])
    t.equal(ca.address, '10.213.91.2')
    t.equal(cb.address, '10.213.91.3')
    t.same(await listLxcNames(lxcpath), ['zlh-100', 'zlh-101'])

    const tokenPath = join(lxcpath, 'zlh-100/rootfs/etc/zlh/agent-token')
    t.equal(statSync(tokenPath).mode & 0o777, 0o600, 'token file is 0600')
    t.equal(statSync(join(lxcpath, 'zlh-100/rootfs/etc/zlh')).mode & 0o777, 0o700)

    await provider.start({ ownerUid: a.identity.ownerUid })
    await provider.start({ ownerUid: b.identity.ownerUid })
    const limits = (vmid: number) =>
      attach(
        lxcpath,
        vmid,
        'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max; ' +
          'else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; fi',
      )
        .trim()
        .split(/\s+/)
    const la = limits(100)
    const lb = limits(101)
    t.equal(la[0], String(256 * 1024 * 1024), 'memory limit visible inside A')
    t.equal(lb[0], String(128 * 1024 * 1024), 'memory limit visible inside B')
    t.same(la.slice(1), ['100000', '100000'], '1 core = 100ms quota per 100ms period')
    t.same(lb.slice(1), ['200000', '100000'], '2 cores')

    t.match(attach(lxcpath, 100, 'ip -4 addr show eth0'), /inet 10\.213\.91\.2\/24/)
    t.match(
      attach(lxcpath, 100, 'ping -c1 -W2 10.213.91.1 >/dev/null && echo host-ok'),
      /host-ok/,
      'container reaches the host (control plane)',
    )
    t.match(
      attach(lxcpath, 100, 'ping -c1 -W2 10.213.91.3 >/dev/null && echo reached || echo isolated'),
      /isolated/,
      'container cannot reach its neighbour',
    )
    t.match(attach(lxcpath, 100, 'cat /etc/zlh/agent-token'), a.agent.token)
    t.match(
      attach(lxcpath, 100, 'ls /opt/zlh/project/package.json && (touch /opt/zlh/project/x 2>&1 || true)'),
      /Read-only file system/,
      'project is mounted read-only',
    )
    t.match(attach(lxcpath, 100, '/opt/zlh/node --version'), /^v24\./, 'Node 24 is provided inside')
    // The agent writes (and rotates) its own log; stdout/stderr go to a separate file.
    const agentLog = await waitFor(
      () => attach(lxcpath, 100, 'cat /var/log/zlh-agent.log 2>/dev/null || true'),
      (text) => text.includes('agent listening'),
      60_000,
    )
    t.match(agentLog, /"msg":"agent listening"/, 'the agent logs to /var/log/zlh-agent.log through --log-file')
    t.match(attach(lxcpath, 100, 'ls /var/log/zlh-agent.stderr.log'), /zlh-agent\.stderr\.log/)

    // Resized while running: the new limits apply at once.
    const resized = await provider.ensure({ ...a, resources: { cores: 2, memoryMiB: 320, diskGiB: 1 } })
    t.same(resized.resources, { cores: 2, memoryMiB: 320, diskGiB: 1 })
    const lr = limits(100)
    t.equal(lr[0], String(320 * 1024 * 1024), 'new memory limit visible inside without a restart')
    t.same(lr.slice(1), ['200000', '100000'], 'new cpu quota visible inside')

    // Graceful stop; repeated stop is a no-op.
    t.equal((await provider.stop({ ownerUid: a.identity.ownerUid }, { timeoutSeconds: 10 })).state, 'stopped')
    t.equal((await provider.stop({ ownerUid: a.identity.ownerUid })).state, 'stopped')
  })

  t.test('a crash mid-create (container dir without owner marker) is repaired by the next ensure', async (t) => {
    const c = spec('0c0c0c0c-0000-4000-8000-00000000cccc', 1, 64)
    t.teardown(() => provider.delete({ ownerUid: c.identity.ownerUid }))
    const first = await provider.ensure(c)
    rmSync(join(lxcpath, `zlh-${first.vmid}`, 'zlh-owner'))
    rmSync(join(lxcpath, `zlh-${first.vmid}`, 'rootfs', 'bin'), { recursive: true })
    t.equal(await provider.observe({ ownerUid: c.identity.ownerUid }), undefined, 'an unfinished container is not reported')
    const fresh = new LxcBackend({ lxcpath, bridge, subnet: '10.213.91.0/24', projectDir })
    const again = await fresh.ensure(c)
    t.equal(again.vmid, first.vmid)
    t.ok(existsSync(join(lxcpath, `zlh-${first.vmid}`, 'rootfs', 'bin', 'busybox')), 'recreated from the template')
  })

  t.test('a container whose claim was lost is still listed (orphan detection) and deletable', async (t) => {
    const d = spec('0d0d0d0d-0000-4000-8000-00000000dddd', 1, 64)
    const made = await provider.ensure(d)
    rmSync(join(lxcpath, '.zlh-claims', 'owners', `${d.identity.ownerUid}.json`))
    const listed = await provider.list()
    t.same(
      listed.map((c) => [c.vmid, c.ownerUid]),
      [[made.vmid, d.identity.ownerUid]],
    )
    await provider.delete({ ownerUid: d.identity.ownerUid, vmid: made.vmid })
    t.notOk((await listLxcNames(lxcpath)).includes(`zlh-${made.vmid}`), 'the orphan is destroyed by vmid + owner')
    t.notOk(existsSync(join(lxcpath, '.zlh-claims', 'vmids', String(made.vmid))), 'its vmid is free again')
  })

  t.test('deleting leaves nothing in lxc-ls', async (t) => {
    t.same(await listLxcNames(lxcpath), [])
    t.same(await provider.list(), [])
  })
}

/** Polls `read` until `done` accepts its value (or `timeoutMs` passes: then the last value is returned). */
async function waitFor(read: () => string, done: (value: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let value = read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500))
    value = read()
  }
  return value
}
