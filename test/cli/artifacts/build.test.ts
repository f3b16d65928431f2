// `zlh artifacts build` through the real CLI: node + flying-squid + an operator tree packed once,
// a re-run reuses them (re-hashed, not trusted by name), a damaged or changed artifact is packed
// again, a tree without bin/ is refused before anything is written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { extract } from 'tar'
import { pinnedNodeVersion, type IndexEntry } from '../../../src/cli/artifacts/index.ts'
import { operatorTree, sha256File, zlh } from './cli.ts'

const root = mkdtempSync(join(tmpdir(), 'zlh-artifacts-build-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
const out = join(root, 'out')
const jdk = operatorTree(root, 'java', '21.0.5')
symlinkSync('../bin/java', join(jdk, 'lib', 'java'))
const index = (): IndexEntry[] => (JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { artifacts: IndexEntry[] }).artifacts

t.test('build packs node, flying-squid and an operator tree, with an index of their real sha256s', async (t) => {
  const r = await zlh(['artifacts', 'build', '--out', out, '--pack', `java@21.0.5=${jdk}`])
  t.equal(r.code, 0, r.stderr)
  const entries = index()
  t.same(entries.map((e) => `${e.name}@${e.version}`).sort(), ['flying-squid@1.12.0', 'java@21.0.5', `node@${pinnedNodeVersion()}`].sort())
  for (const e of entries) {
    t.equal(e.sha256, sha256File(join(out, e.file)), `${e.file}: the index's sha256 is the file's`)
    t.equal(e.sizeBytes, statSync(join(out, e.file)).size)
  }
  const unpacked = join(root, 'unpacked')
  mkdirSync(unpacked)
  await extract({ file: join(out, 'java-21.0.5.tar.gz'), cwd: unpacked })
  t.equal(readFileSync(join(unpacked, 'bin', 'java'), 'utf8'), '#!/bin/sh\necho 21.0.5\n', "the tree's root (bin/) is the tarball's root")
  t.equal(statSync(join(unpacked, 'bin', 'java')).mode & 0o111, 0o111, 'executable bits kept')
  t.equal(readlinkSync(join(unpacked, 'lib', 'java')), '../bin/java', 'a link inside the tree is kept as a link')
  t.match(r.stdout, /packing node/)
})

t.test('a re-run reuses unchanged artifacts; a damaged file or a changed tree is packed again', async (t) => {
  const before = Object.fromEntries(index().map((e) => [e.file, statSync(join(out, e.file)).mtimeMs]))
  const again = await zlh(['artifacts', 'build', '--out', out, '--pack', `java@21.0.5=${jdk}`])
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /0 packed, 3 reused/)
  for (const [file, mtime] of Object.entries(before)) t.equal(statSync(join(out, file)).mtimeMs, mtime, `${file} untouched`)

  // Same name, same size, other bytes: a file is never trusted by its name.
  const squid = index().find((e) => e.name === 'flying-squid')!
  const javaBefore = index().find((e) => e.name === 'java')!.sha256
  const bytes = readFileSync(join(out, squid.file))
  bytes[bytes.length - 1] ^= 0xff
  writeFileSync(join(out, squid.file), bytes)
  const damaged = sha256File(join(out, squid.file))
  writeFileSync(join(jdk, 'lib', 'data'), 'java 21.0.5 patched\n')
  const third = await zlh(['artifacts', 'build', '--out', out, '--pack', `java@21.0.5=${jdk}`])
  t.equal(third.code, 0, third.stderr)
  t.match(third.stdout, /2 packed, 1 reused/)
  const now = index()
  t.not(now.find((e) => e.name === 'flying-squid')!.sha256, damaged, 'the damaged file was packed again, not indexed as it was')
  t.not(now.find((e) => e.name === 'java')!.sha256, javaBefore, 'the changed tree was packed again')
  for (const e of now) t.equal(e.sha256, sha256File(join(out, e.file)), `${e.file} hashes to its index entry`)
})

t.test('a tree without bin/ is refused with exit 2 and nothing is written', async (t) => {
  const empty = join(root, 'no-bin')
  mkdirSync(join(empty, 'lib'), { recursive: true })
  const fresh = join(root, 'refused-out')
  const r = await zlh(['artifacts', 'build', '--out', fresh, '--pack', `tool@1.0=${empty}`])
  t.equal(r.code, 2)
  t.match(r.stderr, /has no bin\/ directory at its root/)
  t.notOk(existsSync(fresh), 'the output directory was not even created')

  const before = readFileSync(join(out, 'index.json'), 'utf8')
  const mixed = await zlh(['artifacts', 'build', '--out', out, '--pack', `java@21.0.5=${jdk}`, '--pack', `tool@1.0=${empty}`])
  t.equal(mixed.code, 2, 'one bad tree refuses the whole run')
  t.equal(readFileSync(join(out, 'index.json'), 'utf8'), before, 'the index is unchanged')

  for (const [spec, message] of [
    ['java=/x', /NAME@VERSION=TREE/],
    [`Java@1=${jdk}`, /DNS-1123/],
    [`java@1/2=${jdk}`, /version/],
    [`java@1=${join(root, 'missing')}`, /does not exist/],
  ] as const) {
    const bad = await zlh(['artifacts', 'build', '--out', fresh, '--only', 'none', '--pack', spec])
    t.equal(bad.code, 2, spec)
    t.match(bad.stderr, message)
  }
  // Links the agent's extractor (agent/runtimes/extract.ts) would refuse are refused at build time.
  const linked = operatorTree(root, 'linked', '1.0')
  symlinkSync('/etc/passwd', join(linked, 'lib', 'passwd'))
  const absolute = await zlh(['artifacts', 'build', '--out', fresh, '--only', 'none', '--pack', `linked@1.0=${linked}`])
  t.equal(absolute.code, 2)
  t.match(absolute.stderr, /lib\/passwd links to the absolute path \/etc\/passwd/)
  rmSync(join(linked, 'lib', 'passwd'))
  symlinkSync('../../outside', join(linked, 'lib', 'up'))
  symlinkSync('../bin/linked', join(linked, 'lib', 'inside'))
  const escaping = await zlh(['artifacts', 'build', '--out', fresh, '--only', 'none', '--pack', `linked@1.0=${linked}`])
  t.equal(escaping.code, 2)
  t.match(escaping.stderr, /lib\/up links to \.\.\/\.\.\/outside, outside the tree/)

  const only = await zlh(['artifacts', 'build', '--out', fresh, '--only', 'nodejs'])
  t.equal(only.code, 2)
  t.match(only.stderr, /not a built-in runtime/)
  t.notOk(existsSync(fresh))
})
