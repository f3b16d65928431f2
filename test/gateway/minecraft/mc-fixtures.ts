// Test fixtures for the Minecraft router: a real `minecraft-protocol` server as a game backend (on
// loopback, offline mode, counting joins and connections), and real `minecraft-protocol` ping and login
// clients that connect to 127.0.0.1 while their handshake names any host (as a player's DNS would).

import { connect, type AddressInfo, type Socket } from 'node:net'
import mc from 'minecraft-protocol'

export const MC_VERSION = '1.21.4'

export interface GameBackend {
  port: number
  /** Player names that completed login on this backend, in order. */
  joins: string[]
  /** TCP connections this backend accepted. */
  connections(): number
  /** Resolves at the next join. */
  nextJoin(): Promise<string>
  close(): Promise<void>
}

export async function startGameBackend(motd: string): Promise<GameBackend> {
  const server = mc.createServer({
    'online-mode': false,
    host: '127.0.0.1',
    port: 0,
    version: MC_VERSION,
    motd,
    maxPlayers: 7,
  } as mc.ServerOptions)
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  const joins: string[] = []
  const waiters: Array<(name: string) => void> = []
  let accepted = 0
  const sockets = new Set<Socket>()
  const tcp = (server as unknown as { socketServer: import('node:net').Server }).socketServer
  tcp.on('connection', (s: Socket) => {
    accepted++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('playerJoin', (client) => {
    joins.push(client.username)
    for (const w of waiters.splice(0)) w(client.username)
  })
  return {
    port: (tcp.address() as AddressInfo).port,
    joins,
    connections: () => accepted,
    nextJoin: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      for (const s of sockets) s.destroy()
      server.close()
      await new Promise<void>((r) => (tcp.listening ? tcp.close(() => r()) : r()))
    },
  }
}

/** Where every client connects: the router on loopback. `host` is only what the handshake says. */
function via(routerPort: number) {
  return (client: mc.Client): void => client.setSocket(connect(routerPort, '127.0.0.1'))
}

export interface PingAnswer {
  description: unknown
  players: { online: number; max: number }
  version: { name: string; protocol: number }
}

/** A server-list ping through the router for `host`. */
export function ping(routerPort: number, host: string): Promise<PingAnswer> {
  return mc.ping({
    host,
    port: routerPort,
    version: MC_VERSION,
    closeTimeout: 10_000,
    connect: via(routerPort),
  } as unknown as mc.PingOptions) as Promise<PingAnswer>
}

/** The MOTD of a ping answer as plain text. */
export function motdText(answer: PingAnswer): string {
  const d = answer.description as string | { text?: string; extra?: Array<{ text?: string }> }
  if (typeof d === 'string') return d
  return `${d.text ?? ''}${(d.extra ?? []).map((e) => e.text ?? '').join('')}`
}

export type LoginOutcome = { joined: true; client: mc.Client } | { joined: false; reason: string }

/**
 * A login through the router for `host` as `username`; resolves once the backend saw the join (`joined`,
 * the caller ends the client) or the router/backend disconnected the client (its reason, as text).
 */
export function login(routerPort: number, host: string, username: string, backend?: GameBackend): Promise<LoginOutcome> {
  const client = mc.createClient({
    host,
    port: routerPort,
    username,
    auth: 'offline',
    version: MC_VERSION,
    connect: via(routerPort),
  } as unknown as mc.ClientOptions)
  return new Promise((resolve) => {
    let done = false
    const finish = (o: LoginOutcome): void => {
      if (done) return
      done = true
      if (!o.joined) client.end()
      resolve(o)
    }
    const joined = (name: string): void => {
      if (name === username) finish({ joined: true, client })
      else void backend?.nextJoin().then(joined)
    }
    void backend?.nextJoin().then(joined)
    client.on('disconnect', (p: { reason: string }) => finish({ joined: false, reason: textOf(p.reason) }))
    client.on('kick_disconnect', (p: { reason: string }) => finish({ joined: false, reason: textOf(p.reason) }))
    client.on('error', (err: Error) => finish({ joined: false, reason: `error: ${err.message}` }))
    client.on('end', (why: string) => finish({ joined: false, reason: `ended: ${why ?? ''}` }))
  })
}

function textOf(reason: unknown): string {
  if (typeof reason !== 'string') return JSON.stringify(reason)
  try {
    const j = JSON.parse(reason) as string | { text?: string; translate?: string }
    return typeof j === 'string' ? j : (j.text ?? j.translate ?? reason)
  } catch {
    return reason
  }
}
