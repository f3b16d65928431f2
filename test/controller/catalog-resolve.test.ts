// Resolving {name, version | channel} against a RuntimeCatalog: never an unverified version.
import t from 'tap'
import { isVerified, resolveRuntime } from '../../controller/catalog-resolve.ts'
import type { RuntimeCatalog } from '../../controller/kinds.ts'

const sha = (c: string): string => c.repeat(64)
function catalog(verified: Record<string, string | false>, channels: Record<string, string> = { stable: '2' }): RuntimeCatalog {
  return {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'RuntimeCatalog',
    metadata: { name: 'node' },
    spec: {
      versions: ['1', '2', '3'].map((v) => ({
        version: v,
        artifacts: [{ arch: 'x64' as const, url: `http://a/${v}.tgz`, sha256: sha(v), sizeBytes: 10 }],
        verify: { command: ['bin/node', '--version'] },
      })),
      channels,
    },
    status: {
      versions: Object.entries(verified).map(([version, s]) => ({
        version,
        verified: s !== false,
        sha256: s === false ? sha(version) : s,
      })),
    },
  }
}

t.test('exact version: found and verified', async (t) => {
  const r = resolveRuntime({ name: 'node', version: '1' }, catalog({ 1: sha('1') }))
  t.ok(r.ok)
  if (r.ok)
    t.match(r.runtime, {
      name: 'node',
      version: '1',
      url: 'http://a/1.tgz',
      sha256: sha('1'),
      sizeBytes: 10,
      verify: { command: ['bin/node', '--version'] },
    })
})

t.test('unknown catalog, version, channel → reasons a user can act on', async (t) => {
  t.match(resolveRuntime({ name: 'node', version: '1' }, undefined), { ok: false, reason: 'CatalogNotFound' })
  t.match(resolveRuntime({ name: 'node', version: '9' }, catalog({})), {
    ok: false,
    reason: 'VersionNotFound',
    message: /versions: 1, 2, 3/,
  })
  t.match(resolveRuntime({ name: 'node', channel: 'beta' }, catalog({})), {
    ok: false,
    reason: 'ChannelNotFound',
    message: /channels: stable/,
  })
})

t.test('never an unverified version, nor one whose artifact changed since it was verified', async (t) => {
  t.match(resolveRuntime({ name: 'node', version: '1' }, catalog({})), { ok: false, reason: 'VersionNotVerified' })
  t.match(resolveRuntime({ name: 'node', version: '1' }, catalog({ 1: false })), { ok: false, reason: 'VersionNotVerified' })
  t.notOk(isVerified(catalog({ 1: sha('9') }), '1'), 'recorded sha256 differs from the spec')
})

t.test('channels: new servers get the channel version; existing ones hold until admitted', async (t) => {
  const c = catalog({ 1: sha('1'), 2: sha('2'), 3: sha('3') }, { stable: '3' })
  t.match(resolveRuntime({ name: 'node', channel: 'stable' }, c), { ok: true, runtime: { version: '3', channel: 'stable' } })
  t.match(resolveRuntime({ name: 'node', channel: 'stable' }, c, { installed: '2' }), { ok: true, runtime: { version: '2' } })
  t.match(resolveRuntime({ name: 'node', channel: 'stable' }, c, { installed: '2', admitted: '3' }), {
    ok: true,
    runtime: { version: '3' },
  })
})
