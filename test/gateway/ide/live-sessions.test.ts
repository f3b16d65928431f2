// LiveSessions: WebSocket traffic keeps a session in use for one lifetime; ended sessions' sockets
// are closed; records of idle, socket-less sessions are swept. Plus the binding check itself.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { bindingEnded, LiveSessions, type IdeSession } from '../../../src/gateway/ide/index.ts'
import type { ResolvedRoute } from '../../../src/gateway/ide/index.ts'

const session = (over: Partial<IdeSession> = {}): IdeSession => ({
  vmid: 7,
  uid: 'uid-a',
  apiTokenId: 'abc123abc123',
  user: 'alice',
  sid: 's'.repeat(22),
  expiresAtMs: 0,
  ...over,
})

t.test('traffic keeps a session in use for one lifetime; closeWhere closes ended sessions only', async (t) => {
  let now = 1_000_000
  const closed: PassThrough[] = []
  const live = new LiveSessions({
    ttlMs: 60_000,
    now: () => now,
    close: (s) => {
      closed.push(s as PassThrough)
      s.destroy()
    },
  })
  const a = new PassThrough()
  const b = new PassThrough()
  const watchA = live.track(a, session({ sid: 'a'.repeat(22) }))
  live.track(b, session({ sid: 'b'.repeat(22), vmid: 8 }))
  watchA()
  t.ok(live.inUse('a'.repeat(22)), 'in use when tracked')
  now += 59_000
  a.write('keystroke')
  await new Promise((r) => setImmediate(r))
  now += 59_000
  t.ok(live.inUse('a'.repeat(22)), 'traffic moved the window')
  t.notOk(live.inUse('b'.repeat(22)), 'no traffic for a lifetime: not in use')
  t.notOk(live.inUse('nobody'))
  t.equal(live.openSockets, 2)
  t.equal(
    live.closeWhere((s) => s.vmid === 8),
    1,
  )
  t.same(closed, [b])
  t.equal(live.openSockets, 1)
  a.destroy()
  await new Promise((r) => setImmediate(r))
  t.equal(live.openSockets, 0, 'a closed socket is forgotten')
  now += 120_000
  live.track(new PassThrough(), session({ sid: 'c'.repeat(22) }))
  t.notOk(live.inUse('a'.repeat(22)), 'an idle record is swept')
})

t.test('a binding holds while the route has its uid and its API token exists; fails closed without a registry', async (t) => {
  const route = { vmid: 7, uid: 'uid-a' } as ResolvedRoute
  const tokens = { isActive: (id: string) => id === 'abc123abc123' }
  t.equal(bindingEnded(session(), route, tokens), undefined)
  t.equal(bindingEnded(session(), undefined, tokens), 'devserver-gone')
  t.equal(bindingEnded(session(), { ...route, uid: 'uid-b' }, tokens), 'devserver-replaced')
  t.equal(bindingEnded(session({ apiTokenId: 'ffffffffffff' }), route, tokens), 'token-revoked')
  t.equal(bindingEnded(session(), route, undefined), 'token-revoked', 'a token id nobody can check is not trusted')
  t.equal(
    bindingEnded(session({ apiTokenId: null }), route, undefined),
    undefined,
    'no portal token behind it (explicit): only the DevServer binds it',
  )
})
