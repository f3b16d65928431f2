import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { loadCrds } from '../../src/api/index.ts'
import { renderResourceDoc } from '../../src/api/docgen.ts'

t.test('each resource page lists every spec field with its default and constraints', async (t) => {
  const gs = loadCrds().find((c) => c.spec.names.kind === 'GameServer')!
  const md = renderResourceDoc(gs)
  t.match(md, /\| `spec\.supervision\.backoffSeconds` \| \[\]integer \| `\[30,60,120\]` \|/)
  t.match(md, /\| `spec\.mods\[\]\.sha256` \| string \| {2}\| \*\*required\*\*; pattern `\^\[a-f0-9\]\{64\}\$`/)
  t.match(md, /`spec\.runtime` .*exactly one of `version`, `channel`/)
  t.match(md, /columns: Phase, Runtime, Version, VMID, Address, Restarts/)
})

t.test('docs/resources is up to date with crds/', async (t) => {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'gen-docs.ts'), '--check'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
})
