// The portal's status shape (src/gateway/portal/status-view.ts) carries what issue 21 adds to a
// server's status: players, sleep and the next scheduled restart, each null when absent.
import t from 'tap'
import type { DevServer, GameServer } from '../../../src/api/index.ts'
import { statusView } from '../../../src/gateway/portal/status-view.ts'

const ideUrlFor = (vmid: number) => `https://dev-${vmid}.ide.test/`

t.test('a GameServer: players, sleep and nextScheduledRestart from its status', async (t) => {
  const gs = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'squid', namespace: 'default', generation: 1 },
    spec: {},
    status: {
      phase: 'Sleeping',
      players: { online: 0, max: 20, observedTime: '2026-01-01T00:00:00Z' },
      sleep: { level: 'container', since: '2026-01-01T00:01:00Z', reason: 'no players for 600 s' },
      nextScheduledRestart: '2026-01-02T04:00:00Z',
    },
  } as unknown as GameServer
  const view = statusView(gs, ideUrlFor)
  t.same(view.players, { online: 0, max: 20, observedTime: '2026-01-01T00:00:00Z' })
  t.same(view.sleep, { level: 'container', since: '2026-01-01T00:01:00Z', reason: 'no players for 600 s' })
  t.equal(view.nextScheduledRestart, '2026-01-02T04:00:00Z')
  t.equal(view.phase, 'Sleeping')
})

t.test('awake, no probe, no schedule, or a DevServer: null', async (t) => {
  const gs = { kind: 'GameServer', metadata: { name: 'a' }, spec: {}, status: { phase: 'Running' } } as unknown as GameServer
  t.match(statusView(gs, ideUrlFor), { players: null, sleep: null, nextScheduledRestart: null })
  const ds = {
    kind: 'DevServer',
    metadata: { name: 'b' },
    spec: {},
    status: { phase: 'Sleeping', vmid: 101, sleep: { level: 'container', since: '2026-01-01T00:00:00Z' } },
  } as unknown as DevServer
  t.match(statusView(ds, ideUrlFor), {
    players: null,
    nextScheduledRestart: null,
    sleep: { level: 'container', since: '2026-01-01T00:00:00Z', reason: null },
    ide: { url: 'https://dev-101.ide.test/' },
  })
})
