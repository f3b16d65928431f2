// Crash records are plain text: terminal escapes and control characters never reach
// status.lastCrash (log tail, evidence); the raw console stream keeps them.

import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { plainLine, plainText } from '../../../agent/game/terminal-text.ts'
import { newSupervisor, shSpec, until, waitForStatus } from './helpers.ts'

t.test('plainText removes CSI, OSC, other ESC sequences and control characters, keeps tab and text', async (t) => {
  t.equal(plainText('\x1b[31mERROR\x1b[0m: \x1b[1;33mdisk\x1b[m full'), 'ERROR: disk full', 'SGR colours')
  t.equal(plainText('\x1b[2K\x1b[1Gdone\x1b[?25h'), 'done', 'erase line, cursor moves, private modes')
  t.equal(plainText('\x1b]0;window title\x07after'), 'after', 'OSC ended by BEL')
  t.equal(plainText('\x1b]8;;https://e.x\x1b\\link\x1b]8;;\x1b\\'), 'link', 'OSC 8 hyperlink ended by ST')
  t.equal(plainText('\x1bPq#0;2;0;0;0\x1b\\pic'), 'pic', 'DCS string')
  t.equal(plainText('\x1b(B\x1b7x\x1b8\x1bcy\x1b='), 'xy', 'charset, save/restore cursor, RIS, keypad')
  t.equal(plainText('\x9b31mC1\x9b0m'), 'C1', '8-bit CSI')
  t.equal(plainText('a\x00b\x07c\x08d\x7fe\x85f'), 'abcdef', 'NUL, BEL, BS, DEL, C1 NEL')
  t.equal(plainText('tab\there\nnext'), 'tab\there\nnext', 'tab and newline stay')
  t.equal(plainText('héllo wörld 日本 🎮'), 'héllo wörld 日本 🎮', 'printable text of any script stays')
  t.equal(plainLine('10%\r50%\r\x1b[32m100%\x1b[0m\r'), '100%', 'a carriage return keeps what a terminal shows')
  t.equal(plainText('\x1b]0;unterminated title'), '', 'an unterminated OSC runs to the end')
})

t.test('a crash record carries plain text, the console stream the raw bytes', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  const raw: Buffer[] = []
  sup.on('output', (d: Buffer) => raw.push(d))
  // Prints coloured lines and a title, then dies with an exception the rules classify.
  await sup.applySpec(
    shSpec(
      "printf '\\033]0;My Server\\007\\033[32m[INFO]\\033[0m Starting\\r\\n'; printf '\\033[1;31mException in thread \"main\" java.lang.OutOfMemoryError: Java heap space\\033[0m\\n'; read go; exit 1",
      {},
      { restartPolicy: 'Never' },
    ),
  )
  await sup.start()
  // The server waits for a line before dying, so its output reaches the console stream first.
  await until(() => Buffer.concat(raw).includes('Java heap space'), 15_000, 'raw output')
  sup.writeInput('go\n')
  const s = await waitForStatus(sup, (x) => x.state === 'Crashed', 15_000, 'crash')
  const crash = s.lastCrash!
  t.same(crash.logTail, ['[INFO] Starting', 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space'])
  t.equal(crash.classification, 'oom', 'classified on the plain text')
  t.equal(crash.evidence, 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space')
  for (const line of [...crash.logTail, crash.evidence ?? ''])
    t.notMatch(line, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, `no control characters in ${JSON.stringify(line)}`)
  t.ok(Buffer.concat(raw).includes('\x1b[1;31m'), 'the console stream keeps the colours')
  t.ok(Buffer.concat(raw).includes('\x1b]0;My Server\x07'), 'the console stream keeps the escapes')
})

t.test('a crash an older agent persisted with escapes is reported as plain text', async (t) => {
  const { sup, opts } = newSupervisor(t)
  mkdirSync(opts.stateDir, { recursive: true })
  writeFileSync(
    path.join(opts.stateDir, 'supervisor.json'),
    JSON.stringify({
      failures: 1,
      restarts: 0,
      desired: 'stopped',
      state: 'Crashed',
      nextRestartAt: null,
      message: null,
      lastStop: null,
      lastCrash: {
        time: '2026-01-01T00:00:00.000Z',
        exitCode: 1,
        signal: null,
        uptimeSeconds: 3,
        classification: 'nonzero_exit',
        evidence: '\x1b[31mexit code 1\x1b[0m',
        logTail: ['\x1b[1mboom\x1b[0m\x07'],
      },
    }),
  )
  await sup.init()
  t.match(sup.status().lastCrash, { evidence: 'exit code 1', logTail: ['boom'] })
})
