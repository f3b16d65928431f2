// Players from an a2s probe (the A2S_INFO responder of the game-protocol tests, which follows Valve's
// published format with the 2020 challenge) feed the supervisor's status, and an a2s game sleeps at
// process level without a door (no Minecraft protocol to hold its port with) and wakes on wake().
import t from 'tap'
import type { GameSpecRequest } from '../../../src/api/agent-game-types.ts'
import { startA2sResponder } from '../../platform/game-protocol/a2s-responder.ts'
import { freePort, newSupervisor, waitForStatus } from './helpers.ts'

const game = (port: number, queryPort: number, extra: Partial<GameSpecRequest> = {}): GameSpecRequest => ({
  server: {
    command: ['/bin/sh', '-c', 'while read line; do [ "$line" = stop ] && exit 0; done'],
    port,
    gracePeriodSeconds: 2,
  },
  game: 'cs2',
  health: { probe: 'a2s', port: queryPort, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 5, initialDelaySeconds: 60 },
  running: true,
  ...extra,
})

t.test('a2s: players, version and the server name as MOTD; idle sleeps without a door and wakes on request', async (t) => {
  const responder = await startA2sResponder({ info: { players: 3, maxPlayers: 24, bots: 1, name: 'Dust all day' } })
  t.teardown(() => responder.close())
  const port = await freePort()
  const { sup } = newSupervisor(t)
  await sup.init()
  await sup.applySpec(game(port, responder.port))
  const s = await waitForStatus(sup, (x) => x.players !== null, 20_000, 'players from A2S_INFO')
  t.match(s.players, { online: 3, max: 24, version: '1.38.7.9', motd: 'Dust all day' })
  t.equal(s.idleSince, null, 'three players online: not idle')
  t.equal(s.health?.probe, 'a2s')
  t.ok(responder.requests.length >= 2, 'the challenge round trip happened')
  await sup.stop()

  const empty = await startA2sResponder({ info: { players: 0, bots: 0 } })
  t.teardown(() => empty.close())
  await sup.applySpec(game(port, empty.port, { idle: { stopAfterSeconds: 1 } }))
  await sup.start()
  const asleep = await waitForStatus(sup, (x) => x.state === 'Sleeping', 30_000, 'Sleeping')
  t.equal(asleep.sleep?.wake, 'onConnect')
  t.notOk(asleep.message, 'no door for a2s, and nothing wrong either')
  const woken = await sup.wake()
  t.equal(woken.state, 'Running')
  t.equal(woken.sleep, null)
  await sup.applySpec(game(port, empty.port, { idle: { stopAfterSeconds: 1 }, running: false }))
  t.equal(sup.status().state, 'Stopped')
})
