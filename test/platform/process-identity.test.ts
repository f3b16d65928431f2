// Process identity from /proc (src/platform/process-identity.ts): the stat line parsed from its
// last ')' (proc(5), /proc/pid/stat: "comm … can contain spaces and parentheses"), identity as
// pid + start time, zombies treated as gone.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  hasExited,
  isSameProcess,
  parseProcStat,
  processStartTime,
  readProcessStat,
  readProcessStatAsync,
} from '../../src/platform/process-identity.ts'

/** A stat line as the kernel writes it: pid, (comm), state, ppid, pgid, … field 22 = start. */
function statLine(pid: number, comm: string, state: string, start: string): string {
  const fields = [state, '1', '77', '77', '0', '-1', '4194560', ...Array(12).fill('0'), start, '1000', '100']
  return `${pid} (${comm}) ${fields.join(' ')}\n`
}

t.test('parseProcStat reads the fields after the last ")"', async (t) => {
  t.same(parseProcStat(statLine(42, 'node', 'S', '123456')), { pid: 42, comm: 'node', state: 'S', ppid: 1, pgid: 77, startTime: '123456' })
  for (const comm of ['a b', 'x) Z 1 2 (y', ') R 9 9', '((', 'tail)', 'a\nb', '9 (9) 9']) {
    const s = parseProcStat(statLine(7, comm, 'S', '99'))
    t.same(s, { pid: 7, comm, state: 'S', ppid: 1, pgid: 77, startTime: '99' }, `comm ${JSON.stringify(comm)}`)
  }
  t.equal(
    parseProcStat(statLine(7, 'x', 'S', '18446744073709551615'))?.startTime,
    '18446744073709551615',
    "start time kept as the kernel's text, no precision lost",
  )
})

t.test('parseProcStat refuses what is not a stat line', async (t) => {
  for (const text of [
    '',
    'garbage',
    '12 (x)',
    '12 (x) S 1 2',
    'x (y) S 1 1 1',
    statLine(3, 'x', 'S', 'abc'),
    statLine(3, 'x', '?', '5'),
    '12 (x)S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5',
  ]) {
    t.equal(parseProcStat(text), null, JSON.stringify(text))
  }
})

t.test('a fake /proc tree: missing, zombie and live processes', async (t) => {
  const proc = mkdtempSync(join(tmpdir(), 'zlh-proc-'))
  t.teardown(() => rmSync(proc, { recursive: true, force: true }))
  const put = (pid: number, line: string) => {
    mkdirSync(join(proc, String(pid)))
    writeFileSync(join(proc, String(pid), 'stat'), line)
  }
  put(10, statLine(10, 'game) Z 1', 'S', '500'))
  put(11, statLine(11, 'dead', 'Z', '600'))
  t.equal(processStartTime(10, proc), '500')
  t.ok(isSameProcess(10, '500', proc))
  t.notOk(isSameProcess(10, '501', proc), 'another start time is another process')
  t.equal(readProcessStat(11, proc)?.state, 'Z', 'a zombie still has a stat record')
  t.ok(hasExited(readProcessStat(11, proc)!))
  t.equal(processStartTime(11, proc), null, 'but no start time: it runs nothing')
  t.equal(processStartTime(12, proc), null, 'no such process')
  t.equal(await readProcessStatAsync(12, proc), null)
  t.equal((await readProcessStatAsync(10, proc))?.comm, 'game) Z 1')
  for (const pid of [0, -1, 1.5, Number.NaN]) t.equal(readProcessStat(pid, proc), null, `pid ${pid}`)
})

t.test('a real process whose name is hostile keeps its identity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-comm-'))
  const children: ChildProcess[] = []
  t.teardown(() => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  // The kernel names a process after the file it executed (15 bytes at most).
  for (const name of ['x) Z 1 2 (y', ') X 0 0', 'a b (c) d']) {
    const exe = join(dir, name)
    symlinkSync('/bin/sleep', exe)
    const child = spawn(exe, ['30'], { stdio: 'ignore' })
    children.push(child)
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
    const stat = readProcessStat(child.pid!)
    t.equal(stat?.comm, name, `comm ${JSON.stringify(name)} read back whole`)
    t.not(stat?.state, 'Z', 'not mistaken for a zombie')
    t.equal(stat?.ppid, process.pid, 'its parent is us')
    const start = processStartTime(child.pid!)
    t.match(start, /^\d+$/)
    t.ok(isSameProcess(child.pid!, start!))
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    t.notOk(isSameProcess(child.pid!, start!), 'gone once it exited')
  }
  t.equal(processStartTime(process.pid), readProcessStat(process.pid)?.startTime, 'this process is alive')
})
