// probeGame against real servers on loopback: a minecraft-protocol server with a bot online (wiki.vg
// "Server List Ping"), the A2S_INFO responder that follows Valve's "Server queries" page (with the 2020
// challenge) and plain TCP. Hostile servers: test/security/game-protocol.test.ts.
import t from 'tap'
import { writePacket, writeString } from '../../../src/platform/game-protocol/minecraft.ts'
import { parseA2sInfo, probeGame } from '../../../src/platform/game-protocol/probe.ts'
import { encodeA2sInfo, defaultA2sInfo, startA2sResponder } from './a2s-responder.ts'
import { closedPort, joinBot, probeRejection, rawServer, startMcServer, until } from './fixtures.ts'

const loopback = '127.0.0.1'

t.test(
  'minecraft: a real minecraft-protocol server with a bot online reports it (wiki.vg Server List Ping)',
  { timeout: 60_000 },
  async (t) => {
    const mc = await startMcServer({ motd: '§6Welcome §lhome' })
    t.teardown(() => mc.close())
    const empty = await probeGame({ kind: 'minecraft', host: loopback, port: mc.port, timeoutMs: 5000 })
    t.match(empty.players, { online: 0, max: 10, version: '1.21.4', motd: 'Welcome home' }, 'formatting codes stripped from the MOTD')
    t.ok(empty.latencyMs >= 0)
    const bot = await joinBot(mc.port, 'probe_bot')
    t.equal(bot.outcome, 'play')
    t.teardown(() => bot.client.end())
    const answer = await probeGame({ kind: 'minecraft', host: loopback, port: mc.port, timeoutMs: 5000 })
    t.equal(answer.players?.online, 1)
    t.same(
      answer.players?.sample?.map((p) => p.name),
      ['probe_bot'],
    )
  },
)

t.test('minecraft: chat components are flattened, sample capped at 12, a hidden player list gives no players', async (t) => {
  let status: unknown = {}
  const server = await rawServer((socket) => {
    socket.once('data', () => socket.end(writePacket(0x00, writeString(JSON.stringify(status)))))
  })
  t.teardown(() => server.close())
  const probe = () => probeGame({ kind: 'minecraft', host: loopback, port: server.port, timeoutMs: 2000 })
  status = {
    version: { name: 'Paper 1.21', protocol: 767 },
    players: { online: 30, max: 50, sample: Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, id: `id${i}` })) },
    description: { text: 'A ', extra: [{ text: '§cred', bold: true }, ' and ', { text: '', extra: ['nested'] }] },
  }
  const answer = await probe()
  t.equal(answer.players?.motd, 'A red and nested')
  t.equal(answer.players?.sample?.length, 12)
  t.equal(answer.players?.version, 'Paper 1.21')
  status = { version: { name: 'x', protocol: 1 }, description: 'hidden' }
  t.equal((await probe()).players, undefined)
  status = { players: { online: 'many', max: 3 } }
  t.equal((await probeRejection(probe())).reason, 'bad-answer')
  await until(() => server.open() === 0, 'every probe connection to close')
})

t.test('tcp: an open port answers without players; a closed one is refused', async (t) => {
  const server = await rawServer(() => {})
  t.teardown(() => server.close())
  const answer = await probeGame({ kind: 'tcp', host: loopback, port: server.port, timeoutMs: 2000 })
  t.equal(answer.players, undefined)
  await until(() => server.open() === 0, 'the tcp probe to close its connection')
  const error = await probeRejection(probeGame({ kind: 'tcp', host: loopback, port: await closedPort(), timeoutMs: 2000 }))
  t.equal(error.reason, 'refused')
  t.match(error.message, /ECONNREFUSED/)
})

t.test('a probe honours its abort signal', async (t) => {
  const server = await rawServer(() => {})
  t.teardown(() => server.close())
  const controller = new AbortController()
  const pending = probeGame({ kind: 'minecraft', host: loopback, port: server.port, timeoutMs: 10_000 }, controller.signal)
  await until(() => server.open() === 1, 'the probe to connect')
  controller.abort()
  t.equal((await probeRejection(pending)).reason, 'aborted')
  await until(() => server.open() === 0, 'the aborted probe to close its socket')
  t.equal(
    (await probeRejection(probeGame({ kind: 'tcp', host: loopback, port: server.port, timeoutMs: 1000 }, AbortSignal.abort()))).reason,
    'aborted',
  )
})

t.test('a2s: A2S_INFO with the S2C_CHALLENGE round trip (Valve Developer Community, Server queries)', async (t) => {
  const responder = await startA2sResponder()
  t.teardown(() => responder.close())
  const answer = await probeGame({ kind: 'a2s', host: loopback, port: responder.port, timeoutMs: 2000 })
  t.same(answer.players, { online: 3, max: 24, version: '1.38.7.9', motd: 'zlh test server' })
  t.equal(responder.requests.length, 2, 'the request was resent once')
  t.equal(responder.requests[1]!.length, responder.requests[0]!.length + 4, 'with the 4-byte challenge appended')
})

t.test('a2s: a server that answers without a challenge (pre-2020)', async (t) => {
  const responder = await startA2sResponder({ mode: 'no-challenge', info: { players: 0, maxPlayers: 8 } })
  t.teardown(() => responder.close())
  const answer = await probeGame({ kind: 'a2s', host: loopback, port: responder.port, timeoutMs: 2000 })
  t.match(answer.players, { online: 0, max: 8 })
  t.equal(responder.requests.length, 1)
})

t.test('a2s: parseA2sInfo reads every field of the published format, including the EDF', async (t) => {
  const info = parseA2sInfo(encodeA2sInfo(defaultA2sInfo))
  t.match(info, { protocol: 17, name: 'zlh test server', map: 'de_dust2', folder: 'csgo', appId: 730, players: 3, maxPlayers: 24, bots: 1 })
  t.match(info, { serverType: 'd', environment: 'l', visibility: 0, vac: 1, version: '1.38.7.9', port: 27015, keywords: 'secure,zlh' })
  t.equal(info.gameId, 730n)
  const ship = parseA2sInfo(encodeA2sInfo({ ...defaultA2sInfo, appId: 2400, port: undefined, keywords: undefined, gameId: undefined }))
  t.equal(ship.version, '1.38.7.9', 'The Ship (app 2400): its three extra bytes are skipped before the version')
})
