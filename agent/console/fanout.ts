// Fan-out of one console's output to any number of WebSocket viewers, with flood throttling and
// per-viewer backpressure.
//
// Guarantees:
//  - Memory per viewer is bounded: a viewer whose unsent bytes (ws.bufferedAmount: the socket's
//    write queue plus ws's own) pass `maxBufferedBytes` is terminated; it cannot make the agent
//    hold more than that (plus one message) for it. Other viewers are unaffected.
//  - Output floods are throttled at the source like Wings does: at most `bytesPerWindow` per
//    `windowMs` go out; the rest is dropped and viewers get one {type:'throttled'} notice per
//    window. (The full output is still in the game log file.)
// Assumptions: messages are JSON text frames (ConsoleServerMessage).
import { StringDecoder } from 'node:string_decoder'
import type { WebSocket } from 'ws'
import type { ConsoleServerMessage } from '../../src/api/agent-game-types.ts'

export interface FanoutOptions {
  maxBufferedBytes?: number
  bytesPerWindow?: number
  windowMs?: number
  /** Called when a viewer is cut off for not reading. */
  onSlowViewer?: (buffered: number) => void
}

export class ConsoleFanout {
  private readonly viewers = new Set<WebSocket>()
  private readonly decoder = new StringDecoder('utf8')
  private readonly maxBuffered: number
  private readonly budget: number
  private readonly windowMs: number
  private readonly onSlowViewer: ((buffered: number) => void) | undefined
  private windowStart = 0
  private sentInWindow = 0
  private dropped = 0
  private noticeTimer: NodeJS.Timeout | null = null
  /** Largest backlog any viewer reached (for tests and metrics). */
  peakBuffered = 0
  slowViewersDropped = 0

  constructor(opts: FanoutOptions = {}) {
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024
    this.budget = opts.bytesPerWindow ?? 256 * 1024
    this.windowMs = opts.windowMs ?? 250
    this.onSlowViewer = opts.onSlowViewer
  }

  get size(): number {
    return this.viewers.size
  }

  add(ws: WebSocket): void {
    this.viewers.add(ws)
    ws.once('close', () => this.viewers.delete(ws))
  }

  /** Sends a control message (history, state, exit) to every viewer, unthrottled. */
  broadcast(msg: ConsoleServerMessage): void {
    const text = JSON.stringify(msg)
    for (const ws of this.viewers) this.sendTo(ws, text)
  }

  /** Sends to one viewer, unthrottled (e.g. history on join). */
  send(ws: WebSocket, msg: ConsoleServerMessage): void {
    this.sendTo(ws, JSON.stringify(msg))
  }

  /** Raw console output: decoded as UTF-8 across chunk borders, throttled, then fanned out. */
  output(chunk: Buffer | string): void {
    const data = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    if (!data) return
    const now = Date.now()
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now
      this.sentInWindow = 0
    }
    const room = this.budget - this.sentInWindow
    if (room <= 0) {
      this.drop(data.length)
      return
    }
    const part = data.length > room ? data.slice(0, room) : data
    if (part.length < data.length) this.drop(data.length - part.length)
    this.sentInWindow += part.length
    if (this.viewers.size === 0) return
    this.broadcast({ type: 'output', data: part })
  }

  private drop(n: number): void {
    this.dropped += n
    if (this.noticeTimer) return
    this.noticeTimer = setTimeout(() => {
      this.noticeTimer = null
      const droppedBytes = this.dropped
      this.dropped = 0
      if (droppedBytes > 0) this.broadcast({ type: 'throttled', droppedBytes })
    }, this.windowMs)
    this.noticeTimer.unref()
  }

  private sendTo(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return
    const buffered = ws.bufferedAmount
    if (buffered > this.peakBuffered) this.peakBuffered = buffered
    if (buffered > this.maxBuffered) {
      this.viewers.delete(ws)
      this.slowViewersDropped++
      this.onSlowViewer?.(buffered)
      // The peer is not reading, so a close handshake would sit in the same full queue: cut it.
      ws.terminate()
      return
    }
    ws.send(text)
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.viewers) ws.close(code, reason)
    this.viewers.clear()
    if (this.noticeTimer) clearTimeout(this.noticeTimer)
    this.noticeTimer = null
  }
}

/** Parses a client message; null for anything malformed (ignored, never fatal). */
export function parseClientMessage(raw: unknown): { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number } | null {
  let msg: unknown
  try {
    msg = JSON.parse(String(raw))
  } catch {
    return null
  }
  if (typeof msg !== 'object' || msg === null) return null
  const m = msg as Record<string, unknown>
  if (m.type === 'input' && typeof m.data === 'string' && m.data.length <= 64 * 1024) return { type: 'input', data: m.data }
  if (
    m.type === 'resize' &&
    Number.isInteger(m.cols) &&
    Number.isInteger(m.rows) &&
    (m.cols as number) > 0 &&
    (m.rows as number) > 0 &&
    (m.cols as number) <= 1000 &&
    (m.rows as number) <= 1000
  ) {
    return { type: 'resize', cols: m.cols as number, rows: m.rows as number }
  }
  return null
}
