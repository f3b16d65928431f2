// The shared conformance suite against the lxc provider: real busybox containers, the real agent
// started by the container's init, reached over the provider's bridge. Needs root and lxc.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LxcBackend, listLxcNames } from '../../../src/providers/lxc/index.ts'
import { runConformance } from '../conformance.ts'

if (process.getuid?.() !== 0 || !existsSync('/usr/bin/lxc-create')) {
  t.plan(0, 'needs root and the lxc package (apt-get install -y lxc busybox-static)')
} else {
  const lxcpath = mkdtempSync(join(tmpdir(), 'zlh-lxc-conformance-'))
  const bridge = 'zlhtst2'
  t.teardown(async () => {
    for (const name of await listLxcNames(lxcpath)) execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'])
    execFileSync('ip', ['link', 'del', 'dev', bridge], { stdio: 'ignore' })
    rmSync(lxcpath, { recursive: true, force: true })
  })
  runConformance(t, {
    make: () => new LxcBackend({ lxcpath, bridge, subnet: '10.213.92.0/24', projectDir: resolve(import.meta.dirname, '../../..') }),
    tokenRotation: 'restarts-agent',
    agentTimeoutSeconds: 90,
  })
  t.test('afterwards lxc-ls shows no test container', async (t) => {
    t.same(await listLxcNames(lxcpath), [])
  })
}
