// probeGame against real servers on loopback: a minecraft-protocol server with a bot online (wiki.vg
// "Server List Ping"), the A2S_INFO responder that follows Valve's "Server queries" page (with the 2020
// challenge), plain TCP, and hostile servers. Every probe must settle within its timeout and leave no socket.
import net from 'node:net'
import t from 'tap'
import { writePacket, writeString, writeVarInt } from '../../../src/platform/game-protocol/minecraft.ts'
import { ProbeError, parseA2sInfo, probeGame } from '../../../src/platform/game-protocol/probe.ts'
import { encodeA2sInfo, defaultA2sInfo, startA2sResponder } from './a2s-responder.ts'
import { joinBot, startMcServer, until } from './fixtures.ts'

const loopback = '127.0.0.1'

/** A raw TCP server that runs `onConnection` per client and counts the connections still open. */
async function rawServer(
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    onConnection(socket)
    // Flowing, so the peer's FIN is seen even when nobody reads.
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, loopback, resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, loopback, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function rejection(promise: Promise<unknown>): Promise<ProbeError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ProbeError) return error
    throw error
  }
  throw new Error('the probe succeeded')
}

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
  t.equal((await rejection(probe())).reason, 'bad-answer')
  await until(() => server.open() === 0, 'every probe connection to close')
})

t.test('minecraft: hostile or broken servers give a ProbeError naming what failed, and no socket is left', async (t) => {
  const cases: { name: string; reply: (s: net.Socket) => void; reason: string; message: RegExp }[] = [
    {
      name: 'a 6-byte VarInt length',
      reply: (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
      reason: 'bad-answer',
      message: /VarInt/,
    },
    { name: 'a negative length', reply: (s) => s.write(writeVarInt(-5)), reason: 'bad-answer', message: /not positive/ },
    { name: 'an answer over 64 KiB', reply: (s) => s.write(writeVarInt(10_000_000)), reason: 'bad-answer', message: /cap/ },
    { name: 'not JSON', reply: (s) => s.write(writePacket(0x00, writeString('{nope'))), reason: 'bad-answer', message: /not JSON/ },
    { name: 'the wrong packet', reply: (s) => s.write(writePacket(0x01, Buffer.alloc(8))), reason: 'bad-answer', message: /0x1/ },
    { name: 'a close without an answer', reply: (s) => s.end(), reason: 'closed', message: /closed/ },
    { name: 'silence', reply: () => {}, reason: 'timeout', message: /no answer within 300 ms/ },
  ]
  for (const c of cases) {
    const server = await rawServer((socket) => socket.once('data', () => c.reply(socket)))
    const started = Date.now()
    const error = await rejection(probeGame({ kind: 'minecraft', host: loopback, port: server.port, timeoutMs: 300 }))
    t.equal(error.reason, c.reason, c.name)
    t.match(error.message, c.message, `${c.name}: ${error.message}`)
    t.match(error.message, `minecraft probe of ${loopback}:${server.port}`)
    t.ok(Date.now() - started < 2000, `${c.name}: settled within its bound`)
    await until(() => server.open() === 0, `${c.name}: the probe's socket to close`)
    await server.close()
  }
})

t.test('tcp: an open port answers without players; a closed one is refused', async (t) => {
  const server = await rawServer(() => {})
  t.teardown(() => server.close())
  const answer = await probeGame({ kind: 'tcp', host: loopback, port: server.port, timeoutMs: 2000 })
  t.equal(answer.players, undefined)
  await until(() => server.open() === 0, 'the tcp probe to close its connection')
  const error = await rejection(probeGame({ kind: 'tcp', host: loopback, port: await closedPort(), timeoutMs: 2000 }))
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
  t.equal((await rejection(pending)).reason, 'aborted')
  await until(() => server.open() === 0, 'the aborted probe to close its socket')
  t.equal(
    (await rejection(probeGame({ kind: 'tcp', host: loopback, port: server.port, timeoutMs: 1000 }, AbortSignal.abort()))).reason,
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

t.test('a2s: silence, garbage, truncation, endless challenges and a closed port are errors, not hangs', async (t) => {
  for (const [mode, reason] of [
    ['silent', 'timeout'],
    ['garbage', 'bad-answer'],
    ['truncated', 'bad-answer'],
    ['challenge-forever', 'bad-answer'],
  ] as const) {
    const responder = await startA2sResponder({ mode })
    const error = await rejection(probeGame({ kind: 'a2s', host: loopback, port: responder.port, timeoutMs: 300 }))
    t.equal(error.reason, reason, `${mode}: ${error.message}`)
    await responder.close()
  }
  const responder = await startA2sResponder({ mode: 'silent' })
  const port = responder.port
  await responder.close()
  const error = await rejection(probeGame({ kind: 'a2s', host: loopback, port, timeoutMs: 1000 }))
  t.ok(error.reason === 'refused' || error.reason === 'timeout', `nobody on the UDP port: ${error.message}`)
})
