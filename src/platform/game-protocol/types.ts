// The contract of the game-protocol module: health probes that speak a game's own query protocol
// (Minecraft server-list ping, Source A2S_INFO, plain TCP), and the Minecraft "front door" that owns a
// game port while the game sleeps or routes connections by the handshake's host name. The agent
// (process-level sleep, health checks) and the gateway (Minecraft routing, container-level wake) both
// use it, so it lives in the platform leaf: it imports nothing of ours.
import type { Socket } from 'node:net'

export type ProbeKind = 'minecraft' | 'a2s' | 'tcp'

export interface ProbeTarget {
  kind: ProbeKind
  host: string
  port: number
  timeoutMs: number
}

/** What one successful probe learnt. `players` only from probes whose protocol reports them. */
export interface ProbeAnswer {
  latencyMs: number
  players?: {
    online: number
    max: number
    sample?: { name: string; id?: string }[]
    version?: string
    /** Plain text: formatting codes and JSON chat components flattened. */
    motd?: string
  }
}

/** A Minecraft handshake (packet 0x00 of state handshaking), as the client sent it. */
export interface MinecraftHandshake {
  protocolVersion: number
  /** The host name the client typed, without Forge's `\0FML\0` marker or a trailing dot. */
  host: string
  port: number
  /** 1 status (server-list ping), 2 login, 3 transfer (1.20.5+, treated as login). */
  nextState: 1 | 2 | 3
}

/** Where a game answers. */
export interface Backend {
  host: string
  port: number
}

/** What the front door does with one connection, decided from its handshake. */
export type FrontDoorDecision =
  /** Pipe the connection to the backend, replaying the bytes read so far. */
  | { action: 'proxy'; backend: Backend }
  /**
   * The game sleeps: a ping gets `motd` (and players 0/maxPlayers); a login calls `wake` (when present) and
   * the client is held until it resolves with the backend (then proxied, bytes replayed) or until the hold
   * times out or `wake` resolves undefined (then told `retryMessage`). Without `wake`, a login is told
   * `retryMessage` at once.
   */
  | {
      action: 'sleeping'
      motd: string
      maxPlayers?: number
      wake?: () => Promise<Backend | undefined>
      retryMessage: string
    }
  /** No such server: a ping gets `message` as its MOTD, a login is disconnected with it. */
  | { action: 'refuse'; message: string }

export interface FrontDoorOptions {
  decide(handshake: MinecraftHandshake, client: Socket): FrontDoorDecision | Promise<FrontDoorDecision>
  /** How long a login may be held while the game wakes; default 25 s (lazymc's figure), at most 60 s. */
  holdTimeoutMs?: number
  /** A client must send its handshake within this; default 5 s. */
  handshakeTimeoutMs?: number
  /** Concurrent connections beyond this are closed at accept; default 1024. */
  maxConnections?: number
  /** Called at accept, before anything is read (per-client limits); false closes the connection at once. */
  admit?(client: Socket): boolean
}
