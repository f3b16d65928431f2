// Players and process-level sleep with a real Minecraft game: a minecraft-protocol server
// (fixtures/mc-game.mjs) run by the supervisor, the real minecraft probe and front door, and a real
// minecraft-protocol client (offline mode) on loopback.
//  - a bot joins → players.online 1, idleSince null; it leaves → 0 and idleSince set; the state
//    stream fires on the change, not on every probe;
//  - idle → Sleeping; a server-list ping gets the sleeping MOTD; the bot's login wakes the game and
//    is held, then proxied to it (lazymc's "hold" mode);
//  - an agent restart while asleep keeps it asleep (the door opens again); POST /game/wake-like
//    wake(); wake never tells the login to ask the operator; running:false while asleep → Stopped.
import t from 'tap'
import { connect } from 'node:net'
import mc from 'minecraft-protocol'
import type { GameSpecRequest, GameStatus } from '../../../src/api/agent-game-types.ts'
import { GameSupervisor } from '../../../agent/game/supervisor.ts'
import { ASK_OPERATOR } from '../../../agent/game/sleep-door.ts'
import { freePort, killGame, newSupervisor, until, waitForStatus } from './helpers.ts'

const MC_VERSION = '1.21.4'
const mcGame = new URL('./fixtures/mc-game.mjs', import.meta.url).pathname

function mcSpec(port: number, extra: Partial<GameSpecRequest> = {}): GameSpecRequest {
  return {
    server: { command: [process.execPath, mcGame], port, gracePeriodSeconds: 5, env: [{ name: 'GAME_MOTD', value: 'Test §aworld' }] },
    supervision: { backoffSeconds: [1] },
    game: 'minecraft',
    health: { periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 10, initialDelaySeconds: 60 },
    ...extra,
  }
}

interface PingAnswer {
  description: unknown
  players: { online: number; max: number }
}

function ping(port: number): Promise<PingAnswer> {
  return mc.ping({ host: '127.0.0.1', port, version: MC_VERSION, closeTimeout: 10_000 } as unknown as mc.PingOptions) as Promise<PingAnswer>
}

function motdText(answer: PingAnswer): string {
  const d = answer.description as string | { text?: string; extra?: Array<{ text?: string }> }
  if (typeof d === 'string') return d
  return `${d.text ?? ''}${(d.extra ?? []).map((e) => e.text ?? '').join('')}`
}

/** A bot: resolves the client once the game logged its join, or the reason it was turned away. */
function join(sup: GameSupervisor, port: number, username: string): Promise<{ client: mc.Client } | { reason: string }> {
  const client = mc.createClient({ host: '127.0.0.1', port, username, auth: 'offline', version: MC_VERSION } as unknown as mc.ClientOptions)
  return new Promise((resolve) => {
    let done = false
    const finish = (v: { client: mc.Client } | { reason: string }): void => {
      if (done) return
      done = true
      sup.off('output', onOutput)
      if ('reason' in v) client.end()
      resolve(v)
    }
    const onOutput = (d: Buffer): void => {
      if (d.toString('utf8').includes(`joined ${username}`)) finish({ client })
    }
    sup.on('output', onOutput)
    if (sup.ring.tail().some((l) => l.includes(`joined ${username}`))) finish({ client })
    const reason = (p: { reason: unknown }): void => finish({ reason: typeof p.reason === 'string' ? p.reason : JSON.stringify(p.reason) })
    client.on('disconnect', reason)
    client.on('kick_disconnect', reason)
    client.on('error', (err: Error) => finish({ reason: `error: ${err.message}` }))
    client.on('end', (why: string) => finish({ reason: `ended: ${why}` }))
  })
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', () => resolve(true))
  })
}

t.test('players from the minecraft probe: a join and a leave, idleSince, and the state stream fires on the change only', async (t) => {
  const port = await freePort()
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec({ ...mcSpec(port), running: true })
  const idle = await waitForStatus(sup, (s) => s.players !== null, 30_000, 'players known')
  t.equal(idle.players?.online, 0)
  t.equal(idle.players?.max, 7)
  t.equal(idle.players?.motd, 'Test world', 'the MOTD as plain text')
  t.equal(idle.players?.version, MC_VERSION)
  t.ok(idle.idleSince, 'idle since the first empty probe')
  t.equal(idle.health?.ok, true)

  const published: GameStatus[] = []
  const onState = (s: GameStatus): void => {
    published.push(s)
  }
  sup.on('state', onState)
  t.teardown(() => sup.off('state', onState))
  const joined = await join(sup, port, 'alice')
  if (!('client' in joined)) throw new Error(`the bot could not join: ${joined.reason}`)
  const online = await waitForStatus(sup, (s) => s.players?.online === 1, 15_000, 'online 1')
  t.equal(online.idleSince, null, 'not idle while someone plays')
  t.ok(
    published.some((s) => s.players?.online === 1),
    'the change was published',
  )
  const count = published.length
  const probedAt = online.health!.lastProbeTime!
  await until(
    () => {
      const last = sup.status().health?.lastProbeTime
      return last !== null && last !== undefined && Date.parse(last) >= Date.parse(probedAt) + 2000
    },
    15_000,
    'two more probes',
  )
  t.equal(published.length, count, 'probes that learn nothing new publish nothing')

  joined.client.end()
  const left = await waitForStatus(sup, (s) => s.players?.online === 0, 15_000, 'online 0')
  t.ok(left.idleSince, 'idle again')
  await sup.stop()
  t.equal(sup.status().players, null, 'players unknown once the game is stopped')
  t.equal(sup.status().idleSince, null)
})

t.test(
  'process sleep: idle → Sleeping, the door answers pings with the sleeping MOTD, a login wakes the game and is proxied',
  async (t) => {
    const port = await freePort()
    const { sup } = newSupervisor(t)
    t.teardown(() => sup.detach())
    await sup.init()
    await sup.applySpec({ ...mcSpec(port, { idle: { stopAfterSeconds: 1 } }), running: true })
    const asleep = await waitForStatus(sup, (s) => s.state === 'Sleeping', 40_000, 'Sleeping')
    t.equal(asleep.sleep?.wake, 'onConnect')
    t.match(asleep.sleep?.reason, /no players online for 1 s/)
    t.equal(asleep.lastStop?.endedBy, 'stopCommand', 'a graceful stop')
    t.equal(asleep.pid, null)
    t.equal(asleep.players, null)

    const answer = await ping(port)
    t.equal(motdText(answer), 'Test world — sleeping, join to wake')
    t.equal(answer.players.online, 0)
    t.equal(answer.players.max, 7, 'max players as the game last said')

    // The same manifest applied again does not wake it.
    await sup.applySpec({ ...mcSpec(port, { idle: { stopAfterSeconds: 1 } }), running: true })
    t.equal(sup.status().state, 'Sleeping', 'running: true while asleep keeps it asleep')

    const joined = await join(sup, port, 'bob')
    if (!('client' in joined)) throw new Error(`the bot was not let in: ${joined.reason}`)
    t.pass('the login woke the game and was proxied to it')
    const awake = await waitForStatus(sup, (s) => s.state === 'Running' && s.players?.online === 1, 15_000, 'bob online')
    t.equal(awake.sleep, null)
    t.equal(awake.idleSince, null)
    joined.client.end()
    // Sleeps again once bob left.
    await waitForStatus(sup, (s) => s.state === 'Sleeping', 40_000, 'asleep again')
    t.match(motdText(await ping(port)), /sleeping, join to wake/)
    await sup.stop()
    t.equal(sup.status().state, 'Stopped', 'a stop while asleep → Stopped')
    t.equal(sup.status().sleep, null)
    t.ok(await refused(port), 'the door is closed: nothing holds the port')
  },
)

t.test('asleep across an agent restart; wake() and its 409; wake never; running:false while asleep → Stopped', async (t) => {
  const port = await freePort()
  const first = newSupervisor(t)
  const { sup, opts } = first
  await sup.init()
  const spec = mcSpec(port, { idle: { stopAfterSeconds: 1, wake: 'never' } })
  await sup.applySpec({ ...spec, running: true })
  const asleep = await waitForStatus(sup, (s) => s.state === 'Sleeping', 40_000, 'Sleeping')
  t.equal(asleep.sleep?.wake, 'never')
  t.equal(motdText(await ping(port)), 'Test world — sleeping')
  const turnedAway = await join(sup, port, 'carol')
  t.ok('reason' in turnedAway && turnedAway.reason.includes(ASK_OPERATOR), 'wake never: the login is told to ask the operator')
  t.equal(sup.status().state, 'Sleeping')

  // The agent goes away and comes back.
  sup.detach()
  await until(() => refused(port), 10_000, 'the old door closed')
  const again = new GameSupervisor(opts)
  t.teardown(() => killGame(again))
  await again.init()
  t.equal(again.status().state, 'Sleeping', 'still asleep after an agent restart')
  t.equal(again.status().sleep?.wake, 'never')
  t.equal(motdText(await ping(port)), 'Test world — sleeping', 'the door is open again')

  // A spec change while asleep keeps it asleep, with the new spec.
  await again.applySpec({ ...spec, idle: { stopAfterSeconds: 1, wake: 'onConnect' } })
  t.equal(again.status().state, 'Sleeping')
  t.equal(again.currentSpec?.idle?.wake, 'onConnect')
  t.equal(motdText(await ping(port)), 'Test world — sleeping, join to wake', 'the door answers for the new spec')

  // wake(): the game starts; a second wake is refused.
  const woken = await again.wake()
  t.equal(woken.state, 'Running')
  await t.rejects(again.wake(), { code: 'AGENT_GAME_NOT_SLEEPING' })
  await waitForStatus(again, (s) => s.state === 'Sleeping', 40_000, 'asleep again')
  const stopped = await again.applySpec({ ...spec, running: false })
  t.equal(stopped.state, 'Stopped', 'running:false while asleep → Stopped')
  t.ok(await refused(port), 'the door is closed')
})

t.test('idle with a tcp probe never sleeps and says why', async (t) => {
  const port = await freePort()
  const { sup } = newSupervisor(t)
  await sup.init()
  const s = await sup.applySpec({ ...mcSpec(port, { idle: { stopAfterSeconds: 1 } }), health: { probe: 'tcp' } })
  t.match(s.message, /health.probe is tcp, which reports no players: the server never sleeps/)
})
