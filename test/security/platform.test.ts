// The platform leaf's promises under attack (src/platform): a process cannot fake or hide its
// identity through its name (proc(5): comm "can contain spaces and parentheses"), a planted link
// cannot redirect a durable write of a secret, and a runtime archive cannot write through a link
// it made itself.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { processStartTime, readProcessStat } from '../../src/platform/process-identity.ts'
import { writeFileDurable, writeFileDurableSync } from '../../src/platform/durable-file.ts'
import { withHostLock } from '../../src/providers/host-lock.ts'
import { runningAgentPid } from '../../src/providers/process/agent-process.ts'
import { safeExtractor } from '../../agent/runtimes/extract.ts'
import { tarball } from '../agent/artifacts.ts'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-platform-sec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A live process whose kernel name is `name` (the name of the file it executed). */
async function processNamed(t: Test, dir: string, name: string): Promise<ChildProcess> {
  const exe = join(dir, name)
  symlinkSync('/bin/sleep', exe)
  const child = spawn(exe, ['60'], { stdio: 'ignore' })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  return child
}

t.test('a lock holder named like a zombie ("x) Z 1 1") still holds the host lock', async (t) => {
  const dir = tempDir(t)
  const holder = await processNamed(t, dir, 'x) Z 1 1 (y')
  t.not(readProcessStat(holder.pid!)?.state, 'Z', 'its state is read after the last ")", not from its name')
  const lock = join(dir, 'host.lock')
  writeFileSync(lock, JSON.stringify({ pid: holder.pid, start: processStartTime(holder.pid!) }))
  let entered = false
  await t.rejects(
    withHostLock(
      lock,
      async () => {
        entered = true
      },
      300,
    ),
    { code: 'Locked' },
    'the live holder keeps it',
  )
  t.notOk(entered)
  writeFileSync(lock, JSON.stringify({ pid: holder.pid, start: '1' }))
  await withHostLock(
    lock,
    async () => {
      entered = true
    },
    300,
  )
  t.ok(entered, 'a pid whose start time differs is a recycled pid: the stale lock is taken over')
})

t.test('a lock file left empty by a holder killed while taking it is taken over once old; the lock file is never empty now', async (t) => {
  const dir = tempDir(t)
  const lock = join(dir, 'host.lock')
  writeFileSync(lock, '')
  let entered = false
  const enter = async () => {
    entered = true
  }
  await t.rejects(withHostLock(lock, enter, 300), { code: 'Locked' }, 'a fresh unreadable lock may be a holder still writing: respected')
  t.notOk(entered)
  const old = (Date.now() - 60_000) / 1000
  utimesSync(lock, old, old)
  await withHostLock(lock, enter, 300)
  t.ok(entered, 'an unreadable lock older than the grace period is stale: taken over')
  let inside: unknown
  await withHostLock(lock, async () => {
    inside = JSON.parse(readFileSync(lock, 'utf8'))
  })
  t.same(inside, { pid: process.pid, start: processStartTime(process.pid) }, 'the lock file holds its holder from the moment it exists')
  t.same(readdirSync(dir), [], 'neither the lock nor its temporary file is left')
})

t.test('an agent whose name reads like a zombie ("a) Z b") is still found running by its pid file', async (t) => {
  const dir = tempDir(t)
  const agent = await processNamed(t, dir, 'a) Z b')
  const files = { root: dir, tokenFile: join(dir, 'token'), pidFile: join(dir, 'agent.pid'), logFile: join(dir, 'agent.log') }
  writeFileSync(files.pidFile, JSON.stringify({ pid: agent.pid, startTime: processStartTime(agent.pid!) }))
  t.equal(await runningAgentPid(files), agent.pid, 'running: its state is not taken from its name')
  writeFileSync(files.pidFile, JSON.stringify({ pid: agent.pid, startTime: '1' }))
  t.equal(await runningAgentPid(files), undefined, 'another start time: a recycled pid, not our agent')
})

t.test('a durable write replaces a planted symlink, never writes through it', async (t) => {
  const dir = tempDir(t)
  const victim = join(dir, 'victim')
  writeFileSync(victim, 'untouched', { mode: 0o644 })
  const token = join(dir, 'token')
  symlinkSync(victim, token)
  await writeFileDurable(token, 'secret-token-value', 0o600)
  t.equal(readFileSync(victim, 'utf8'), 'untouched', 'the link target is unchanged')
  t.notOk(lstatSync(token).isSymbolicLink(), 'the link itself was replaced')
  t.equal(statSync(token).mode & 0o777, 0o600)
  symlinkSync(victim, join(dir, 'state.json'))
  writeFileDurableSync(join(dir, 'state.json'), '{}')
  t.equal(readFileSync(victim, 'utf8'), 'untouched', 'the sync variant too')
})

t.test('a durable write of a secret is never wider than asked, whatever the umask', async (t) => {
  const dir = tempDir(t)
  const old = process.umask(0)
  t.teardown(() => {
    process.umask(old)
  })
  await writeFileDurable(join(dir, 'key'), 'k', 0o600)
  t.equal(statSync(join(dir, 'key')).mode & 0o777, 0o600)
  t.same(readdirSync(dir), ['key'])
})

t.test('a runtime archive cannot write through a link it made (l -> ., l/m -> .., l/m/x)', async (t) => {
  const outer = tempDir(t)
  const root = join(outer, 'root')
  mkdirSync(root)
  const err = await pipeline(
    Readable.from([
      tarball([
        { path: 'l', type: 'symlink', linkpath: '.' },
        { path: 'l/m', type: 'symlink', linkpath: '..' },
        { path: 'l/m/escape', content: 'outside' },
      ]),
    ]),
    safeExtractor({ dir: root, label: 'hostile 1.0' }),
  ).catch((e: unknown) => e)
  t.match(err, { code: 'ARCHIVE_UNSAFE_ENTRY', message: /hostile 1\.0: .*symbolic link/ })
  t.same(readdirSync(outer), ['root'], 'nothing outside the root')
})
