// zlh status: a server's row (phase, Ready, restarts, last crash) and the table layout; the
// command's exit code when nothing runs.
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { rowOf, table } from '../../src/cli/status.ts'

t.test('a crashed game server reads as such', async (t) => {
  const row = rowOf('GameServer', {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 's', namespace: 'default' },
    status: {
      phase: 'Backoff',
      vmid: 100,
      restarts: 2,
      lastCrash: { time: new Date(Date.now() - 30_000).toISOString(), signal: 'SIGKILL', classification: 'oom' },
      conditions: [{ type: 'Ready', status: 'False', message: 'restarting in 60s' }],
    },
  })
  t.match(row, { phase: 'Backoff', ready: 'False', vmid: '100', restarts: 2, message: 'restarting in 60s' })
  t.match(row.lastCrash, /^\d+s ago oom SIGKILL$/)
  t.equal(rowOf('DevServer', { metadata: { name: 'd' } } as never).phase, 'Pending', 'no status yet')
  t.equal(
    table([
      ['A', 'BB'],
      ['ccc', 'd'],
    ]),
    'A    BB\nccc  d',
  )
})

t.test('exit 3 with what to do when no system runs', async (t) => {
  const dir = t.testdir()
  const r = await new Promise<{ code: number; err: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(import.meta.dirname, '../../bin/zlh.js'), 'status', '--state-dir', dir],
      { env: { ...process.env, KUBECONFIG: '' } },
      (e, _o, err) => resolve({ code: e ? (e.code as number) : 0, err }),
    ),
  )
  t.equal(r.code, 3)
  t.match(r.err, /npm start/)
})
