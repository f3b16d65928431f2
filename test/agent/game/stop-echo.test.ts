// A graceful stop shows the stop command in the console, as a game console echoes what was typed:
// live viewers, the history late joiners get, and the console log file all read "> <command>".

import t from 'tap'
import { readFileSync } from 'node:fs'
import { newSupervisor, shSpec, until } from './helpers.ts'

t.test('the stop command the agent sends is echoed as "> stop" in the console stream, history and log', async (t) => {
  const { sup, opts } = newSupervisor(t)
  await sup.init()
  const live: Buffer[] = []
  sup.on('output', (d: Buffer) => live.push(d))
  // Prints a line without its newline first: the echo must still be a line of its own.
  await sup.applySpec(
    shSpec(
      'echo ready; printf \'prompt>\'; while read line; do [ "$line" = "stop" ] && { echo; echo \'Stopping the server\'; exit 0; }; done',
      { stopCommand: 'stop', gracePeriodSeconds: 20 },
    ),
  )
  await sup.start()
  await until(() => sup.ring.tail().includes('prompt>'), 15_000, 'prompt')
  const s = await sup.stop()
  t.equal(s.lastStop?.endedBy, 'stopCommand')
  const history = sup.ring.tail()
  t.ok(history.includes('> stop'), `history has the echoed command: ${JSON.stringify(history)}`)
  t.ok(history.indexOf('> stop') < history.indexOf('Stopping the server'), 'before what the server printed in answer')
  t.ok(history.includes('prompt>'), 'the unfinished line stays as it was')
  await until(() => Buffer.concat(live).toString().includes('Stopping the server'), 5000, 'live output')
  t.match(Buffer.concat(live).toString(), /\n> stop\n/, 'live viewers see it on a line of its own')
  t.match(readFileSync(opts.logFile, 'utf8'), /^> stop$/m, 'the console log file has it')
})

t.test('without a stop command nothing is echoed', async (t) => {
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec(shSpec('echo ready; exec sleep 60', { stopCommand: '', gracePeriodSeconds: 1 }))
  await sup.start()
  await until(() => sup.ring.tail().includes('ready'), 15_000, 'ready line')
  const s = await sup.stop()
  t.equal(s.lastStop?.endedBy, 'SIGTERM')
  t.notOk(
    sup.ring.tail().some((l) => l.startsWith('> ')),
    'no echo line',
  )
})
