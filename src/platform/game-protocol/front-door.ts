// The Minecraft front door: a TCP listener that reads each connection's handshake and, as `decide` says,
// pipes it to the game (bytes read so far replayed), answers for a sleeping game (a server-list ping gets
// the sleeping MOTD; a login wakes the game and is held until it answers, then piped), or refuses it.
// The agent runs one on a sleeping game's port (process-level sleep); the gateway runs one for every
// GameServer, routing by the handshake's host name (container-level sleep).
//
// Expected flow, per connection:
//   1. accepted (or closed at once beyond maxConnections or when admit refuses it); the handshake must arrive within
//      handshakeTimeoutMs and fit MAX_HANDSHAKE_BYTES; a pre-1.7 ping (0xFE) gets the legacy answer;
//   2. decide(handshake) (bounded by handshakeTimeoutMs; a throw or a timeout closes the connection);
//   3. proxy, sleeping or refuse, as FrontDoorDecision documents.
// Guarantees: `wake` is called once per held login; a held client is sent nothing until it is piped or
// told `retryMessage`; at most MAX_BUFFERED_BYTES are buffered per client before it is piped; every socket
// (client and backend) is destroyed on every path, and `connections` counts clients until their socket
// closes. stopListening() only stops accepting (connections live on, so the agent can hand the port back
// to the game); close() also destroys every connection.
// Assumptions: no compression or encryption before login completes (true of every version since 1.7).
import net, { type AddressInfo, type Socket } from 'node:net'
import {
  MAX_HANDSHAKE_BYTES,
  MinecraftProtocolError,
  parseHandshake,
  readPacket,
  writeLegacyPingAnswer,
  writeLoginDisconnect,
  writePong,
  writeStatusResponse,
} from './minecraft.ts'
import type { Backend, FrontDoorDecision, FrontDoorOptions, MinecraftHandshake } from './types.ts'

export const DEFAULT_HOLD_TIMEOUT_MS = 25_000
export const MAX_HOLD_TIMEOUT_MS = 60_000
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000
export const DEFAULT_MAX_CONNECTIONS = 1024
/** What a client may send before it is piped (handshake + login start, with 1.19's signature data, fit easily). */
export const MAX_BUFFERED_BYTES = 16 * 1024
/** A status-state packet (request or ping) is tiny. */
const MAX_STATUS_PACKET_BYTES = 64
/** After the last answer, how long a client may take to close before it is destroyed. */
const LINGER_MS = 2_000

export interface MinecraftFrontDoor {
  listen(port: number, host?: string): Promise<AddressInfo>
  /** Stops accepting; held and proxied connections live on. */
  stopListening(): Promise<void>
  /** Stops accepting and destroys every connection; resolves once every client socket has closed. */
  close(): Promise<void>
  /** Client connections open now. */
  readonly connections: number
  /** Logins held now, waiting for a wake. */
  readonly held: number
}

export function createMinecraftFrontDoor(options: FrontDoorOptions): MinecraftFrontDoor {
  const holdTimeoutMs = Math.min(options.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS, MAX_HOLD_TIMEOUT_MS)
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  const open = new Set<Socket>()
  let held = 0
  let server: net.Server | undefined

  const handle = (client: Socket): void => {
    if (open.size >= maxConnections || options.admit?.(client) === false) {
      client.destroy()
      return
    }
    open.add(client)
    const connection = new Connection(client, options, { holdTimeoutMs, handshakeTimeoutMs })
    connection.onHeld = (delta) => {
      held += delta
    }
    client.once('close', (hadError) => {
      open.delete(client)
      connection.dispose(hadError)
    })
    connection.start()
  }

  const stopListening = (): Promise<void> => {
    const listening = server
    server = undefined
    if (listening === undefined) return Promise.resolve()
    // net.Server#close's callback waits for every connection; the listening socket itself is closed now.
    listening.close()
    return new Promise((resolve) => setImmediate(resolve))
  }

  return {
    listen(port, host) {
      if (server !== undefined) return Promise.reject(new Error('the front door is already listening'))
      const listening = net.createServer({ allowHalfOpen: true, noDelay: true }, handle)
      server = listening
      return new Promise((resolve, reject) => {
        listening.once('error', (error) => {
          if (server === listening) server = undefined
          reject(error)
        })
        listening.listen(port, host, () => {
          // Later errors are accept failures (EMFILE and the like): the listener stays, the client is gone.
          listening.on('error', () => {})
          resolve(listening.address() as AddressInfo)
        })
      })
    },
    stopListening,
    async close() {
      await stopListening()
      const closed = [...open].map((socket) => new Promise((resolve) => socket.once('close', resolve)))
      for (const socket of open) socket.destroy()
      await Promise.all(closed)
    },
    get connections() {
      return open.size
    },
    get held() {
      return held
    },
  }
}

/**
 * A pre-1.7 ping starts with 0xFE (1.3: FE; 1.4–1.5: FE 01; 1.6: FE 01 FA …). A modern frame of 254 bytes
 * also starts FE 01, but is followed by packet id 0x00, never 0xFA.
 */
function isLegacyPing(buffered: Buffer): boolean {
  if (buffered[0] !== 0xfe) return false
  return buffered.length < 3 || buffered[1] !== 0x01 || buffered[2] === 0xfa
}

/** Ends a socket (flushing what is queued) and destroys it if its peer has not closed within LINGER_MS. */
function endThenDestroy(socket: Socket): void {
  if (socket.destroyed) return
  socket.end()
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  socket.once('close', () => clearTimeout(timer))
}

interface Limits {
  holdTimeoutMs: number
  handshakeTimeoutMs: number
}

/** One client connection through its phases: handshake → decide → proxy | status | held login | refused login. */
class Connection {
  readonly client: Socket
  readonly options: FrontDoorOptions
  readonly limits: Limits
  onHeld: (delta: number) => void = () => {}
  /** Everything the client sent that is not piped yet (replayed to a backend). */
  buffered = Buffer.alloc(0)
  /** Where in `buffered` the current phase reads from. */
  consumed = 0
  handshake: MinecraftHandshake | undefined
  phase: 'handshake' | 'deciding' | 'status' | 'held' | 'connecting' | 'piped' | 'closing' = 'handshake'
  statusDecision: { motd: string; maxPlayers: number } | undefined
  /** One Status Response per connection (a repeated request is a protocol error, not a reason to amplify). */
  statusAnswered = false
  timer: NodeJS.Timeout | undefined
  backend: Socket | undefined
  isHeld = false
  disposed = false

  constructor(client: Socket, options: FrontDoorOptions, limits: Limits) {
    this.client = client
    this.options = options
    this.limits = limits
  }

  start(): void {
    this.client.on('error', () => this.client.destroy())
    this.client.on('end', () => this.onClientEnd())
    this.client.on('data', (chunk: Buffer) => this.onData(chunk))
    this.arm(this.limits.handshakeTimeoutMs)
  }

  /** The client closed: its backend goes too (gracefully when the client closed cleanly, so nothing in flight is cut). */
  dispose(hadError: boolean): void {
    if (this.disposed) return
    this.disposed = true
    clearTimeout(this.timer)
    this.setHeld(false)
    if (this.backend === undefined) return
    if (hadError || this.phase !== 'piped') this.backend.destroy()
    else endThenDestroy(this.backend)
  }

  arm(ms: number, onTimeout: () => void = () => this.client.destroy()): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(onTimeout, ms)
  }

  setHeld(held: boolean): void {
    if (held === this.isHeld) return
    this.isHeld = held
    this.onHeld(held ? 1 : -1)
  }

  onClientEnd(): void {
    // A client that half-closes before its handshake, while held, or after our last answer is gone. While
    // deciding, connecting or in a status exchange it may still be owed an answer (timers bound those);
    // once piped, the pipe passes the half-close on.
    if (this.phase === 'handshake' || this.phase === 'held' || this.phase === 'closing') this.client.destroy()
  }

  onData(chunk: Buffer): void {
    if (this.phase === 'piped' || this.phase === 'closing') return
    if (this.buffered.length + chunk.length > MAX_BUFFERED_BYTES) {
      this.client.destroy()
      return
    }
    this.buffered = Buffer.concat([this.buffered, chunk])
    this.readBuffered()
  }

  /** Parses what the current phase reads; garbage from the client (or anything unexpected) closes it. */
  readBuffered(): void {
    try {
      if (this.phase === 'handshake') this.readHandshake()
      else if (this.phase === 'status') this.readStatus()
    } catch {
      this.client.destroy()
    }
  }

  readHandshake(): void {
    if (isLegacyPing(this.buffered)) {
      // A pre-1.7 server-list ping: it carries no usable host name, so it gets a generic answer.
      this.finish(writeLegacyPingAnswer({ version: 'Minecraft 1.7+', motd: 'This server needs Minecraft 1.7 or newer', online: 0, max: 0 }))
      return
    }
    const packet = readPacket(this.buffered, MAX_HANDSHAKE_BYTES)
    if (packet === undefined) return
    this.handshake = parseHandshake(packet.value)
    this.consumed = packet.size
    this.phase = 'deciding'
    this.arm(this.limits.handshakeTimeoutMs)
    let decision: Promise<FrontDoorDecision>
    try {
      decision = Promise.resolve(this.options.decide(this.handshake, this.client))
    } catch (error) {
      decision = Promise.reject(error)
    }
    decision.then(
      (decided) => {
        if (this.disposed) return
        try {
          this.act(decided)
        } catch {
          // A decision that is not one (or a backend net.connect refuses synchronously, e.g. port 70000).
          this.client.destroy()
        }
      },
      () => this.client.destroy(),
    )
  }

  act(decision: FrontDoorDecision): void {
    const handshake = this.handshake!
    clearTimeout(this.timer)
    if (decision?.action === 'proxy') {
      this.pipeTo(decision.backend, undefined)
    } else if (decision?.action !== 'sleeping' && decision?.action !== 'refuse') {
      throw new Error('decide returned no known action')
    } else if (handshake.nextState === 1) {
      const motd = decision.action === 'sleeping' ? decision.motd : decision.message
      const maxPlayers = decision.action === 'sleeping' ? (decision.maxPlayers ?? 0) : 0
      this.statusDecision = { motd, maxPlayers }
      this.phase = 'status'
      this.arm(this.limits.handshakeTimeoutMs)
      // The status request often came in the handshake's segment: read what is buffered already.
      this.readBuffered()
    } else if (decision.action === 'refuse') {
      this.finish(writeLoginDisconnect(decision.message))
    } else if (decision.wake === undefined) {
      this.finish(writeLoginDisconnect(decision.retryMessage))
    } else {
      this.hold(decision.wake, decision.retryMessage)
    }
  }

  /** A status exchange: Status Request → Status Response, Ping → Pong (then the exchange is over). */
  readStatus(): void {
    for (;;) {
      const packet = readPacket(this.buffered.subarray(this.consumed), MAX_STATUS_PACKET_BYTES)
      if (packet === undefined) return
      this.consumed += packet.size
      const { id, payload } = packet.value
      if (id === 0x00 && payload.length === 0 && !this.statusAnswered) {
        this.statusAnswered = true
        const status = this.statusDecision!
        this.client.write(
          writeStatusResponse({
            version: { name: 'zlh', protocol: this.handshake!.protocolVersion },
            players: { max: status.maxPlayers, online: 0, sample: [] },
            description: { text: status.motd },
          }),
        )
      } else if (id === 0x01 && payload.length === 8) {
        this.finish(writePong(payload))
        return
      } else {
        throw new MinecraftProtocolError(`unexpected status packet 0x${id.toString(16)}`)
      }
    }
  }

  /** Holds a login (nothing sent) while `wake` runs; pipes it when the game answers, else tells it to retry. */
  hold(wake: () => Promise<Backend | undefined>, retryMessage: string): void {
    this.phase = 'held'
    this.setHeld(true)
    const giveUp = (): void => {
      if (this.phase !== 'held') return
      this.setHeld(false)
      this.finish(writeLoginDisconnect(retryMessage))
    }
    this.arm(this.limits.holdTimeoutMs, giveUp)
    let woken: Promise<Backend | undefined>
    try {
      woken = Promise.resolve(wake())
    } catch (error) {
      woken = Promise.reject(error)
    }
    woken.then(
      (backend) => {
        if (this.disposed || this.phase !== 'held') return
        if (backend === undefined) {
          giveUp()
          return
        }
        this.setHeld(false)
        try {
          this.pipeTo(backend, retryMessage)
        } catch {
          this.phase = 'held'
          giveUp()
        }
      },
      () => giveUp(),
    )
  }

  /**
   * Connects the backend, replays every byte the client sent, then pipes both ways with half-close.
   * If the backend cannot be reached, a held login is told `retryMessage`; anything else is closed.
   */
  pipeTo(target: Backend, retryMessage: string | undefined): void {
    this.phase = 'connecting'
    this.arm(this.limits.handshakeTimeoutMs, () => fail())
    const backend = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true })
    this.backend = backend
    const fail = (): void => {
      backend.destroy()
      if (this.phase !== 'connecting') return
      if (retryMessage !== undefined) this.finish(writeLoginDisconnect(retryMessage))
      else this.client.destroy()
    }
    backend.once('error', fail)
    backend.once('connect', () => {
      if (this.disposed) {
        backend.destroy()
        return
      }
      clearTimeout(this.timer)
      backend.removeListener('error', fail)
      this.phase = 'piped'
      backend.on('error', () => backend.destroy())
      backend.on('close', (hadError) => (hadError ? this.client.destroy() : endThenDestroy(this.client)))
      backend.write(this.buffered)
      this.buffered = Buffer.alloc(0)
      this.client.pipe(backend)
      backend.pipe(this.client)
      // The client may have half-closed while we connected: 'end' already fired, so pass it on.
      if (this.client.readableEnded) backend.end()
    })
  }

  /** Sends a last answer, half-closes, and destroys the client if it does not close within LINGER_MS. */
  finish(last: Buffer): void {
    this.phase = 'closing'
    this.arm(LINGER_MS)
    this.client.end(last)
  }
}
