// Security regressions of the gateway's Minecraft router (issue 21): an anonymous client controls the
// whole handshake (host name, port), so whatever it sends, a connection goes only to the address in a
// GameServer's status, and the router answers only for the name asked. Raw sockets write hostile
// handshakes byte by byte (wire format: the Minecraft protocol's handshake packet, wiki.vg "Protocol" /
// "Server List Ping"); a trap listener stands where a handshake tries to send the router.
import t from 'tap'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { login, startGameBackend } from '../gateway/minecraft/mc-fixtures.ts'
import { running, startRouterEnv, SUFFIX } from '../gateway/minecraft/router-env.ts'
import { logText } from '../../src/gateway/minecraft/router.ts'

function varInt(n: number): Buffer {
  const out: number[] = []
  let v = n >>> 0
  do {
    let b = v & 0x7f
    v >>>= 7
    if (v !== 0) b |= 0x80
    out.push(b)
  } while (v !== 0)
  return Buffer.from(out)
}

function packet(id: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([varInt(id), ...fields])
  return Buffer.concat([varInt(body.length), body])
}

function mcString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  return Buffer.concat([varInt(b.length), b])
}

/** Handshake (nextState 2) + login start for `host`/`port`; resolves with what came back before the close (bounded). */
function rawLogin(routerPort: number, host: string, port: number): Promise<Buffer> {
  const port16 = Buffer.alloc(2)
  port16.writeUInt16BE(port)
  const bytes = Buffer.concat([
    packet(0x00, varInt(769), mcString(host), port16, varInt(2)),
    packet(0x00, mcString('steve'), Buffer.alloc(16)),
  ])
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const s: Socket = connect(routerPort, '127.0.0.1', () => s.write(bytes))
    const done = (): void => {
      clearTimeout(timer)
      s.destroy()
      resolve(Buffer.concat(chunks))
    }
    const timer = setTimeout(done, 3_000)
    s.on('data', (c: Buffer) => {
      chunks.push(c)
      // A login disconnect is the whole answer; anything proxied would keep the socket open.
      if (Buffer.concat(chunks).includes(Buffer.from('"text"'))) done()
    })
    s.on('close', done)
    s.on('error', done)
  })
}

t.test('hostile handshakes never reach anything but a status address', async (t) => {
  const log: Array<{ obj: object; msg: string }> = []
  const capture = (obj: object, msg: string): void => void log.push({ obj, msg })
  const r = await startRouterEnv(t, { log: { info: capture, warn: capture, debug: capture } })
  const game = await startGameBackend('the real game')
  t.teardown(() => game.close())
  // Where a hostile handshake would like to be sent: a listener on loopback that must stay untouched.
  let trapped = 0
  const trap = createServer((s) => {
    trapped++
    s.destroy()
  })
  await new Promise<void>((res) => trap.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>((res) => trap.close(() => res())))
  const trapPort = (trap.address() as AddressInfo).port
  await r.createGame('squid', game.port)
  await r.setStatus('squid', running())

  const hostile = [
    `${'a'.repeat(300)}.${SUFFIX}`,
    `${'a'.repeat(64)}.${SUFFIX}`,
    `squid..${SUFFIX}`,
    `..${SUFFIX}`,
    `.${SUFFIX}`,
    `squid.default.${SUFFIX}.127.0.0.1`,
    '127.0.0.1',
    '[::1]',
    '::1',
    `127.0.0.1.${SUFFIX}`,
    `squid\0.127.0.0.1.${SUFFIX}`,
    `evil\0squid.${SUFFIX}`,
    `squid.default.${SUFFIX}:${trapPort}`,
    `squid/../x.${SUFFIX}`,
    `squid.default.evil.${SUFFIX}`,
    `zlh-gateway.zlh-system.${SUFFIX}`,
    `squid.\u0000\n\u001b[31m.${SUFFIX}`,
    '',
  ]
  for (const host of hostile) {
    const answer = await rawLogin(r.port, host, trapPort)
    const text = answer.toString('latin1')
    t.ok(
      answer.length === 0 || text.includes('There is no game server at this address'),
      `${JSON.stringify(host.slice(0, 40))}: refused (${answer.length === 0 ? 'closed' : 'unknown server'})`,
    )
  }
  t.equal(trapped, 0, 'the handshake port is never dialled')
  t.equal(game.connections(), 0, 'no hostile host name reached the game either')

  // What legitimately names the server (any case, a Forge marker after a NUL) reaches only its status address.
  for (const host of [`SQUID.DEFAULT.${SUFFIX.toUpperCase()}`, `squid.${SUFFIX}\0FML3\0`, `squid.default.${SUFFIX}.`]) {
    const before = game.connections()
    await rawLogin(r.port, host, trapPort)
    t.equal(game.connections(), before + 1, `${JSON.stringify(host)} → the status address`)
  }
  t.equal(trapped, 0, 'still nothing dialled from the handshake')

  const logged = JSON.stringify(log)
  for (const entry of log) {
    const host = (entry.obj as { host?: string }).host
    if (host !== undefined) t.ok(/^[\x20-\x7e]*$/.test(host) && host.length <= 83, `logged host is escaped and cut: ${host.slice(0, 30)}`)
  }
  t.notOk(logged.includes('steve'), 'player names are not logged')
  t.equal(logText('a\nb\u001b'), 'a\\u000ab\\u001b', 'logText escapes control characters')
  t.equal(logText('\u0000'.repeat(100)).length, 83, 'and stays within its bound however much escaping grows it')
})

t.test('connections per client address are bounded; the total is bounded by the front door', async (t) => {
  const r = await startRouterEnv(t, { maxConnectionsPerClient: 2, holdTimeoutMs: 20_000 })
  await r.createGame('squid', 25565)
  await r.setStatus('squid', { phase: 'Starting' })
  const held = [login(r.port, `squid.${SUFFIX}`, 'a'), login(r.port, `squid.${SUFFIX}`, 'b')]
  const until = Date.now() + 20_000
  while (r.router.held < 2) {
    if (Date.now() > until) throw new Error('the two logins were not held')
    await new Promise((res) => setTimeout(res, 20))
  }
  const third = await login(r.port, `squid.${SUFFIX}`, 'c')
  t.equal(third.joined, false, 'a third login from the same address is closed at accept')
  t.equal(r.router.held, 2, 'the two held logins are untouched')
  await r.router.close()
  const ended = await Promise.all(held)
  t.same(
    ended.map((o) => o.joined),
    [false, false],
    'close() ends held logins',
  )
  t.equal(r.router.connections, 0, 'nothing left open')
})

t.test('sockets that never send a handshake count against their address from accept (no slowloris of the router)', async (t) => {
  const r = await startRouterEnv(t, { maxConnectionsPerClient: 2, handshakeTimeoutMs: 30_000 })
  const open = (): Promise<{ socket: Socket; closed: Promise<void> }> =>
    new Promise((resolve, reject) => {
      const socket = connect(r.port, '127.0.0.1')
      const closed = new Promise<void>((res) => socket.once('close', () => res()))
      socket.once('error', () => undefined)
      socket.once('connect', () => resolve({ socket, closed }))
      setTimeout(() => reject(new Error('no connect')), 5_000).unref()
    })
  const silent = [await open(), await open()]
  t.teardown(() => {
    for (const s of silent) s.socket.destroy()
  })
  const third = await open()
  const early = await Promise.race([third.closed.then(() => true), new Promise((res) => setTimeout(() => res(false), 5_000))])
  t.ok(early, 'the third silent socket is closed at once, long before the 30 s handshake timeout')
  silent[0]!.socket.destroy()
  await silent[0]!.closed
  const until = Date.now() + 5_000
  while (r.router.connections > 1 && Date.now() < until) await new Promise((res) => setTimeout(res, 10))
  const again = await open()
  const closedSoon = await Promise.race([again.closed.then(() => true), new Promise((res) => setTimeout(() => res(false), 500))])
  t.notOk(closedSoon, 'a freed slot admits the next connection')
  again.socket.destroy()
})
