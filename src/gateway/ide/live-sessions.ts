// The IDE sessions that have proxied WebSockets: which sockets each session holds, and when the
// browser last sent anything on one of them.
//
// Expected flow
// 1. An accepted upgrade is tracked under its session (`track`) before it is proxied.
// 2. Once the upstream answered 101, the returned `watchTraffic` makes every chunk the browser
//    sends count as use of that session (`inUse`): the proxy then accepts the session's cookie
//    past its signed expiry and renews it (see session-cookie.ts).
// 3. When a session ends (its DevServer was deleted or replaced, its portal token revoked), the
//    gateway calls `closeWhere` and each of its sockets is closed by `close` (the upstream side too).
//
// Guarantees: a socket is forgotten when it closes; a session's record is kept for `ttlMs` after
// its last traffic (so a WebSocket reconnecting shortly after a drop is still "in use"), then
// swept. Memory is bounded by open sockets plus sessions active within the last `ttlMs`.
// Caveats: in memory, per replica: after a gateway restart (which drops every WebSocket anyway)
// a session is in use again only once its cookie is valid or renewed by an HTTP request.

import type { Duplex } from 'node:stream'
import type { IdeSession } from './session-cookie.ts'

interface SessionRecord {
  session: IdeSession
  readonly sockets: Set<Duplex>
  lastActiveMs: number
}

export interface LiveSessionsOptions {
  /** How long after its last traffic a session counts as in use (the session lifetime). */
  ttlMs: number
  /** Closes one tracked socket (and whatever it is piped to). */
  close: (socket: Duplex) => void
  now?: () => number
}

const SWEEP_EVERY_MS = 60_000

export class LiveSessions {
  private readonly bySid = new Map<string, SessionRecord>()
  private readonly ttlMs: number
  private readonly close: (socket: Duplex) => void
  private readonly now: () => number
  private nextSweepAt = 0

  constructor(opts: LiveSessionsOptions) {
    this.ttlMs = opts.ttlMs
    this.close = opts.close
    this.now = opts.now ?? Date.now
  }

  /** Tracks `socket` under `session`; returns what to call once the WebSocket is open. */
  track(socket: Duplex, session: IdeSession): () => void {
    const now = this.now()
    this.sweep(now)
    let rec = this.bySid.get(session.sid)
    if (!rec) {
      rec = { session, sockets: new Set(), lastActiveMs: now }
      this.bySid.set(session.sid, rec)
    }
    rec.session = session
    rec.sockets.add(socket)
    const record = rec
    socket.once('close', () => record.sockets.delete(socket))
    // Attached only after the 101, when the proxy pipes the socket: a data listener switches the
    // stream to flowing mode, which must not happen before something consumes it.
    return () =>
      socket.on('data', () => {
        record.lastActiveMs = this.now()
      })
  }

  /** Whether the session `sid` had WebSocket traffic within the session lifetime. */
  inUse(sid: string): boolean {
    const rec = this.bySid.get(sid)
    return rec !== undefined && rec.lastActiveMs + this.ttlMs > this.now()
  }

  /** Closes every socket of each session `ended` says has ended; returns how many were closed. */
  closeWhere(ended: (session: IdeSession) => boolean): number {
    let closed = 0
    for (const [sid, rec] of this.bySid) {
      if (!ended(rec.session)) continue
      for (const socket of rec.sockets) {
        this.close(socket)
        closed++
      }
      rec.sockets.clear()
      this.bySid.delete(sid)
    }
    return closed
  }

  /** Open WebSockets tracked (for tests and leak checks). */
  get openSockets(): number {
    let n = 0
    for (const rec of this.bySid.values()) n += rec.sockets.size
    return n
  }

  private sweep(now: number): void {
    if (now < this.nextSweepAt) return
    this.nextSweepAt = now + SWEEP_EVERY_MS
    for (const [sid, rec] of this.bySid) {
      if (rec.sockets.size === 0 && rec.lastActiveMs + this.ttlMs <= now) this.bySid.delete(sid)
    }
  }
}
