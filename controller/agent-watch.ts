// One subscription to each container agent's state stream (GET /events): every state change
// (game crash, restart, code-server health, install progress) asks for a reconcile of the
// server (setup.ts feeds these keys to the controller's reconcileOn trigger source), which then
// reads the agent and mirrors it into status. The stream only wakes the
// reconciler up; status is always computed from a fresh read (level-based), so a missed or
// merged event costs nothing but latency (the periodic resync covers a dead stream).
// Guarantees: at most one subscription per server key; a changed agent URL or token replaces it;
// stopAll() ends every stream. Tokens are held in memory only.
import type { Logger } from 'pino'
import { AgentClient } from '../src/agent-client/index.ts'
import type { Clock } from '../src/runtime/index.ts'

interface Watch {
  url: string
  tokenId: string
  abort: AbortController
}

export class AgentWatches {
  readonly #watches = new Map<string, Watch>()
  readonly #enqueue: (key: string) => void
  readonly #log: Logger
  readonly #clock: Clock

  constructor(enqueue: (key: string) => void, log: Logger, clock: Clock) {
    this.#enqueue = enqueue
    this.#log = log
    this.#clock = clock
  }

  ensure(key: string, baseUrl: string, token: string): void {
    const tokenId = token.slice(0, 8) + token.length
    const existing = this.#watches.get(key)
    if (existing && existing.url === baseUrl && existing.tokenId === tokenId) return
    existing?.abort.abort()
    const abort = new AbortController()
    this.#watches.set(key, { url: baseUrl, tokenId, abort })
    const client = new AgentClient({ baseUrl, token })
    void (async () => {
      let last = 0
      try {
        for await (const ev of client.events({ signal: abort.signal, reconnectDelayMs: 250, maxReconnectDelayMs: 5000 })) {
          // Install progress can be chatty: a reconcile at most every 200 ms is plenty.
          const now = this.#clock.now()
          if (ev.type === 'state' && ev.data.component === 'runtimes' && now - last < 200) continue
          last = now
          this.#enqueue(key)
        }
      } catch (err) {
        if (!abort.signal.aborted)
          this.#log.warn({ server: key, err: (err as Error).message }, 'agent state stream ended; relying on periodic resync')
      }
    })()
  }

  stop(key: string): void {
    this.#watches.get(key)?.abort.abort()
    this.#watches.delete(key)
  }

  stopAll(): void {
    for (const w of this.#watches.values()) w.abort.abort()
    this.#watches.clear()
  }
}
