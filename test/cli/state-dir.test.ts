// State directory resolution (flag > $ZLH_STATE_DIR > $XDG_STATE_HOME/zlh > ~/.local/state/zlh)
// and the runtime file other commands read.
import t from 'tap'
import { join } from 'node:path'
import { alive, readRuntime, resolveStateDir, stateLayout, writeRuntime } from '../../src/cli/state-dir.ts'

t.test('precedence', async (t) => {
  const saved = { z: process.env.ZLH_STATE_DIR, x: process.env.XDG_STATE_HOME, h: process.env.HOME }
  t.teardown(() => {
    for (const [k, v] of [
      ['ZLH_STATE_DIR', saved.z],
      ['XDG_STATE_HOME', saved.x],
      ['HOME', saved.h],
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  process.env.HOME = '/home/u'
  delete process.env.ZLH_STATE_DIR
  delete process.env.XDG_STATE_HOME
  t.equal(resolveStateDir(), '/home/u/.local/state/zlh')
  process.env.XDG_STATE_HOME = '/xdg'
  t.equal(resolveStateDir(), '/xdg/zlh')
  process.env.ZLH_STATE_DIR = '/env/state'
  t.equal(resolveStateDir(), '/env/state')
  t.equal(resolveStateDir('/flag'), '/flag')
})

t.test('runtime file round trip, 0600; alive()', async (t) => {
  const layout = stateLayout(join(t.testdir(), 'state'))
  t.same(readRuntime(layout), {}, 'nothing yet')
  writeRuntime(layout, { pid: process.pid, apiPort: 1234 })
  t.same(readRuntime(layout), { pid: process.pid, apiPort: 1234 })
  const { statSync } = await import('node:fs')
  t.equal(statSync(layout.runtimeFile).mode & 0o777, 0o600)
  t.ok(alive(process.pid))
  t.notOk(alive(2 ** 22 + 12345), 'no such pid')
  t.notOk(alive(undefined))
})
