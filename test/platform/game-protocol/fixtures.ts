// Fixtures for the game-protocol tests (and the e2e game tests): a real minecraft-protocol server on
// loopback that lists its players in the server-list sample as vanilla does, a bot that logs in with a real
// minecraft-protocol client (offline mode) and reports how it ended, a raw TCP client for hostile bytes,
// and a bounded poll.
import net from 'node:net'
import mc from 'minecraft-protocol'

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
