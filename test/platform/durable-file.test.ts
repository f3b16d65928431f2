// Durable atomic writes (src/platform/durable-file.ts): old or new content, never a part, even
// when the writer is killed mid-write; the exact mode; nothing left behind on failure; create-only
// publishing with exactly one winner.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFileDurable, writeFileDurable, writeFileDurableSync } from '../../src/platform/durable-file.ts'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-durable-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const mode = (file: string) => statSync(file).mode & 0o777

t.test('replaces the content whole, with exactly the mode asked (umask or not)', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'state.json')
  const oldMask = process.umask(0o077)
  t.teardown(() => {
    process.umask(oldMask)
  })
  await writeFileDurable(file, 'one', 0o644)
  t.equal(readFileSync(file, 'utf8'), 'one')
  t.equal(mode(file), 0o644, 'the umask did not narrow it')
  writeFileDurableSync(file, Buffer.from('two'))
  t.equal(readFileSync(file, 'utf8'), 'two')
  t.equal(mode(file), 0o600, 'private by default')
  process.umask(0)
  await writeFileDurable(file, 'three')
  t.equal(mode(file), 0o600, 'an open umask does not widen it')
  t.same(readdirSync(dir), ['state.json'], 'no temp file left')
})

t.test('a failed write leaves the target untouched and no temp file', async (t) => {
  const dir = tempDir(t)
  const target = join(dir, 'taken')
  mkdirSync(target) // rename(2) of a file over a directory fails
  await t.rejects(writeFileDurable(target, 'x'))
  t.throws(() => writeFileDurableSync(target, 'x'))
  t.same(readdirSync(dir), ['taken'], 'no temp file left')
  await t.rejects(writeFileDurable(join(dir, 'missing', 'f'), 'x'), { code: 'ENOENT' })
})

t.test('createFileDurable: only when absent, exactly one of many concurrent creators wins', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'owner.json')
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => createFileDurable(file, `writer ${i}`)))
  const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
  t.equal(won.length, 1, 'one winner')
  t.ok(
    results.every((r) => r.status === 'fulfilled' || (r.reason as NodeJS.ErrnoException).code === 'EEXIST'),
    'the others see EEXIST',
  )
  t.equal(readFileSync(file, 'utf8'), `writer ${won[0]}`, "the winner's content, whole")
  t.equal(mode(file), 0o600)
  t.same(readdirSync(dir), ['owner.json'], 'no temp file left')
})

t.test('a writer killed mid-write leaves the old or the new content, never a part', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'big.json')
  writeFileSync(file, JSON.stringify({ n: -1, pad: 'x'.repeat(1 << 20) }))
  const module = new URL('../../src/platform/durable-file.ts', import.meta.url).href
  const script = `import { writeFileDurableSync } from ${JSON.stringify(module)}
    const pad = 'y'.repeat(1 << 20)
    for (let n = 0; ; n++) { writeFileDurableSync(${JSON.stringify(file)}, JSON.stringify({ n, pad })); if (n === 2) process.stdout.write('go\\n') }`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)))
  })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  const last = JSON.parse(readFileSync(file, 'utf8')) as { n: number; pad: string }
  t.ok(last.n >= 2, `a whole record (n=${last.n})`)
  t.equal(last.pad.length, 1 << 20)
  t.ok(
    readdirSync(dir).every((n) => n === 'big.json' || n.startsWith('.big.json.tmp-')),
    'at most a temp file beside it, never a torn target',
  )
})
