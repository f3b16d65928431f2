// The gateway's Minecraft router against the embedded API server (in-process), the gateway service's
// informer cache, and real `minecraft-protocol` servers and clients on loopback: routing by the
// handshake's host name (mc-router's model), the answers for unknown and stopped servers, and
// container-level sleep: the sleeping MOTD, a login that wakes the server through the wake annotation
// (one write for concurrent logins), held until the status says Running/Ready, then proxied.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { startMinecraftRouter } from '../../../src/gateway/minecraft/index.ts'
import { GAMESERVER, WAKE_REQUESTED_ANNOTATION } from '../../../src/api/index.ts'
import { PatchType } from '../../../src/runtime/index.ts'
import { login, motdText, ping, startGameBackend } from './mc-fixtures.ts'
import { containerSleep, running, startRouterEnv, SUFFIX } from './router-env.ts'

t.test('routes by host name: two servers, two names; ping and login reach the right backend', async (t) => {
  const r = await startRouterEnv(t)
  const alpha = await startGameBackend('alpha world')
  const beta = await startGameBackend('beta world')
  t.teardown(() => alpha.close())
  t.teardown(() => beta.close())
  await r.createGame('alpha', alpha.port)
  await r.createGame('beta', beta.port, {}, 'team-b')
  await r.setStatus('alpha', running())
  await r.setStatus('beta', running(), 'team-b')

  t.equal(motdText(await ping(r.port, `alpha.default.${SUFFIX}`)), 'alpha world', '<name>.<namespace>.<suffix> → alpha')
  t.equal(motdText(await ping(r.port, `alpha.${SUFFIX}`)), 'alpha world', '<name>.<suffix> → the namespace default')
  t.equal(motdText(await ping(r.port, `beta.team-b.${SUFFIX}`)), 'beta world', 'another namespace → beta')
  t.equal(motdText(await ping(r.port, `ALPHA.Default.${SUFFIX.toUpperCase()}.`)), 'alpha world', 'case and a trailing dot do not matter')

  const a = await login(r.port, `alpha.${SUFFIX}`, 'steve', alpha)
  t.ok(a.joined, `steve logged in on alpha (${a.joined ? '' : a.reason})`)
  const b = await login(r.port, `beta.team-b.${SUFFIX}`, 'alex', beta)
  t.ok(b.joined, `alex logged in on beta (${b.joined ? '' : b.reason})`)
  t.same(alpha.joins, ['steve'], 'alpha saw only its player')
  t.same(beta.joins, ['alex'], 'beta saw only its player')
  if (a.joined) a.client.end()
  if (b.joined) b.client.end()
  t.same(r.patches, [], 'routing awake servers writes nothing')
})

t.test('unknown host, absent server, reserved namespace: the same refusal, nothing proxied', async (t) => {
  const r = await startRouterEnv(t)
  const game = await startGameBackend('hidden')
  t.teardown(() => game.close())
  await r.createGame('secret', game.port, {}, 'kube-public')
  await r.setStatus('secret', running(), 'kube-public')
  const answers = new Set<string>()
  for (const host of [`nope.${SUFFIX}`, `secret.kube-public.${SUFFIX}`, 'example.com', `a.b.c.${SUFFIX}`]) {
    answers.add(motdText(await ping(r.port, host)))
    const l = await login(r.port, host, 'steve')
    t.notOk(l.joined, `${host}: login refused`)
    if (!l.joined) answers.add(l.reason)
  }
  t.same([...answers], ['There is no game server at this address. Check the server address you typed.'], 'one answer for all of them')
  t.equal(game.connections(), 0, 'the game in the reserved namespace was never reached')
})

t.test('a stopped server is refused with its name; a starting one holds the login until it is Running', async (t) => {
  const r = await startRouterEnv(t, { holdTimeoutMs: 20_000 })
  const game = await startGameBackend('squid world')
  t.teardown(() => game.close())
  await r.createGame('squid', game.port)
  await r.setStatus('squid', { phase: 'Stopped', conditions: [] })
  const stopped = await login(r.port, `squid.${SUFFIX}`, 'steve')
  t.same(stopped, { joined: false, reason: 'squid is not running right now. Try again later.' })

  await r.setStatus('squid', { phase: 'Starting' })
  t.match(motdText(await ping(r.port, `squid.${SUFFIX}`)), /^squid is starting/, 'a ping says it is starting')
  const held = login(r.port, `squid.${SUFFIX}`, 'steve', game)
  await untilHeld(r.router, 1)
  t.equal(game.connections(), 0, 'held: not proxied yet')
  await r.setStatus('squid', running())
  const outcome = await held
  t.ok(outcome.joined, 'proxied and logged in once Running/Ready')
  if (outcome.joined) outcome.client.end()
  t.same(r.patches, [], 'a starting server is not woken: no annotation write')
})

t.test('container-level sleep: sleeping MOTD; 3 concurrent logins write the wake annotation once, are held, then play', async (t) => {
  const r = await startRouterEnv(t, { holdTimeoutMs: 30_000 })
  const game = await startGameBackend('awake again')
  t.teardown(() => game.close())
  await r.createGame('squid', game.port, { idle: { stopAfterSeconds: 60, level: 'container' } })
  const since = new Date(Date.now() - 60_000).toISOString()
  await r.setStatus('squid', containerSleep(since))

  const answer = await ping(r.port, `squid.default.${SUFFIX}`)
  t.equal(motdText(answer), 'squid is sleeping — join to wake', 'the sleeping MOTD')
  t.equal(answer.players.online, 0)
  t.same(r.patches, [], 'a ping wakes nothing')

  const logins = ['steve', 'alex', 'herobrine'].map((name) => login(r.port, `squid.${SUFFIX}`, name, game))
  await untilHeld(r.router, 3)
  t.equal(r.patches.length, 1, 'one annotation write for three logins')
  const gs = await r.get('squid')
  const asked = gs.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION]
  t.ok(asked && Date.parse(asked) > Date.parse(since), `the annotation asks for a wake after status.sleep.since (${asked})`)
  t.equal(game.connections(), 0, 'nothing proxied while asleep')

  // What the controller does on the annotation: container started, sleep cleared, then Running/Ready.
  await r.setStatus('squid', { phase: 'Starting', sleep: null, conditions: [] })
  t.equal(r.router.held, 3, 'still held while starting')
  await r.setStatus('squid', running())
  const outcomes = await Promise.all(logins)
  t.same(
    outcomes.map((o) => o.joined),
    [true, true, true],
    'all three proxied and logged in',
  )
  t.same([...game.joins].sort(), ['alex', 'herobrine', 'steve'])
  for (const o of outcomes) if (o.joined) o.client.end()
  t.equal(r.patches.length, 1, 'still one write')
})

t.test('container-level sleep: the hold times out → the player is told to come back', async (t) => {
  const r = await startRouterEnv(t, { holdTimeoutMs: 1_000 })
  const game = await startGameBackend('never wakes')
  t.teardown(() => game.close())
  await r.createGame('squid', game.port, { idle: { stopAfterSeconds: 60, level: 'container' } })
  await r.setStatus('squid', containerSleep())
  const outcome = await login(r.port, `squid.${SUFFIX}`, 'steve')
  t.same(outcome, { joined: false, reason: 'squid is waking up. Join again in a minute.' })
  t.equal(r.patches.length, 1, 'the wake was asked')
  t.equal(game.connections(), 0)
})

t.test('container-level sleep with wake: never → told at once, no annotation write', async (t) => {
  const r = await startRouterEnv(t)
  await r.createGame('squid', 25565, { idle: { stopAfterSeconds: 60, level: 'container', wake: 'never' } })
  await r.setStatus('squid', containerSleep())
  t.equal(motdText(await ping(r.port, `squid.${SUFFIX}`)), 'squid is sleeping')
  const outcome = await login(r.port, `squid.${SUFFIX}`, 'steve')
  t.notOk(outcome.joined)
  t.match(outcome.joined ? '' : outcome.reason, /wakes only when its operator starts it/)
  t.same(r.patches, [])
})

t.test('process-level sleep: proxied to the container (the agent holds the game port itself)', async (t) => {
  const r = await startRouterEnv(t)
  const agentDoor = await startGameBackend('squid is sleeping (agent)')
  t.teardown(() => agentDoor.close())
  await r.createGame('squid', agentDoor.port, { idle: { stopAfterSeconds: 60 } })
  await r.setStatus('squid', {
    phase: 'Sleeping',
    address: '127.0.0.1',
    sleep: { level: 'process', since: new Date().toISOString() },
    conditions: [],
  })
  t.equal(motdText(await ping(r.port, `squid.${SUFFIX}`)), 'squid is sleeping (agent)')
  t.same(r.patches, [], 'the gateway does not wake process-level sleep')
})

async function untilHeld(router: { held: number }, n: number): Promise<void> {
  const until = Date.now() + 20_000
  while (router.held < n) {
    if (Date.now() > until) throw new Error(`expected ${n} held logins, have ${router.held}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('a game suffix that is no DNS name is refused at start, naming it', async (t) => {
  for (const suffix of ['', '.play.test', 'Play.Test', 'play..test', 'play.test.', 'a b']) {
    await t.rejects(
      startMinecraftRouter({
        listen: { host: '127.0.0.1', port: 0 },
        cache: { get: () => undefined, events: new EventEmitter() },
        client: { patch: () => Promise.reject(new Error('unused')) },
        suffix,
        systemNamespace: 'zlh-system',
      }),
      { message: /game host suffix .* is not a DNS name/ },
      JSON.stringify(suffix),
    )
  }
})

t.test(
  'container-level sleep: a wake request already newer than the sleep is not written again; one dated far ahead is replaced',
  async (t) => {
    const r = await startRouterEnv(t, { holdTimeoutMs: 1_000 })
    await r.createGame('asked', 25565, { idle: { stopAfterSeconds: 60, level: 'container' } })
    await r.createGame('future', 25565, { idle: { stopAfterSeconds: 60, level: 'container' } })
    const since = new Date(Date.now() - 60_000).toISOString()
    const annotate = (name: string, value: string) =>
      r.portal.env.client.patch(
        GAMESERVER,
        name,
        'default',
        { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: value } } },
        PatchType.merge,
      )
    await annotate('asked', new Date(Date.now() - 1_000).toISOString())
    await annotate('future', '2999-01-01T00:00:00Z')
    await r.setStatus('asked', containerSleep(since))
    await r.setStatus('future', containerSleep(since))

    await login(r.port, `asked.${SUFFIX}`, 'steve')
    t.same(r.patches, [], 'someone already asked after the sleep: no second write')
    await login(r.port, `future.${SUFFIX}`, 'steve')
    t.same(
      r.patches.map((p) => p.name),
      ['future'],
      'a request dated in 2999 (which the controller ignores) is replaced',
    )
    const asked = (await r.get('future')).metadata.annotations?.[WAKE_REQUESTED_ANNOTATION]
    t.ok(asked && Date.parse(asked) <= Date.now(), `now it says ${asked}`)
  },
)
