// Safe extraction: links that stay inside are kept; hostile entries are named in the refusal.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { safeExtractor, unsafeEntryReason } from '../../../agent/index.ts'
import { tarball } from '../artifacts.ts'

t.test('entry rules', async (t) => {
  const ok = [
    { path: 'a/b.txt' },
    { path: 'bin/node', type: 'SymbolicLink', linkpath: '../lib/node' },
    { path: 'lib/x', type: 'Link', linkpath: 'lib/y' },
    { path: 'dir/', type: 'Directory' },
    { path: 'a..b/c' },
  ]
  for (const e of ok) t.equal(unsafeEntryReason(e), null, JSON.stringify(e))
  const bad: [object, RegExp][] = [
    [{ path: '../x' }, /"\.\."/],
    [{ path: 'a/../../x' }, /"\.\."/],
    [{ path: '/etc/passwd' }, /absolute/],
    [{ path: 'C:/x' }, /absolute/],
    [{ path: 'a\0b' }, /NUL/],
    [{ path: 'l', type: 'SymbolicLink', linkpath: '/etc' }, /absolute/],
    [{ path: 'a/l', type: 'SymbolicLink', linkpath: '../../x' }, /outside/],
    [{ path: 'h', type: 'Link', linkpath: '../x' }, /outside/],
    [{ path: 'dev', type: 'BlockDevice' }, /BlockDevice/],
    [{ path: 'dev', type: 'CharacterDevice' }, /CharacterDevice/],
    [{ path: 'p', type: 'FIFO' }, /FIFO/],
  ]
  for (const [e, why] of bad) t.match(unsafeEntryReason(e as never), why, JSON.stringify(e))
})

t.test('extracts files, directories and inside links with their modes', async (t) => {
  const dir = t.testdir()
  await pipeline(
    Readable.from([
      tarball([
        { path: 'lib/', type: 'dir' },
        { path: 'lib/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
        { path: 'bin/', type: 'dir' },
        { path: 'bin/run', type: 'symlink', linkpath: '../lib/run.sh' },
        { path: 'lib/hard', type: 'link', linkpath: 'lib/run.sh' },
      ]),
    ]),
    safeExtractor({ dir, label: 'test' }),
  )
  t.equal(fs.readlinkSync(path.join(dir, 'bin/run')), '../lib/run.sh')
  t.equal(fs.statSync(path.join(dir, 'lib/run.sh')).mode & 0o777, 0o755)
  t.equal(fs.readFileSync(path.join(dir, 'lib/hard'), 'utf8'), '#!/bin/sh\necho hi\n')
})

t.test('a refusal names the entry', async (t) => {
  const dir = t.testdir()
  const err = await pipeline(
    Readable.from([
      tarball([
        { path: 'fine.txt', content: 'x' },
        { path: '../evil', content: 'y' },
      ]),
    ]),
    safeExtractor({ dir, label: 'demo 1.0' }),
  ).catch((e: unknown) => e)
  t.match(err, { code: 'ARCHIVE_UNSAFE_ENTRY', message: /demo 1\.0: entry "\.\.\/evil" is refused because its path contains "\.\."/ })
  t.notOk(fs.existsSync(path.join(dir, '..', 'evil')))
})
