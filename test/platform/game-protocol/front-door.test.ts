// The Minecraft front door with real clients: minecraft-protocol's ping() against a sleeping answer, its
// createClient (offline mode) logging in through the door to a real minecraft-protocol server (proxied,
// and sleeping → wake → proxied), and hostile clients (wiki.vg "Protocol": VarInt is at most 5 bytes, the
// handshake's address a String(255)). Every case ends with the door's `connections` back to 0.
import net from 'node:net'
import mc from 'minecraft-protocol'
import t, { type Test } from 'tap'
import { createMinecraftFrontDoor, type MinecraftFrontDoor } from '../../../src/platform/game-protocol/front-door.ts'
import {
  readPacket,
  readString,
  writeHandshake,
  writePacket,
  writeString,
  writeVarInt,
} from '../../../src/platform/game-protocol/minecraft.ts'
import type { Backend, FrontDoorDecision, FrontDoorOptions, MinecraftHandshake } from '../../../src/platform/game-protocol/types.ts'
import { joinBot, MC_VERSION, rawConnect, startMcServer, until } from './fixtures.ts'

const loopback = '127.0.0.1'

async function openDoor(t: Test, options: FrontDoorOptions): Promise<{ door: MinecraftFrontDoor; port: number }> {
  const door = createMinecraftFrontDoor(options)
  const address = await door.listen(0, loopback)
  t.teardown(() => door.close())
  return { door, port: address.port }
}

async function drained(door: MinecraftFrontDoor, what = 'every connection to close'): Promise<void> {
  await until(() => door.connections === 0 && door.held === 0, what)
}

const sleeping = (extra: Partial<Extract<FrontDoorDecision, { action: 'sleeping' }>> = {}): FrontDoorDecision => ({
  action: 'sleeping',
  motd: 'Sleeping: join to wake',
  maxPlayers: 20,
  retryMessage: 'The server is starting: join again in a minute',
  ...extra,
})

const login = (port: number, host = 'survival.games.test'): Buffer =>
  Buffer.concat([
    writeHandshake({ protocolVersion: 769, host, port, nextState: 2 }),
    writePacket(0x00, writeString('raw_bot'), Buffer.alloc(16)),
  ])

/** The JSON text of a login Disconnect in `bytes`, if one is there. */
function disconnectText(bytes: Buffer): string | undefined {
  const packet = readPacket(bytes, 1 << 20)
  if (packet === undefined || packet.value.id !== 0x00) return undefined
  return JSON.parse(readString(packet.value.payload, 0, 1 << 18)!.value).text
}

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

t.test('hostile clients: bad VarInts and lengths, a 2 MiB handshake, a slowloris, a garbage status exchange are closed', async (t) => {
  let decided = 0
  const { door, port } = await openDoor(t, {
    handshakeTimeoutMs: 400,
    decide: () => {
      decided++
      return sleeping()
    },
  })
  const cases: [string, Buffer][] = [
    ['a 6-byte VarInt length', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
    ['a negative length', writeVarInt(-1)],
    ['a zero length', writeVarInt(0)],
    ['a handshake length over the cap', writeVarInt(1 << 20)],
    ['a 2 MiB handshake', Buffer.concat([writeVarInt(2 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024, 0x41)])],
    ['a host of 300 characters', writeHandshake({ protocolVersion: 769, host: 'a'.repeat(300), port, nextState: 2 })],
    ['next state 7', writeHandshake({ protocolVersion: 769, host: 'x', port, nextState: 7 })],
    ['a packet that is not a handshake', writePacket(0x05, Buffer.from('hello'))],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
  ]
  for (const [name, bytes] of cases) {
    const client = await rawConnect(port)
    client.socket.write(bytes)
    await client.closed(5000)
    t.equal(client.received().length, 0, `${name}: closed, nothing answered`)
  }
  t.equal(decided, 0, 'decide never saw any of them')
  const status = await rawConnect(port)
  status.socket.write(
    Buffer.concat([writeHandshake({ protocolVersion: 769, host: 'x', port, nextState: 1 }), writePacket(0x07, Buffer.alloc(40))]),
  )
  await status.closed(5000)
  t.pass('an unknown status packet (in the handshake segment) closes the connection')
  const repeated = await rawConnect(port)
  const request = writePacket(0x00)
  repeated.socket.write(
    Buffer.concat([writeHandshake({ protocolVersion: 769, host: 'x', port, nextState: 1 }), ...Array(50).fill(request)]),
  )
  await repeated.closed(5000)
  const first = readPacket(repeated.received(), 1 << 16)
  t.equal(first?.size, repeated.received().length, 'fifty status requests get one answer, then the connection is closed')
  const slow = await rawConnect(port)
  const started = Date.now()
  const bytes = login(port)
  let sent = 0
  const drip = setInterval(() => {
    if (sent < bytes.length && !slow.socket.destroyed) slow.socket.write(bytes.subarray(sent, ++sent))
  }, 100)
  await slow.closed(5000)
  clearInterval(drip)
  t.ok(Date.now() - started < 2000, 'a slowloris handshake is cut at the handshake timeout')
  const silent = await rawConnect(port)
  await silent.closed(5000)
  t.pass('a client that sends nothing is cut at the handshake timeout')
  await drained(door)
})

t.test('a client that disconnects while held: held and connections return to 0, wake still ran once', async (t) => {
  let wakes = 0
  const { door, port } = await openDoor(t, {
    decide: () =>
      sleeping({
        wake: () => {
          wakes++
          return new Promise<Backend>(() => {})
        },
      }),
  })
  const client = await rawConnect(port)
  client.socket.write(login(port))
  await until(() => door.held === 1, 'the login to be held')
  t.equal(client.received().length, 0, 'a held client is sent nothing')
  client.socket.destroy()
  await drained(door)
  t.equal(wakes, 1)
})

t.test('a backend that refuses: a proxied client is closed, a held login is told to retry', async (t) => {
  const gone = net.createServer()
  await new Promise<void>((resolve) => gone.listen(0, loopback, resolve))
  const deadPort = (gone.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => gone.close(() => resolve()))
  const dead = { host: loopback, port: deadPort }
  let mode: 'proxy' | 'wake' = 'proxy'
  const { door, port } = await openDoor(t, {
    decide: () => (mode === 'proxy' ? { action: 'proxy', backend: dead } : sleeping({ wake: async () => dead })),
  })
  const proxied = await rawConnect(port)
  proxied.socket.write(login(port))
  await proxied.closed()
  t.equal(proxied.received().length, 0)
  mode = 'wake'
  const held = await rawConnect(port)
  held.socket.write(login(port))
  await held.closed()
  t.equal(disconnectText(held.received()), 'The server is starting: join again in a minute')
  await drained(door)
})

t.test('a decision that cannot be acted on (no action, a port out of range) closes the client', async (t) => {
  const decisions: unknown[] = [undefined, { action: 'proxy', backend: { host: loopback, port: 70_000 } }, { action: 'teleport' }]
  let next = 0
  const { door, port } = await openDoor(t, { decide: () => decisions[next++] as FrontDoorDecision })
  for (const decision of decisions) {
    const client = await rawConnect(port)
    client.socket.write(login(port))
    await client.closed()
    t.equal(client.received().length, 0, `${JSON.stringify(decision)}: closed`)
  }
  await drained(door)
})

t.test('maxConnections: connections beyond it are closed at accept', async (t) => {
  const { door, port } = await openDoor(t, { maxConnections: 2, decide: () => sleeping() })
  const first = await rawConnect(port)
  const second = await rawConnect(port)
  await until(() => door.connections === 2, 'two connections accepted')
  const third = await rawConnect(port)
  await third.closed()
  t.equal(door.connections, 2)
  first.socket.destroy()
  second.socket.destroy()
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
  proxied.socket.write(login(port, 'proxied'))
  const held = await rawConnect(port)
  held.socket.write(login(port, 'held'))
  await until(() => door.held === 1 && backendSockets.size === 1, 'one held login and one piped connection')
  await door.close()
  t.equal(door.connections, 0)
  t.equal(door.held, 0)
  await proxied.closed()
  await held.closed()
  await until(() => backendSockets.size === 0, 'the backend connection to close')
})
