// Fixtures for the game-protocol tests (and the e2e game tests): a real minecraft-protocol server on
// loopback that lists its players in the server-list sample as vanilla does, a bot that logs in with a real
// minecraft-protocol client (offline mode) and reports how it ended, a raw TCP client and server for
// hostile bytes, a front door opened for one test, and a bounded poll.
import net from 'node:net'
import mc from 'minecraft-protocol'
import type { Test } from 'tap'
import { createMinecraftFrontDoor, type MinecraftFrontDoor } from '../../../src/platform/game-protocol/front-door.ts'
import { readPacket, readString, writeHandshake, writePacket, writeString } from '../../../src/platform/game-protocol/minecraft.ts'
import { ProbeError } from '../../../src/platform/game-protocol/probe.ts'
import type { FrontDoorDecision, FrontDoorOptions } from '../../../src/platform/game-protocol/types.ts'

/** A version both minecraft-protocol and flying-squid speak. */
export const MC_VERSION = '1.21.4'

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export interface TestMcServer {
  port: number
  server: mc.Server
  /** Names of the players that reached the play state. */
  joined: string[]
  close(): Promise<void>
}

/** A minecraft-protocol server (offline mode) on 127.0.0.1 whose ping sample lists the players online. */
export async function startMcServer(options: { port?: number; motd?: string } = {}): Promise<TestMcServer> {
  const server = mc.createServer({
    'online-mode': false,
    host: '127.0.0.1',
    port: options.port ?? 0,
    version: MC_VERSION,
    motd: options.motd ?? 'a §atest§r server',
    maxPlayers: 10,
    beforePing: (response: any) => {
      response.players.sample = Object.values(server.clients)
        .filter((c: any) => c.state === 'play')
        .map((c: any) => ({ name: c.username, id: c.uuid }))
      return response
    },
  } as mc.ServerOptions)
  const joined: string[] = []
  server.on('playerJoin', (client: any) => joined.push(client.username))
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  return {
    port: ((server as any).socketServer.address() as net.AddressInfo).port,
    server,
    joined,
    close: async () => {
      for (const client of Object.values(server.clients)) (client as any).end('bye')
      await new Promise<void>((resolve) => {
        ;(server as any).socketServer.close(() => resolve())
        server.close()
      })
    },
  }
}

export interface BotResult {
  /** 'play' when it logged in and reached the play state; 'disconnected' when told to leave at login. */
  outcome: 'play' | 'disconnected' | 'ended' | 'error'
  /** The disconnect reason (plain text), or the error. */
  reason?: string
  client: mc.Client
}

/** Where a client connects (`address`, default 127.0.0.1) and the host name its handshake carries (`host`, default the address). */
export interface Via {
  host?: string
  address?: string
}

/** minecraft-protocol options that connect to `via.address` while the handshake names `via.host` (no DNS). */
function viaOptions(port: number, via: Via): { host: string; port: number; connect: (client: mc.Client) => void } {
  const address = via.address ?? '127.0.0.1'
  return { host: via.host ?? address, port, connect: (client) => client.setSocket(net.connect(port, address)) }
}

/** Logs a bot in (offline mode) and resolves when it plays, is disconnected, or its connection ends. */
export function joinBot(port: number, username: string, via: Via = {}): Promise<BotResult> {
  const client = mc.createClient({ ...viaOptions(port, via), username, auth: 'offline', version: MC_VERSION } as mc.ClientOptions)
  return new Promise((resolve) => {
    client.on('state', (state: string) => {
      if (state === 'play') resolve({ outcome: 'play', client })
    })
    client.on('disconnect', (packet: any) => {
      let reason = String(packet.reason)
      try {
        const parsed = JSON.parse(reason)
        reason = typeof parsed === 'string' ? parsed : (parsed.text ?? reason)
      } catch {
        // not JSON
      }
      resolve({ outcome: 'disconnected', reason, client })
    })
    client.on('error', (error: Error) => resolve({ outcome: 'error', reason: error.message, client }))
    client.on('end', (reason: string) => resolve({ outcome: 'ended', reason, client }))
  })
}

/** minecraft-protocol's ping() (status, then ping/pong) through `via`. */
export async function pingVia(port: number, via: Via = {}, timeoutMs = 5000): Promise<any> {
  return mc.ping({ ...viaOptions(port, via), version: MC_VERSION, closeTimeout: timeoutMs } as mc.PingOptions)
}

export interface RawClient {
  socket: net.Socket
  /** Every byte received so far. */
  received(): Buffer
  /** Resolves once the socket is closed (bounded). */
  closed(timeoutMs?: number): Promise<void>
}

export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const socket = net.connect({ port, host })
  let bytes = Buffer.alloc(0)
  let isClosed = false
  socket.on('data', (chunk) => {
    bytes = Buffer.concat([bytes, chunk])
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    isClosed = true
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  return {
    socket,
    received: () => bytes,
    closed: (timeoutMs = 10_000) => until(() => isClosed, 'the server to close the connection', timeoutMs),
  }
}

const loopback = '127.0.0.1'

/** A front door on a random loopback port, closed at the test's end. */
export async function openDoor(t: Test, options: FrontDoorOptions): Promise<{ door: MinecraftFrontDoor; port: number }> {
  const door = createMinecraftFrontDoor(options)
  const address = await door.listen(0, loopback)
  t.teardown(() => door.close())
  return { door, port: address.port }
}

/** Waits until the door holds no connection and no login. */
export async function drained(door: MinecraftFrontDoor, what = 'every connection to close'): Promise<void> {
  await until(() => door.connections === 0 && door.held === 0, what)
}

export const RETRY_MESSAGE = 'The server is starting: join again in a minute'

export const sleeping = (extra: Partial<Extract<FrontDoorDecision, { action: 'sleeping' }>> = {}): FrontDoorDecision => ({
  action: 'sleeping',
  motd: 'Sleeping: join to wake',
  maxPlayers: 20,
  retryMessage: RETRY_MESSAGE,
  ...extra,
})

/** A handshake (next state login) and a Login Start, as raw bytes. */
export const loginBytes = (port: number, host = 'survival.games.test'): Buffer =>
  Buffer.concat([
    writeHandshake({ protocolVersion: 769, host, port, nextState: 2 }),
    writePacket(0x00, writeString('raw_bot'), Buffer.alloc(16)),
  ])

/** The text of a login Disconnect at the start of `bytes`, if one is there. */
export function disconnectText(bytes: Buffer): string | undefined {
  const packet = readPacket(bytes, 1 << 20)
  if (packet === undefined || packet.value.id !== 0x00) return undefined
  return JSON.parse(readString(packet.value.payload, 0, 1 << 18)!.value).text
}

/** A raw TCP server that runs `onConnection` per client and counts the connections still open. */
export async function rawServer(
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

/** A loopback TCP port nobody listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, loopback, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The ProbeError a probe rejected with (fails when it succeeded or threw something else). */
export async function probeRejection(promise: Promise<unknown>): Promise<ProbeError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ProbeError) return error
    throw error
  }
  throw new Error('the probe succeeded')
}
