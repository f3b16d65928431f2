// Part of a GameServer's observe: what its health probe learnt and whether the agent sleeps it.
//  - status.players: the agent's last players report (online, max, at most 12 of the sample,
//    version, MOTD, when it was read); removed while unknown (no probe that reports players, not
//    answered yet); the players metric follows it;
//  - status.sleep {level: process}: while the agent sleeps the game (state Sleeping); removed when it
//    is awake; Events Sleeping and Woke (saying what woke it);
//  - SleepReady: with spec.idle, whether the idle clock can run at all (the probe must report players;
//    tcp and none never do: False, and one Warning Event when that starts).
// Cheap: reads only what GET /game returned; no API calls.
import type { GameInfo, GameServerStatus, PlayersStatus } from '../../src/api/index.ts'
import { Reason } from '../condition-reasons.ts'
import type { GameServer } from '../kinds.ts'
import type { GameRun } from './run-game.ts'
import type { Installed } from './scope.ts'
import { processSleepOf, wokenBy } from './sleep.ts'

/** The most players of the sample kept in status (the CRD's limit). */
export const PLAYER_SAMPLE_MAX = 12

/** A count as the CRD takes it (an integer ≥ 0), else undefined. */
const count = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) ? Math.max(0, Math.floor(n)) : undefined)
/** A string cut to the CRD's maxLength (in code points, so no half surrogate), else undefined. */
const text = (v: unknown, max: number): string | undefined => (typeof v === 'string' ? [...v].slice(0, max).join('') : undefined)

/**
 * status.players from the agent's report; undefined while the players are unknown. What the game
 * reports is untrusted: every field is bounded to the CRD's limits (a name a server invents cannot
 * make the status write fail), a report without counts is unknown.
 */
export function playersStatusOf(players: PlayersStatus | null | undefined, now: number): GameServerStatus['players'] {
  if (players === null || players === undefined || typeof players !== 'object') return undefined
  const online = count(players.online)
  const max = count(players.max)
  if (online === undefined || max === undefined) return undefined
  const sample = Array.isArray(players.sample)
    ? players.sample.slice(0, PLAYER_SAMPLE_MAX).map((p) => {
        const id = text(p?.id, 64)
        return { name: text(p?.name, 64) ?? '', ...(id !== undefined ? { id } : {}) }
      })
    : undefined
  const version = text(players.version, 256)
  const motd = text(players.motd, 1024)
  const observed = typeof players.observedTime === 'string' ? Date.parse(players.observedTime) : Number.NaN
  return {
    online,
    max,
    ...(sample !== undefined ? { sample } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(motd !== undefined ? { motd } : {}),
    observedTime: new Date(Number.isNaN(observed) ? now : observed).toISOString(),
  }
}

/** Whether the probe the game runs with reports players (minecraft, a2s). */
export function probeReportsPlayers(wanted: Pick<NonNullable<GameInfo['spec']>, 'health'>): boolean {
  return wanted.health.probe === 'minecraft' || wanted.health.probe === 'a2s'
}

export function observePlayersAndSleep(s: Installed<GameServer, GameServerStatus>, ran: GameRun): void {
  const { deps, obj: gs } = s
  const { status, conds, prev } = s.out
  const { info, wanted } = ran

  status.players = playersStatusOf(info.state === 'Running' ? info.players : null, deps.clock.now())
  deps.metrics.setPlayers(gs.metadata.namespace as string, gs.metadata.name as string, status.players?.online)

  status.sleep = processSleepOf(info)
  if (status.sleep !== undefined && prev.sleep === undefined) {
    const wakes =
      info.sleep?.wake === 'never'
        ? `a wake request (annotation) wakes it`
        : `the agent holds port ${wanted.server.port}: a player's login wakes it`
    deps.recorder.event(gs, 'Normal', 'Sleeping', `the game was stopped: ${status.sleep.reason}; ${wakes}`)
  } else if (status.sleep === undefined && prev.sleep?.level === 'process' && status.phase !== 'Stopped' && status.phase !== 'Stopping') {
    const by = wokenBy(gs.metadata.annotations, prev.sleep, wanted.idle?.level === 'process', deps.clock.now())
    deps.recorder.event(gs, 'Normal', 'Woke', `the game is starting again: woken by ${by}`)
  }

  if (wanted.idle === null) conds.remove('SleepReady')
  else if (probeReportsPlayers(wanted)) {
    conds.set(
      'SleepReady',
      'True',
      Reason.PlayersProbed,
      `the ${wanted.health.probe} probe reports players: the server sleeps (level ${wanted.idle.level}) after ${wanted.idle.stopAfterSeconds} s without any`,
    )
  } else {
    const message = `spec.idle needs a health probe that reports players: spec.health.probe is ${wanted.health.probe}; set it to minecraft or a2s (the server never sleeps until then)`
    if (conds.get('SleepReady')?.status !== 'False') deps.recorder.event(gs, 'Warning', 'IdleNeedsPlayerProbe', message)
    conds.set('SleepReady', 'False', Reason.NoPlayerProbe, message)
  }
}
