// The Minecraft front door with real clients: minecraft-protocol's ping() against a sleeping answer, its
// createClient (offline mode) logging in through the door to a real minecraft-protocol server (proxied,
// and sleeping → wake → proxied), refusals, the legacy ping, half-close, stopListening and close (wiki.vg
// "Protocol", "Server List Ping"). Hostile clients: test/security/game-protocol.test.ts. Every case ends
// with the door's `connections` back to 0.
import net from 'node:net'
import mc from 'minecraft-protocol'
import t from 'tap'
import { createMinecraftFrontDoor } from '../../../src/platform/game-protocol/front-door.ts'
import { writeHandshake } from '../../../src/platform/game-protocol/minecraft.ts'
import type { Backend, MinecraftHandshake } from '../../../src/platform/game-protocol/types.ts'
import {
  disconnectText,
  drained,
  joinBot,
  loginBytes,
  MC_VERSION,
  openDoor,
  rawConnect,
  sleeping,
  startMcServer,
  until,
} from './fixtures.ts'

const loopback = '127.0.0.1'

t.test('a sleeping server answers minecraft-protocol ping() with its MOTD, 0/max players and a pong', async (t) => {
  const seen: MinecraftHandshake[] = []
  const { door, port } = await openDoor(t, {
    decide: (handshake) => {
      seen.push(handshake)
      return sleeping()
    },
  })
  const answer = (await mc.ping({ host: loopback, port, version: MC_VERSION } as mc.PingOptions)) as any
  t.same(answer.description, { text: 'Sleeping: join to wake' })
  t.match(answer.players, { online: 0, max: 20 })
  t.equal(answer.version.protocol, 769, 'the client protocol is echoed, so the client lists the server as compatible')
  t.type(answer.latency, 'number', 'the ping was answered with a pong')
  t.match(seen, [{ host: loopback, port, nextState: 1, protocolVersion: 769 }])
  await drained(door)
})

t.test('proxy: a real client logs in through the door to a real server, every byte replayed', { timeout: 60_000 }, async (t) => {
  const game = await startMcServer()
  t.teardown(() => game.close())
  const { door, port } = await openDoor(t, { decide: () => ({ action: 'proxy', backend: { host: loopback, port: game.port } }) })
  const bot = await joinBot(port, 'proxied_bot')
  t.equal(bot.outcome, 'play', `the bot plays (${bot.reason ?? ''})`)
  await until(() => game.joined.length === 1, 'the server to see the join')
  t.same(game.joined, ['proxied_bot'])
  t.equal(door.connections, 1)
  const pinged = (await mc.ping({ host: loopback, port, version: MC_VERSION } as mc.PingOptions)) as any
  t.equal(pinged.players.online, 1, 'a ping through the door reaches the game')
  bot.client.end()
  await drained(door)
})

t.test(
  'sleeping login: wake is called once, the client is held (sent nothing), then proxied to the woken game',
  { timeout: 60_000 },
  async (t) => {
    let wakes = 0
    let game: Awaited<ReturnType<typeof startMcServer>> | undefined
    let release: (() => void) | undefined
    const { door, port } = await openDoor(t, {
      decide: () =>
        sleeping({
          wake: async () => {
            wakes++
            await new Promise<void>((resolve) => {
              release = resolve
            })
            game = await startMcServer()
            return { host: loopback, port: game.port }
          },
        }),
    })
    t.teardown(() => game?.close())
    const joining = joinBot(port, 'sleepy_bot')
    await until(() => door.held === 1, 'the login to be held')
    t.equal(wakes, 1)
    release!()
    const bot = await joining
    t.equal(bot.outcome, 'play', `the bot plays once the game is up (${bot.reason ?? ''})`)
    await until(() => game!.joined.length === 1, 'the server to see the join')
    t.same(game!.joined, ['sleepy_bot'])
    t.equal(door.held, 0)
    t.equal(wakes, 1, 'one wake for one login')
    bot.client.end()
    await drained(door)
  },
)

t.test('sleeping login without wake, a wake that gives up, a wake that never resolves: the client is told to retry', async (t) => {
  const retry = 'The server is starting: join again in a minute'
  for (const [name, decision, holdTimeoutMs] of [
    ['no wake', sleeping(), undefined],
    ['wake resolves undefined', sleeping({ wake: async () => undefined }), undefined],
    ['wake rejects', sleeping({ wake: async () => Promise.reject(new Error('provider down')) }), undefined],
    ['wake never resolves (hold timeout)', sleeping({ wake: () => new Promise<Backend>(() => {}) }), 300],
  ] as const) {
    const door = createMinecraftFrontDoor({ decide: () => decision, holdTimeoutMs })
    const { port } = await door.listen(0, loopback)
    const bot = await joinBot(port, 'retry_bot')
    t.equal(bot.outcome, 'disconnected', name)
    t.equal(bot.reason, retry, `${name}: told ${retry}`)
    await drained(door, `${name}: every connection to close`)
    await door.close()
  }
})

t.test('refuse: the ping shows the message, the login is disconnected with it', async (t) => {
  const { door, port } = await openDoor(t, { decide: () => ({ action: 'refuse', message: 'No server named nowhere here' }) })
  const answer = (await mc.ping({ host: loopback, port, version: MC_VERSION } as mc.PingOptions)) as any
  t.same(answer.description, { text: 'No server named nowhere here' })
  const bot = await joinBot(port, 'lost_bot')
  t.equal(bot.outcome, 'disconnected')
  t.equal(bot.reason, 'No server named nowhere here')
  await drained(door)
})

t.test('decide sees the host without the Forge marker, trailing dot or case; a decide that throws closes', async (t) => {
  const hosts: string[] = []
  const { door, port } = await openDoor(t, {
    decide: (handshake) => {
      hosts.push(handshake.host)
      if (handshake.host === 'boom') throw new Error('decide failed')
      return { action: 'refuse', message: 'no' }
    },
  })
  for (const raw of ['Survival.Games.Test.\0FML3\0', 'boom']) {
    const client = await rawConnect(port)
    client.socket.write(writeHandshake({ protocolVersion: 769, host: raw, port, nextState: 2 }))
    await client.closed()
    if (raw === 'boom') t.equal(client.received().length, 0, 'a failed decide sends nothing')
    else t.equal(disconnectText(client.received()), 'no')
  }
  t.same(hosts, ['survival.games.test', 'boom'])
  await drained(door)
})

t.test('a pre-1.7 server-list ping (0xFE 0x01 0xFA) gets a legacy kick answer', async (t) => {
  const { door, port } = await openDoor(t, { decide: () => sleeping() })
  const client = await rawConnect(port)
  client.socket.write(Buffer.from([0xfe, 0x01, 0xfa, 0x00, 0x0b]))
  await client.closed()
  const bytes = client.received()
  t.equal(bytes[0], 0xff, 'a Kick packet')
  const text = Buffer.from(bytes.subarray(3)).swap16().toString('utf16le')
  t.equal(bytes.readUInt16BE(1), text.length)
  t.match(text.split('\0'), ['§1', '127', String, /1\.7 or newer/, '0', '0'])
  await drained(door)
})

t.test('proxy: half-close passes through and a backend reply after it still arrives; stopListening keeps piped connections', async (t) => {
  // An echo backend that answers once the client has half-closed, then closes.
  const backend = net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('end', () => socket.end(Buffer.concat([Buffer.from('echo:'), ...chunks])))
  })
  await new Promise<void>((resolve) => backend.listen(0, loopback, resolve))
  t.teardown(() => new Promise<void>((resolve) => backend.close(() => resolve())))
  const backendPort = (backend.address() as net.AddressInfo).port
  const { door, port } = await openDoor(t, { decide: () => ({ action: 'proxy', backend: { host: loopback, port: backendPort } }) })
  const handshake = writeHandshake({ protocolVersion: 769, host: 'x', port, nextState: 2 })
  const client = net.connect({ port, host: loopback, allowHalfOpen: true })
  const received: Buffer[] = []
  client.on('data', (chunk) => received.push(chunk))
  await new Promise<void>((resolve) => client.once('connect', () => resolve()))
  client.write(handshake)
  await until(() => door.connections === 1, 'the connection to be accepted')
  await door.stopListening()
  await t.rejects(rawConnect(port), 'no new connection after stopListening')
  // The port is free again: the game can take it.
  const game = net.createServer()
  await new Promise<void>((resolve) => game.listen(port, loopback, resolve))
  await new Promise<void>((resolve) => game.close(() => resolve()))
  client.end(Buffer.from('after-stop'))
  await new Promise<void>((resolve) => client.once('close', () => resolve()))
  t.equal(
    Buffer.concat(received).toString('latin1'),
    `echo:${handshake.toString('latin1')}after-stop`,
    'every byte replayed, the reply after the half-close arrived',
  )
  await drained(door)
})

t.test('close() destroys held and proxied connections and their backends, and resolves once they are closed', async (t) => {
  const backendSockets = new Set<net.Socket>()
  const backend = net.createServer((socket) => {
    backendSockets.add(socket)
    socket.on('close', () => backendSockets.delete(socket))
    socket.resume()
  })
  await new Promise<void>((resolve) => backend.listen(0, loopback, resolve))
  t.teardown(() => new Promise<void>((resolve) => backend.close(() => resolve())))
  const target = { host: loopback, port: (backend.address() as net.AddressInfo).port }
  const door = createMinecraftFrontDoor({
    decide: (handshake) =>
      handshake.host === 'held' ? sleeping({ wake: () => new Promise<Backend>(() => {}) }) : { action: 'proxy', backend: target },
  })
  const { port } = await door.listen(0, loopback)
  const proxied = await rawConnect(port)
  proxied.socket.write(loginBytes(port, 'proxied'))
  const held = await rawConnect(port)
  held.socket.write(loginBytes(port, 'held'))
  await until(() => door.held === 1 && backendSockets.size === 1, 'one held login and one piped connection')
  await door.close()
  t.equal(door.connections, 0)
  t.equal(door.held, 0)
  await proxied.closed()
  await held.closed()
  await until(() => backendSockets.size === 0, 'the backend connection to close')
})
