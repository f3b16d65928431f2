// The game's health probe loop: asks the game on 127.0.0.1:<health.port> every periodSeconds,
// with the kind of probe the spec names (minecraft server-list ping, a2s, tcp), and tells the
// supervisor what it learnt (players) and when the game is hung (failureThreshold failures in a row).
//
// Expected flow:
//  1. The supervisor starts one loop per run once the game process is up, and stops it when the run ends.
//  2. Each tick runs one probe bounded by timeoutSeconds (on the loop's clock as well as inside the probe),
//     then schedules the next tick periodSeconds later: never two probes or two timers at once.
//  3. A failure counts once the game has answered once, or initialDelaySeconds after the run started.
//     failureThreshold counted failures in a row → onUnresponsive, once; the loop then stops by itself.
// Guarantees: after stop() no probe starts and no callback runs (an in-flight probe is aborted and
// its answer ignored); no timer is left on the clock.
// Assumptions: probe 'none' is handled by the caller (it never starts a loop).
import type { EffectiveGameSpec, HealthStatus } from '../../src/api/agent-game-types.ts'
import type { Clock, TimerHandle } from '../../src/platform/clock.ts'
import type { ProbeAnswer, ProbeKind, ProbeTarget } from '../../src/platform/game-protocol/types.ts'

/** Asks a game once; rejects with an Error saying what failed. */
export type GameProbe = (target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeAnswer>

export interface HealthLoopHandlers {
  /** Every answered probe. */
  onAnswer(answer: ProbeAnswer): void
  /** Whether the game answers flipped (first answer, first failure after answers). */
  onHealthChange(): void
  /** failureThreshold counted failures in a row; called once, then the loop is stopped. */
  onUnresponsive(failures: number, lastError: string): void
}

export interface HealthLoopOptions {
  clock: Clock
  probe: GameProbe
  health: EffectiveGameSpec['health']
  /** When the run started, on `clock`. */
  startedAt: number
  handlers: HealthLoopHandlers
  host?: string
}

/** Whether a probe kind reports players (and so can drive the idle clock). */
export function reportsPlayers(probe: EffectiveGameSpec['health']['probe']): probe is 'minecraft' | 'a2s' {
  return probe === 'minecraft' || probe === 'a2s'
}

/** The probe target of a spec's health section, or null for probe 'none'. */
export function probeTarget(health: EffectiveGameSpec['health'], host = '127.0.0.1'): ProbeTarget | null {
  if (health.probe === 'none') return null
  return { kind: health.probe as ProbeKind, host, port: health.port, timeoutMs: health.timeoutSeconds * 1000 }
}

export class HealthProbeLoop {
  readonly #opts: HealthLoopOptions
  readonly #target: ProbeTarget
  #timer: TimerHandle | null = null
  #inflight: AbortController | null = null
  #stopped = false
  #answeredOnce = false
  #record: HealthStatus

  constructor(opts: HealthLoopOptions) {
    const target = probeTarget(opts.health, opts.host)
    if (!target) throw new Error('a health loop needs a probe other than none')
    this.#opts = opts
    this.#target = target
    this.#record = {
      probe: opts.health.probe,
      ok: false,
      lastProbeTime: null,
      lastSuccessTime: null,
      consecutiveFailures: 0,
    }
  }

  /** Schedules the first probe periodSeconds from now. */
  start(): void {
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#opts.clock.clearTimer(this.#timer)
    this.#timer = null
    this.#inflight?.abort(new Error('the health probe was stopped'))
    this.#inflight = null
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** The probe's record (a copy). */
  status(): HealthStatus {
    return { ...this.#record }
  }

  /** When the game last answered (on the loop's clock), or null. */
  get lastSuccessAt(): number | null {
    return this.#record.lastSuccessTime === null ? null : Date.parse(this.#record.lastSuccessTime)
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = this.#opts.clock.setTimer(() => {
      this.#timer = null
      void this.#tick()
    }, this.#opts.health.periodSeconds * 1000)
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return
    const { clock } = this.#opts
    const controller = new AbortController()
    this.#inflight = controller
    const timeoutMs = this.#target.timeoutMs
    let timeout: TimerHandle | null = null
    const timedOut = new Promise<never>((_, reject) => {
      timeout = clock.setTimer(() => {
        const err = new Error(`no answer within ${timeoutMs} ms`)
        reject(err)
        controller.abort(err)
      }, timeoutMs)
    })
    let answer: ProbeAnswer | null = null
    let error = ''
    try {
      answer = await Promise.race([this.#opts.probe(this.#target, controller.signal), timedOut])
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    } finally {
      if (timeout) clock.clearTimer(timeout)
    }
    if (this.#stopped || this.#inflight !== controller) return
    this.#inflight = null
    const now = new Date(clock.now()).toISOString()
    const wasOk = this.#record.ok
    this.#record.lastProbeTime = now
    if (answer) {
      this.#answeredOnce = true
      this.#record = { ...this.#record, ok: true, lastSuccessTime: now, consecutiveFailures: 0 }
      delete this.#record.lastError
      if (!wasOk) this.#opts.handlers.onHealthChange()
      this.#opts.handlers.onAnswer(answer)
      this.#schedule()
      return
    }
    const counts = this.#answeredOnce || clock.now() - this.#opts.startedAt >= this.#opts.health.initialDelaySeconds * 1000
    this.#record = {
      ...this.#record,
      ok: false,
      lastError: error || 'the probe failed',
      consecutiveFailures: counts ? this.#record.consecutiveFailures + 1 : 0,
    }
    if (wasOk) this.#opts.handlers.onHealthChange()
    if (this.#record.consecutiveFailures >= this.#opts.health.failureThreshold) {
      this.stop()
      this.#opts.handlers.onUnresponsive(this.#record.consecutiveFailures, this.#record.lastError ?? '')
      return
    }
    this.#schedule()
  }
}

/**
 * Probes `target` until it answers or `withinMs` passes (a waking game: the held login is let in as
 * soon as the game answers); between tries `retryMs`. Resolves whether it answered; `stillWorth`
 * false ends the wait early (e.g. the game exited).
 */
export async function waitUntilAnswering(
  probe: GameProbe,
  target: ProbeTarget,
  withinMs: number,
  stillWorth: () => boolean = () => true,
  retryMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline && stillWorth()) {
    try {
      await probe({ ...target, timeoutMs: Math.min(target.timeoutMs, Math.max(1, deadline - Date.now())) })
      return true
    } catch {
      await new Promise((resolve) => setTimeout(resolve, retryMs))
    }
  }
  return false
}
