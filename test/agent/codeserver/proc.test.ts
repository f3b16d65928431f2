// /proc helpers: identity by pid + start time, argv matching, process-group stop escalation.
import t from 'tap'
import { spawn } from 'node:child_process'
import { argValue, findProcesses, isSameProcess, readProc, stopProcessGroup, topMost } from '../../../agent/codeserver/proc.ts'

t.test('stopProcessGroup: SIGTERM when obeyed, SIGKILL after the timeout when ignored', async (t) => {
  const polite = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' })
  const stubborn = spawn('/bin/sh', ['-c', 'trap "" TERM; while :; do sleep 0.05; done'], { detached: true, stdio: 'ignore' })
  t.teardown(() => {
    for (const c of [polite, stubborn])
      try {
        process.kill(-c.pid!, 'SIGKILL')
      } catch {
        /* gone */
      }
  })
  await new Promise((r) => setTimeout(r, 100)) // let the shell install its trap
  const p = (await readProc(polite.pid!))!
  const s = (await readProc(stubborn.pid!))!
  t.equal(await isSameProcess(p.pid, p.startTime + 1), false, 'a different start time is a different process')
  t.equal(await stopProcessGroup(p.pid, p.startTime, 5000), 'SIGTERM')
  const started = Date.now()
  t.equal(await stopProcessGroup(s.pid, s.startTime, 300), 'SIGKILL')
  t.ok(Date.now() - started >= 300, 'waited for the grace period first')
  t.equal(await isSameProcess(s.pid, s.startTime), false)
  t.equal(await stopProcessGroup(s.pid, s.startTime, 300), 'gone')
})

t.test('argv matching and top-most selection', async (t) => {
  const marker = `--user-data-dir=/tmp/zlh-proc-test-${process.pid}`
  // A launcher whose child carries the same flag in its argv (as code-server's launcher does).
  const parent = spawn('/bin/sh', ['-c', `/bin/sh -c 'sleep 30; true' ${marker} & wait; true`, 'sh', marker], {
    detached: true,
    stdio: 'ignore',
  })
  t.teardown(() => {
    try {
      process.kill(-parent.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  let found: Awaited<ReturnType<typeof findProcesses>> = []
  for (let i = 0; i < 100 && found.length < 2; i++) {
    found = await findProcesses((argv) => argv.includes(marker))
    await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(found.length >= 2, 'the launcher and its child both match')
  t.same(
    topMost(found).map((p) => p.pid),
    [parent.pid],
    'only the launcher is top-most',
  )
  t.equal(argValue(['x', '--bind-addr', '1.2.3.4:5'], '--bind-addr'), '1.2.3.4:5')
  t.equal(argValue(['x', '--user-data-dir=/a b'], '--user-data-dir'), '/a b')
  t.equal(argValue(['x'], '--auth'), undefined)
})
