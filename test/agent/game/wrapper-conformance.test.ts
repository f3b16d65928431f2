// The two game wrappers, one behaviour: wrapper.ts (run from the sources) and the native
// game-wrapper compiled from wrapper.c into the agent bundle (what agents in containers start).
// Every case drives a wrapper the way the agent does, through launcher.ts (launchRun, RunLink),
// and reads the files the agent reads (run.json, exit.json, the game log).
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import net from 'node:net'
import { agentLaunch } from '../../../src/providers/agent-launch.ts'
import { launchRun, RunLink, runFiles, type LaunchResult, type RunFiles } from '../../../agent/game/launcher.ts'
import { readJson, type ExitInfo, type LaunchConfig, type RunInfo } from '../../../agent/game/wrapper-protocol.ts'
import { processStartTime } from '../../../src/platform/process-identity.ts'
import { shortTempDir, until } from './helpers.ts'

const REPO = path.join(import.meta.dirname, '..', '..', '..')
const SOURCE_WRAPPER = path.join(REPO, 'agent', 'game', 'wrapper.ts')

const launch = await agentLaunch(REPO)
t.equal(
  path.basename(launch.wrapperScript),
  'game-wrapper',
  `the bundle has the native wrapper (${launch.nativeWrapperMissing ?? 'compiled'})`,
)
const wrappers: Array<[string, string]> = [
  ['wrapper.ts', SOURCE_WRAPPER],
  ['native', launch.wrapperScript],
]

type Game = Partial<Omit<LaunchConfig, 'socketPath' | 'runFile' | 'exitFile'>>
interface Run {
  files: RunFiles
  logFile: string
  result: LaunchResult
}

async function start(t: { teardown(fn: () => void): void }, wrapper: string, game: Game): Promise<Run> {
  const dir = shortTempDir(t)
  const files = runFiles(path.join(dir, 'run'))
  const logFile = path.join(dir, 'logs', 'game.log')
  const result = await launchRun(
    files,
    {
      runId: 'r1',
      command: '/bin/sh',
      args: ['-c', 'exit 0'],
      env: { PATH: '/usr/bin:/bin' },
      cwd: dir,
      logFile,
      logMaxBytes: 1 << 20,
      logKeep: 2,
      ...game,
    },
    15_000,
    wrapper,
  )
  t.teardown(() => {
    // Whatever a case left running is stopped: the game's group, then its wrapper.
    for (const pid of [result.run ? -result.run.gamePid : 0, result.run?.wrapperPid ?? 0]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  })
  return { files, logFile, result }
}

/** JSON in printable ASCII only: a raw U+2028 in an assertion's name would break the TAP line. */
const ascii = (value: unknown): string =>
  JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
const sh = (script: string): Game => ({ command: '/bin/sh', args: ['-c', script] })

async function exitOf(run: Run): Promise<ExitInfo> {
  await until(() => existsSync(run.files.exitFile), 10_000, 'exit.json')
  return readJson<ExitInfo>(run.files.exitFile)!
}

/** A RunLink's output until its 'exit', with the exit. */
function follow(run: Run): { text: () => string; ended: Promise<{ exit: ExitInfo; lost: boolean }>; link: RunLink } {
  const link = new RunLink(run.files, run.result.run!)
  let text = ''
  link.on('output', (d: Buffer) => {
    text += d.toString()
  })
  const ended = new Promise<{ exit: ExitInfo; lost: boolean }>((resolve) => link.once('exit', (exit, lost) => resolve({ exit, lost })))
  link.connect()
  return { text: () => text, ended, link }
}

for (const [name, wrapper] of wrappers) {
  t.test(`${name}: a game's output, console input, exit code and pid file`, async (t) => {
    const run = await start(t, wrapper, sh('echo hello; read line; echo "got $line"; echo oops >&2; exit 3'))
    const info = run.result.run!
    t.ok(info, 'the game runs')
    t.same(readJson<RunInfo>(run.files.runFile), info, 'run.json is what the ready line said')
    t.equal(info.wrapperStartTime, processStartTime(info.wrapperPid), 'the wrapper pid is named with its start time')
    t.equal(info.gameStartTime, processStartTime(info.gamePid) ?? info.gameStartTime, 'so is the game pid')
    t.equal(
      readFileSync(`/proc/${info.gamePid}/stat`, 'utf8').split(') ')[1]?.split(' ')[3],
      String(info.gamePid),
      'the game leads its own session',
    )
    const f = follow(run)
    await until(() => f.text().includes('hello'), 10_000, 'output printed before the link came is replayed')
    t.ok(f.link.write('world\n'))
    const { exit, lost } = await f.ended
    t.equal(lost, false)
    t.match(exit, { runId: 'r1', exitCode: 3, signal: null, spawnError: null })
    t.equal(f.text(), 'hello\ngot world\noops\n', 'stdout and stderr, in order, to the end')
    const log = readFileSync(run.logFile, 'utf8').split('\n')
    t.match(log[0], /^\[zlh\] run r1 started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \/bin\/sh -c echo hello/)
    t.same(log.slice(1), ['hello', 'got world', 'oops', ''])
    t.notOk(existsSync(run.files.socketPath), 'the console socket is removed')
    t.equal(statSync(run.files.exitFile).mode & 0o777, 0o600)
  })

  t.test(`${name}: exits by signal, and signals to the wrapper reach the game's group`, async (t) => {
    const killed = await start(t, wrapper, sh('sleep 30'))
    process.kill(-killed.result.run!.gamePid, 'SIGKILL')
    t.match(await exitOf(killed), { exitCode: null, signal: 'SIGKILL' })

    // The game traps TERM; its own child (same group) must get it too.
    const dir = shortTempDir(t)
    const marker = path.join(dir, 'child-got-term')
    const trapped = await start(
      t,
      wrapper,
      sh(
        `sh -c 'trap "touch ${marker}; exit 0" TERM; while :; do sleep 0.05; done' & trap 'wait; exit 7' TERM; while :; do sleep 0.05; done`,
      ),
    )
    await new Promise((r) => setTimeout(r, 200))
    process.kill(trapped.result.run!.wrapperPid, 'SIGTERM')
    t.match(await exitOf(trapped), { exitCode: 7, signal: null })
    t.ok(existsSync(marker), "the game's child got SIGTERM too")

    const hup = await start(t, wrapper, sh(`trap 'exit 9' TERM; while :; do sleep 0.05; done`))
    await new Promise((r) => setTimeout(r, 200))
    process.kill(hup.result.run!.wrapperPid, 'SIGHUP')
    t.match(await exitOf(hup), { exitCode: 9 }, 'SIGHUP to the wrapper is SIGTERM to the game')
  })

  t.test(`${name}: what cannot start is a spawn failure with its reason, in exit.json and the log`, async (t) => {
    const plain = path.join(shortTempDir(t), 'not-a-program')
    writeFileSync(plain, 'text\n', { mode: 0o644 })
    const cases: Array<[string, Game, RegExp]> = [
      ['no such command', { command: '/nonexistent/game' }, /^spawn \/nonexistent\/game ENOENT$/],
      ['not executable', { command: plain }, /^spawn \S+\/not-a-program EACCES$/],
      ['no such directory', { command: '/bin/true', cwd: '/nonexistent-dir' }, /^spawn \/bin\/true ENOENT/],
      ['a NUL byte in an argument', { command: '/bin/echo', args: ['a\u0000b'] }, /^spawn \/bin\/echo ERR_INVALID_ARG_VALUE/],
      ['a NUL byte in the environment', { command: '/bin/true', env: { A: 'b\u0000c' } }, /^spawn \/bin\/true ERR_INVALID_ARG_VALUE/],
      ['a NUL byte in the command', { command: '/bin/tr\u0000ue' }, /^spawn \/bin\/tr\\u0000ue ERR_INVALID_ARG_VALUE/],
    ]
    for (const [what, game, message] of cases) {
      const run = await start(t, wrapper, game)
      t.ok(run.result.exit, `${what}: an exit, not a run`)
      t.match(run.result.exit?.spawnError ?? '', message, `${what}: ${run.result.exit?.spawnError}`)
      t.match(run.result.exit, { exitCode: null, signal: null })
      t.same(readJson(run.files.exitFile), run.result.exit, `${what}: exit.json says the same`)
      t.notOk(existsSync(run.files.runFile), `${what}: no pid file`)
      t.match(readFileSync(run.logFile, 'utf8'), /\[zlh\] could not start the server: spawn /, `${what}: the log says why`)
    }
  })

  t.test(`${name}: arguments and environment arrive byte for byte, PATH is the game's`, async (t) => {
    const dir = shortTempDir(t)
    const bin = path.join(dir, 'bin')
    execFileSync('mkdir', ['-p', bin])
    execFileSync('sh', ['-c', `printf '#!/bin/sh\\necho found-on-game-path\\n' > ${bin}/mygame && chmod +x ${bin}/mygame`])
    const odd = ['quote " and \\ backslash', 'tab\there', 'é ü 漢字 😀', '', 'new\nline', '$HOME `x`']
    const run = await start(t, wrapper, {
      command: '/bin/sh',
      args: ['-c', 'for a in "$@"; do printf "<%s>" "$a"; done; printf "|%s|%s|%s" "$A" "$B" "$(pwd)"; mygame', 'sh', ...odd],
      env: { PATH: `${bin}:/usr/bin:/bin`, A: 'é😀\ttab', B: '' },
      cwd: dir,
    })
    t.equal((await exitOf(run)).exitCode, 0)
    // The game may be done before a link could connect: its output is read from the log.
    // (The marker line before it holds the arguments too, newline and all.)
    const log = readFileSync(run.logFile, 'utf8')
    const output = log.slice(log.indexOf('<quote'))
    t.equal(output, `${odd.map((a) => `<${a}>`).join('')}|é😀\ttab||${dir}found-on-game-path\n`)
    const named = await start(t, wrapper, { command: 'mygame', args: [], env: { PATH: `${bin}:/usr/bin:/bin` } })
    t.ok(named.result.run, "a bare command name is found on the game's own PATH")
  })

  t.test(`${name}: the log rotates at its bound and keeps logKeep files`, async (t) => {
    // 24 bursts of 1,200 bytes, paced so that each arrives as a write of its own.
    const burst =
      'i=0; while [ $i -lt 24 ]; do j=0; line=""; while [ $j -lt 20 ]; do line="$line burst $i line $j of the game log....."; j=$((j+1)); done; echo "$line"; i=$((i+1)); sleep 0.02; done'
    const run = await start(t, wrapper, { ...sh(burst), logMaxBytes: 4096, logKeep: 2 })
    await exitOf(run)
    const dir = path.dirname(run.logFile)
    t.same(readdirSync(dir).sort(), ['game.log', 'game.log.1', 'game.log.2'], 'the live file and two rotated ones, no more')
    for (const f of readdirSync(dir)) t.ok(statSync(path.join(dir, f)).size <= 4096 + 1300, `${f} is within one write of its bound`)
    t.match(readFileSync(run.logFile, 'utf8'), /burst 23 line 19 of/, 'the newest lines are in the live file')
  })

  t.test(`${name}: the agent comes and goes; output while none is connected is replayed, at most 256 KiB`, async (t) => {
    const go = path.join(shortTempDir(t), 'go')
    const run = await start(
      t,
      wrapper,
      sh(`echo first; while [ ! -f ${go} ]; do sleep 0.02; done; head -c 400000 /dev/zero | tr "\\0" x; echo; echo last; read b; echo bye`),
    )
    const one = follow(run)
    await until(() => one.text() === 'first\n', 10_000, 'the first line')
    one.link.detach()
    // While no agent is connected the game prints 400,000 bytes: the next one gets the newest 256 KiB.
    await new Promise((r) => setTimeout(r, 100))
    writeFileSync(go, '')
    await until(() => readFileSync(run.logFile, 'utf8').includes('last'), 10_000, 'the game to print while nobody listens')
    await new Promise((r) => setTimeout(r, 100))
    const two = follow(run)
    await until(() => two.text().endsWith('last\n'), 10_000, 'the replay')
    t.ok(two.text().length <= 256 * 1024 && two.text().length > 128 * 1024, `the replay is bounded (${two.text().length} bytes)`)
    two.link.write('\n')
    const { exit, lost } = await two.ended
    t.equal(lost, false)
    t.equal(exit.exitCode, 0)
    t.ok(two.text().endsWith('bye\n'))
  })

  t.test(`${name}: a client that stops reading is dropped; the game and later clients go on`, async (t) => {
    const run = await start(t, wrapper, sh('read go; head -c 6000000 /dev/zero; echo done; read x; echo bye'))
    const stuck = net.connect(run.files.socketPath)
    await new Promise((r) => stuck.once('connect', r))
    let stuckClosed = false
    stuck.on('close', () => {
      stuckClosed = true
    })
    stuck.on('error', () => undefined)
    stuck.pause()
    stuck.write('go\n')
    // 6 MB to a client that reads nothing: past 4 MiB waiting for it, the wrapper drops it.
    await until(() => readFileSync(run.logFile, 'utf8').endsWith('done\n'), 20_000, 'the game to print everything')
    stuck.resume()
    await until(() => stuckClosed, 10_000, 'the stuck client to be closed')
    const later = follow(run)
    await new Promise((r) => setTimeout(r, 100))
    t.ok(later.link.write('x\n'))
    const { exit } = await later.ended
    t.equal(exit.exitCode, 0)
    t.match(later.text(), /bye\n$/, 'a later client drives the game')
  })

  t.test(`${name}: a game that closed its stdin, and one whose child keeps the pipes open`, async (t) => {
    const closed = await start(t, wrapper, sh('exec 0<&-; echo closed; sleep 0.5; echo still here'))
    const f = follow(closed)
    await until(() => f.text().includes('closed'), 10_000, 'the game')
    f.link.write('ignored input\n')
    f.link.write('more\n')
    t.equal((await f.ended).exit.exitCode, 0)
    t.equal(f.text(), 'closed\nstill here\n', 'input to a closed stdin is dropped, the wrapper carries on')

    const started = Date.now()
    const held = await start(t, wrapper, sh('(sleep 5; echo late) & echo parent; exit 4'))
    const exit = await exitOf(held)
    t.equal(exit.exitCode, 4)
    t.ok(Date.now() - started < 4000, 'the exit is recorded without waiting for the grandchild')
  })

  t.test(`${name}: any string a spec can hold reaches the game as Node's own spawn would pass it`, async (t) => {
    // Controls, quotes, backslashes, line separators, lone surrogates (sent as U+FFFD, as Node
    // encodes them), pairs and the edges of each UTF-8 length; NUL is the spawn failure above.
    const pool = [
      'a',
      'Z',
      ' ',
      '"',
      '\\',
      '\u0001',
      '\u001f',
      '\t',
      '\n',
      '\u007f',
      '\u0080',
      '\u07ff',
      '\u0800',
      '\u2028',
      '\ud800',
      '\udfff',
      '😀',
      '\uffff',
      '$',
      '`',
      "'",
    ]
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const text = (): string => Array.from({ length: random(24) }, () => pool[random(pool.length)]).join('')
    for (let round = 0; round < 8; round++) {
      const args = Array.from({ length: 1 + random(4) }, text)
      const value = text()
      const dir = shortTempDir(t)
      const out = path.join(dir, 'out')
      const run = await start(t, wrapper, {
        command: '/bin/sh',
        args: ['-c', `printf '%s\\0' "$@" "$V" > ${out}`, 'sh', ...args],
        env: { PATH: '/usr/bin:/bin', V: value },
      })
      t.equal((await exitOf(run)).exitCode, 0)
      const expected = Buffer.from([...args, value].map((a) => `${a}\0`).join(''), 'utf8')
      t.equal(readFileSync(out).toString('hex'), expected.toString('hex'), `round ${round}: ${ascii(args)} and ${ascii(value)}`)
    }
  })
}

t.test('the native wrapper refuses a launch file it cannot read, saying so, and starts nothing', async (t) => {
  const dir = shortTempDir(t)
  const cases: Array<[string, string]> = [
    ['truncated', '{"runId":"r1","command":"/bin/true","args":["a"'],
    ['not an object', '[1,2,3]'],
    ['a bad escape', '{"runId":"r\\q","command":"/bin/true"}'],
    ['no command', '{"runId":"r1","socketPath":"s","runFile":"r","exitFile":"e","logFile":"l"}'],
    ['empty', ''],
  ]
  for (const [what, text] of cases) {
    const file = path.join(dir, `${what}.json`)
    writeFileSync(file, text)
    const result = spawnSync(launch.wrapperScript, [file], { cwd: dir, encoding: 'utf8', timeout: 10_000 })
    t.equal(result.status, 1, `${what}: exit code 1`)
    t.match(result.stderr, /game wrapper: .* is not a launch file/, `${what}: says why`)
    t.equal(result.stdout, '', `${what}: no ready line`)
  }
  t.same(readdirSync(dir).sort(), cases.map(([what]) => `${what}.json`).sort(), 'nothing else was created')
})
