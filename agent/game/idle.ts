// The idle clock of a running game: the players its probe last reported, since when nobody has
// been online, and whether the game should go to sleep (spec.idle, level process) — pure state, fed
// by the health loop's answers; the supervisor acts on it.
//
// Guarantees: `idleSince` is set only while the players are known and 0 are online, and cleared
// when someone joins, when the players become unknown, or when the run ends (reset()).
// `observe` says whether what a watcher shows changed (online/max, known/unknown), so the state
// stream fires on a join or leave, not on every probe.
import type { EffectiveGameSpec, GameStatus, PlayersStatus } from '../../src/api/agent-game-types.ts'
import type { ProbeAnswer } from '../../src/platform/game-protocol/types.ts'
import { reportsPlayers } from './health.ts'

export class IdleClock {
  #players: PlayersStatus | null = null
  #idleSince: number | null = null

  /** Records one probe answer at `now`; true when online/max or known/unknown changed. */
  observe(answer: ProbeAnswer, now: number): boolean {
    const before = this.#players
    const p = answer.players
    if (!p) {
      this.#players = null
      this.#idleSince = null
      return before !== null
    }
    this.#players = {
      online: p.online,
      max: p.max,
      ...(p.sample ? { sample: p.sample.slice(0, 12).map((s) => ({ name: s.name, ...(s.id ? { id: s.id } : {}) })) } : {}),
      ...(p.version !== undefined ? { version: p.version } : {}),
      ...(p.motd !== undefined ? { motd: p.motd } : {}),
      observedTime: new Date(now).toISOString(),
    }
    if (p.online > 0) this.#idleSince = null
    else if (this.#idleSince === null) this.#idleSince = now
    return before === null || before.online !== p.online || before.max !== p.max
  }

  /** The run ended: players unknown again. */
  reset(): void {
    this.#players = null
    this.#idleSince = null
  }

  get players(): PlayersStatus | null {
    return this.#players
  }

  get idleSince(): number | null {
    return this.#idleSince
  }

  /** Whether the game has been idle long enough to sleep at process level under `spec`. */
  shouldSleep(spec: EffectiveGameSpec | null, now: number): boolean {
    if (!spec?.idle) return false
    const idle = spec.idle
    if (idle.level !== 'process' || !reportsPlayers(spec.health.probe)) return false
    return this.#idleSince !== null && now - this.#idleSince >= idle.stopAfterSeconds * 1000
  }
}

/** Why a spec with spec.idle can never sleep, in words; null when it can (or has no idle). */
export function idleBlockedMessage(spec: EffectiveGameSpec | null): string | null {
  if (!spec?.idle || reportsPlayers(spec.health.probe)) return null
  return `spec.idle is set but health.probe is ${spec.health.probe}, which reports no players: the server never sleeps; use probe minecraft or a2s`
}

/** The sleep record of a game put to sleep at `now`. */
export function sleepRecord(spec: EffectiveGameSpec, now: number, reason: string): NonNullable<GameStatus['sleep']> {
  return { since: new Date(now).toISOString(), wake: spec.idle?.wake ?? 'onConnect', reason }
}

/** The MOTD a sleeping server shows on a server-list ping: the game's own, then the state. Short. */
export function sleepingMotd(gameMotd: string | null | undefined, wake: 'onConnect' | 'never'): string {
  const base = (gameMotd ?? '').replace(/\s+/g, ' ').trim().slice(0, 60)
  const state = wake === 'onConnect' ? 'sleeping, join to wake' : 'sleeping'
  return base ? `${base} — ${state}` : `A Minecraft server — ${state}`
}
