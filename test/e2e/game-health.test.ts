// Issue 21 end to end, on the embedded default: embedded API server + real kubectl + the controller as a
// child process + the process provider's real agents + real artifacts (Node runtime, flying-squid), the
// gateway (and its Minecraft router) in-process as its ServiceAccount, and real Minecraft clients
// (minecraft-protocol, offline mode). One server, in order:
//   1. a bot joins → status.players.online = 1 and `kubectl get zgs` shows it under PLAYERS; it leaves → 0;
//   2. the game process SIGSTOPped → the minecraft probe fails → restarted, lastCrash.classification
//      `unresponsive` (short period, threshold, grace and backoff in the spec);
//   3. spec.idle (level process) and nobody plays → phase Sleeping; a ping answers the sleeping MOTD from the
//      agent's front door; the bot's join wakes it and the bot plays (held: the agent's front door holds the
//      login until the game answers, then pipes it);
//   4. spec.idle.level container → the container is stopped; through the gateway's router, by host name
//      (`squid.<suffix>`), a ping answers the sleeping MOTD and the bot's join wakes it (held up to the
//      router's hold time; told to retry and joining again if the wake took longer) and the bot plays.
import t from 'tap'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { startGatewayService } from '../../src/gateway/service.ts'
import { startMinecraftRouter } from '../../src/gateway/minecraft/index.ts'
import { WAKE_REQUESTED_ANNOTATION } from '../../src/api/index.ts'
import { buildArtifacts, exampleGameServer, startE2E } from './harness.ts'
import { joinBot, pingVia, type BotResult } from '../platform/game-protocol/fixtures.ts'

const GAME_SUFFIX = 'games.test'

/** Pids of flying-squid launchers under this test's state dir. */
function gamePids(stateDir: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmd.includes('launch.cjs') && readlinkSync(`/proc/${pid}/cwd`).startsWith(stateDir)) out.push(pid)
    } catch {
      /* gone */
    }
  }
  return out
}

/** The PLAYERS cell of `kubectl get zgs <name>`. */
function playersColumn(table: string): string | undefined {
  const [header, row] = table.split('\n')
  if (header === undefined || row === undefined) return undefined
  const at = header.indexOf('PLAYERS')
  if (at < 0) return undefined
  return row.slice(at).split(/\s+/)[0]
}

/** Joins until the bot plays: a login told to retry (the wake outlasted the hold) joins again, as a player would. */
async function joinUntilPlaying(
  port: number,
  name: string,
  via: { host?: string } = {},
  attempts = 4,
): Promise<{ bot: BotResult; tries: string[] }> {
  const tries: string[] = []
  for (let i = 0; i < attempts; i++) {
    const bot = await joinBot(port, name, via)
    tries.push(`${bot.outcome}${bot.reason ? `: ${bot.reason}` : ''}`)
    if (bot.outcome === 'play') return { bot, tries }
    bot.client.end()
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
  throw new Error(`the bot never played: ${tries.join(' | ')}`)
}

t.setTimeout(20 * 60_000)

t.test('GameServer health, players, sleep and wake (issue 21)', async (t) => {
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  await e.startController()
  const port = e.portBase + 91
  t.teardown(() => {
    if (t.passing()) return
    console.error(e.logs().split('\n').slice(-120).join('\n'))
  })
  const gw = await startGatewayService({
    client: e.gatewayClient(),
    listen: '127.0.0.1:0',
    ideSuffix: 'ide.test',
    publicScheme: 'https',
    publicPort: 'listen',
  })
  t.teardown(() => gw.close())
  const router = await startMinecraftRouter({
    listen: { host: '127.0.0.1', port: 0 },
    cache: gw.informers,
    client: e.gatewayClient(),
    suffix: GAME_SUFFIX,
    systemNamespace: 'zlh-system',
    holdTimeoutMs: 60_000,
  })
  t.teardown(() => router.close())
  const gameServer = exampleGameServer(port)
    .replace('backoffSeconds: [3, 4, 8]', 'backoffSeconds: [1, 2, 4]')
    .replace('gracePeriodSeconds: 5', 'gracePeriodSeconds: 3')
    .replace(
      '  running: true',
      '  health:\n    periodSeconds: 1\n    timeoutSeconds: 2\n    failureThreshold: 3\n    initialDelaySeconds: 120\n  running: true',
    )

  await t.test('a bot joins → players.online 1 in status and the PLAYERS column; it leaves → 0', async (t) => {
    await e.apply(gameServer)
    const w = await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', '--timeout=240s'], { timeoutMs: 250_000 })
    t.equal(w.code, 0, `kubectl wait: ${w.stderr}${w.stdout}`)
    const bot = await joinBot(port, 'e2e_bot')
    t.equal(bot.outcome, 'play', `the bot plays (${bot.reason ?? ''})`)
    const playing = await e.waitFor('players.online 1', 'gameserver', 'squid', (o: any) => o.status?.players?.online === 1, 60_000)
    t.ok(playing.status.players.max > 0, 'max players reported')
    t.equal(playersColumn(await e.h.k('get', 'zgs', 'squid')), '1', 'kubectl get zgs (the short name) shows 1 under PLAYERS')
    bot.client.end()
    await e.waitFor('players.online 0', 'gameserver', 'squid', (o: any) => o.status?.players?.online === 0, 60_000)
    t.equal(playersColumn(await e.h.k('get', 'zgs', 'squid')), '0', 'and 0 once it left')
  })

  await t.test('the game SIGSTOPped → restarted, lastCrash.classification unresponsive', async (t) => {
    const before = await e.get('gameserver', 'squid')
    const pids = gamePids(e.stateDir)
    t.equal(pids.length, 1, 'one game process')
    process.kill(pids[0]!, 'SIGSTOP')
    const hung = await e.waitFor(
      'unresponsive crash',
      'gameserver',
      'squid',
      (o: any) => o.status?.lastCrash?.classification === 'unresponsive',
      90_000,
    )
    t.pass(`classified unresponsive; log tail ends: ${JSON.stringify((hung.status.lastCrash.logTail ?? []).slice(-2))}`)
    t.same(gamePids(e.stateDir).includes(pids[0]!), false, 'the stopped process is gone (the escalation reached SIGKILL)')
    const back = await e.waitFor(
      'Running again',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Running' && o.status.restarts > (before.status.restarts ?? 0),
      120_000,
    )
    t.equal(back.status.restarts, (before.status.restarts ?? 0) + 1, 'one restart')
    const events = JSON.parse(
      await e.h.k('get', 'events', '--field-selector', 'involvedObject.name=squid,reason=Unresponsive', '-o', 'json'),
    )
    t.ok(events.items.length >= 1, 'an Unresponsive event')
    t.match(events.items[0]?.message, /probe/i, `its message names the failing probe: ${events.items[0]?.message}`)
    await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', '--timeout=120s'], { timeoutMs: 130_000 })
  })

  await t.test('idle at process level → Sleeping; the ping shows the sleeping MOTD; a join wakes it and the bot plays', async (t) => {
    await e.h.k(
      'patch',
      'gameserver',
      'squid',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { idle: { stopAfterSeconds: 5, level: 'process' } } }),
    )
    const asleep = await e.waitFor(
      'Sleeping (process)',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Sleeping' && o.status.sleep?.level === 'process',
      120_000,
    )
    t.equal(asleep.spec.running, true, 'spec.running untouched: sleep is status')
    const pong = await pingVia(port)
    t.match(JSON.stringify(pong.description), /sleeping/i, `the ping answers the sleeping MOTD: ${JSON.stringify(pong.description)}`)
    t.equal(pong.players.online, 0)
    const started = Date.now()
    const { bot, tries } = await joinUntilPlaying(port, 'wake_bot')
    t.pass(`woken and playing after ${Date.now() - started} ms (${tries.join(' | ')})`)
    t.equal(tries.length, 1, 'held until the game answered, not told to retry')
    await e.waitFor(
      'Running with the bot',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Running' && o.status.players?.online === 1,
      60_000,
    )
    bot.client.end()
  })

  await t.test('idle at container level → the container stops; through the router by host name, a ping and a join wake it', async (t) => {
    await e.h.k(
      'patch',
      'gameserver',
      'squid',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { idle: { stopAfterSeconds: 5, level: 'container' } } }),
    )
    const asleep = await e.waitFor(
      'Sleeping (container)',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Sleeping' && o.status.sleep?.level === 'container',
      180_000,
    )
    t.equal(asleep.spec.running, true)
    t.same(gamePids(e.stateDir), [], 'no game process while the container sleeps')
    const via = { host: `squid.${GAME_SUFFIX}` }
    const pong = await pingVia(router.address.port, via)
    t.match(JSON.stringify(pong.description), /sleeping/i, `the router answers the sleeping MOTD: ${JSON.stringify(pong.description)}`)
    const started = Date.now()
    const { bot, tries } = await joinUntilPlaying(router.address.port, 'router_bot', via)
    t.pass(`woken through the router and playing after ${Date.now() - started} ms (${tries.join(' | ')})`)
    const woken = await e.get('gameserver', 'squid')
    t.ok(woken.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION], 'the router wrote the wake annotation')
    await e.waitFor('players 1 after the wake', 'gameserver', 'squid', (o: any) => o.status?.players?.online === 1, 60_000)
    bot.client.end()
  })
})
