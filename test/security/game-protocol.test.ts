// Security regressions of the game-protocol module (issue 21): the Minecraft front door faces anonymous
// clients on a public port (the agent's sleeping game port, the gateway's router) and the probes read
// whatever a game (possibly modded, possibly hostile) answers. Wire formats: wiki.vg "Protocol" (a VarInt
// is at most 5 bytes; the handshake's address is a String(255)) and "Server List Ping"; Valve Developer
// Community "Server queries" (A2S_INFO). Whatever arrives: nothing crashes, nothing answers garbage,
// every socket is closed, the door's `connections` and `held` return to 0, every probe settles in time.
import net from 'node:net'
import t from 'tap'
import { readPacket, writeHandshake, writePacket, writeString, writeVarInt } from '../../src/platform/game-protocol/minecraft.ts'
import { probeGame } from '../../src/platform/game-protocol/probe.ts'
import type { Backend, FrontDoorDecision } from '../../src/platform/game-protocol/types.ts'
import { startA2sResponder } from '../platform/game-protocol/a2s-responder.ts'
import {
  disconnectText,
  drained,
  loginBytes,
  openDoor,
  probeRejection,
  rawConnect,
  rawServer,
  RETRY_MESSAGE,
  sleeping,
  until,
} from '../platform/game-protocol/fixtures.ts'

const loopback = '127.0.0.1'

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
  const bytes = loginBytes(port)
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
  client.socket.write(loginBytes(port))
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
  proxied.socket.write(loginBytes(port))
  await proxied.closed()
  t.equal(proxied.received().length, 0)
  mode = 'wake'
  const held = await rawConnect(port)
  held.socket.write(loginBytes(port))
  await held.closed()
  t.equal(disconnectText(held.received()), RETRY_MESSAGE)
  await drained(door)
})

t.test('a decision that cannot be acted on (no action, a port out of range) closes the client', async (t) => {
  const decisions: unknown[] = [undefined, { action: 'proxy', backend: { host: loopback, port: 70_000 } }, { action: 'teleport' }]
  let next = 0
  const { door, port } = await openDoor(t, { decide: () => decisions[next++] as FrontDoorDecision })
  for (const decision of decisions) {
    const client = await rawConnect(port)
    client.socket.write(loginBytes(port))
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
    const error = await probeRejection(probeGame({ kind: 'minecraft', host: loopback, port: server.port, timeoutMs: 300 }))
    t.equal(error.reason, c.reason, c.name)
    t.match(error.message, c.message, `${c.name}: ${error.message}`)
    t.match(error.message, `minecraft probe of ${loopback}:${server.port}`)
    t.ok(Date.now() - started < 2000, `${c.name}: settled within its bound`)
    await until(() => server.open() === 0, `${c.name}: the probe's socket to close`)
    await server.close()
  }
})

t.test('a2s: silence, garbage, truncation, endless challenges and a closed port are errors, not hangs', async (t) => {
  for (const [mode, reason] of [
    ['silent', 'timeout'],
    ['garbage', 'bad-answer'],
    ['truncated', 'bad-answer'],
    ['challenge-forever', 'bad-answer'],
  ] as const) {
    const responder = await startA2sResponder({ mode })
    const error = await probeRejection(probeGame({ kind: 'a2s', host: loopback, port: responder.port, timeoutMs: 300 }))
    t.equal(error.reason, reason, `${mode}: ${error.message}`)
    await responder.close()
  }
  const responder = await startA2sResponder({ mode: 'silent' })
  const port = responder.port
  await responder.close()
  const error = await probeRejection(probeGame({ kind: 'a2s', host: loopback, port, timeoutMs: 1000 }))
  t.ok(error.reason === 'refused' || error.reason === 'timeout', `nobody on the UDP port: ${error.message}`)
})

t.test('a target that cannot be probed is refused before any socket is opened', async (t) => {
  const targets: [string, unknown][] = [
    ['port 0', { kind: 'tcp', host: loopback, port: 0, timeoutMs: 100 }],
    ['port 70000', { kind: 'a2s', host: loopback, port: 70_000, timeoutMs: 100 }],
    ['a fractional port', { kind: 'minecraft', host: loopback, port: 25565.5, timeoutMs: 100 }],
    ['no host', { kind: 'tcp', host: '', port: 25565, timeoutMs: 100 }],
    ['a NaN timeout', { kind: 'tcp', host: loopback, port: 25565, timeoutMs: Number.NaN }],
    ['a timeout over 60 s', { kind: 'tcp', host: loopback, port: 25565, timeoutMs: 3_600_000 }],
    ['an unknown kind', { kind: 'http', host: loopback, port: 25565, timeoutMs: 100 }],
  ]
  for (const [name, target] of targets) {
    const error = await probeRejection(probeGame(target as Parameters<typeof probeGame>[0]))
    t.equal(error.reason, 'invalid-target', `${name}: ${error.message}`)
  }
})
