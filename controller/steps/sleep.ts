// Sleep and wake (spec.idle), the controller's side. Sleep is the system's state, kept in
// status.sleep; spec.running stays the user's intent, so `kubectl apply` of the same manifest never
// wakes or sleeps a server.
//  - Process level (GameServer spec.idle.level process): the agent sleeps the game itself (state
//    Sleeping, its front door holds the port); the controller mirrors it into status.sleep and wakes it
//    through POST /game/wake on a wake request or when spec.idle no longer asks for process sleep.
//  - Container level (GameServer level container, every DevServer with spec.idle): once the server has
//    been idle for stopAfterSeconds (a GameServer: the agent's idleSince, counted only with a probe that
//    reports players; a DevServer: the later of its last IDE traffic, LAST_ACTIVITY_ANNOTATION, and the
//    time it last became Ready; both: no earlier than the last wake request and the time condition
//    SleepReady became True, i.e. spec.idle was set), the workload is stopped gracefully through the agent, then the container
//    through the provider (stopped, never deleted), status.sleep {level: container}. While asleep the
//    driver provisions and starts nothing; it wakes on a wake request (WAKE_REQUESTED_ANNOTATION later
//    than status.sleep.since), on spec.idle removed, or clears the sleep when spec.running is false.
// Guarantees: an Event for each sleep (Sleeping) and wake (Woke, saying what woke it); the reconcile is
// requeued when the idle deadline passes, no sooner.
import { AgentClientError, type AgentGameClient } from '../../src/agent-client/index.ts'
import {
  annotationTimeMs,
  WAKE_REQUESTED_ANNOTATION,
  wakeRequestedFor,
  type EffectiveGameSpec,
  type GameInfo,
} from '../../src/api/index.ts'
import { readAgentToken } from '../agent-token.ts'
import { Reason } from '../condition-reasons.ts'
import type { ServerKind } from '../server-kind.ts'
import type { Installed, ServerScope } from './scope.ts'
import type { ServerObject, ServerStatus } from './server-object.ts'

/** A sleeping server is looked at again after this long (a wake request or spec change wakes it sooner). */
export const ASLEEP_REQUEUE_MS = 10 * 60_000
/** A wake through the agent may take as long as a game start's first answer. */
const WAKE_TIMEOUT_MS = 60_000
/** Requeue a moment after the idle deadline, so the clock has certainly passed it. */
const DEADLINE_SLACK_MS = 250

export type SleepStatus = NonNullable<ServerStatus['sleep']>

/**
 * An annotation holding a time (wake request, last activity) as ms, or undefined when it is absent,
 * not a time, or further in the future than the clock skew allows (src/api/wake-request.ts): such a
 * value would otherwise wake the server after every sleep, or keep its idle clock from ever running.
 * `forIdleClock`: a time ahead of the clock (within the skew) counts as now.
 */
export function annotationTime(
  annotations: Record<string, string> | undefined,
  key: string,
  now: number,
  forIdleClock = true,
): number | undefined {
  const at = annotationTimeMs(annotations?.[key], now)
  return at !== undefined && forIdleClock ? Math.min(at, now) : at
}

/** The wake request (annotation value) when it asks to wake the sleep that began at `since`, else undefined. */
export function wakeRequestAfter(
  annotations: Record<string, string> | undefined,
  since: string | undefined,
  now: number,
): string | undefined {
  const value = annotations?.[WAKE_REQUESTED_ANNOTATION]
  return wakeRequestedFor(value, since, now) ? value : undefined
}

/** status.sleep for a game the agent sleeps (state Sleeping), undefined while it is awake. */
export function processSleepOf(info: GameInfo): SleepStatus | undefined {
  if (info.state !== 'Sleeping') return undefined
  const since = typeof info.sleep?.since === 'string' ? Date.parse(info.sleep.since) : Number.NaN
  const reason = typeof info.sleep?.reason === 'string' ? [...info.sleep.reason].slice(0, 1024).join('') : undefined
  return {
    level: 'process',
    ...(Number.isNaN(since) ? {} : { since: new Date(since).toISOString() }),
    reason: reason ?? 'no players for spec.idle.stopAfterSeconds',
  }
}

/** What woke a server that slept since `prev.since`, in words for the Woke Event. */
export function wokenBy(annotations: Record<string, string> | undefined, prev: SleepStatus, idleStillWanted: boolean, now: number): string {
  const requested = wakeRequestAfter(annotations, prev.since, now)
  if (requested !== undefined)
    return `a wake request at ${requested} (annotation ${WAKE_REQUESTED_ANNOTATION}: a player's login, the IDE URL opened, or a person)`
  if (!idleStillWanted) return 'spec.idle no longer asks for this sleep'
  return prev.level === 'process' ? "a player's login (the agent's front door woke the game)" : 'the container found running'
}

/**
 * Process level, during run: wakes a sleeping game through the agent when a wake request is newer
 * than its sleep or the spec no longer asks for process-level sleep. Returns the game as it is then.
 */
export async function wakeProcess(
  annotations: Record<string, string> | undefined,
  game: AgentGameClient,
  info: GameInfo,
  wanted: Pick<EffectiveGameSpec, 'idle'>,
  now: number,
): Promise<GameInfo> {
  const requested = wakeRequestAfter(annotations, info.sleep?.since, now)
  if (requested === undefined && wanted.idle?.level === 'process') return info
  return wakeGame(game)
}

/** POST /game/wake; a game that is no longer asleep (AGENT_GAME_NOT_SLEEPING) is simply read again. */
async function wakeGame(game: AgentGameClient): Promise<GameInfo> {
  try {
    return await game.wakeGame({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) })
  } catch (err) {
    if (err instanceof AgentClientError && err.code === 'AGENT_GAME_NOT_SLEEPING') return game.game()
    throw err
  }
}

/**
 * Container level, before anything is provisioned: a server asleep stays asleep (its container
 * stopped, nothing started) and the reconcile ends here; or it wakes (status.sleep cleared, Event
 * Woke) and the driver goes on to start its container. undefined: go on.
 */
export async function containerAsleep<T extends ServerObject, S extends ServerStatus>(
  scope: ServerScope<T, S>,
  kind: Pick<ServerKind<T, S, unknown>, 'containerSleep'>,
  stopWatch: () => void,
): Promise<{ requeueAfter: number } | undefined> {
  const { deps, obj, out, signal } = scope
  const sleep = out.prev.sleep
  if (sleep?.level !== 'container') return undefined
  const idleWanted = kind.containerSleep?.stopAfterSeconds(obj) !== undefined
  if (obj.spec.running === false) {
    // The user's intent wins: the server is stopped, not asleep (the kind's own flow stops it).
    out.status.sleep = undefined
    return undefined
  }
  const now = deps.clock.now()
  const requested = wakeRequestAfter(obj.metadata.annotations, sleep.since, now)
  if (requested !== undefined || !idleWanted) {
    out.status.sleep = undefined
    deps.recorder.event(
      obj,
      'Normal',
      'Woke',
      `waking the container: woken by ${wokenBy(obj.metadata.annotations, sleep, idleWanted, now)}`,
    )
    return undefined
  }
  // Still asleep: the container stays stopped (stopped again should anything have started it).
  const lookup = await deps.providers.forPlacement(obj.spec.placement, signal)
  if (lookup.ok) {
    const container = await lookup.backend.observe({ ownerUid: obj.metadata.uid as string })
    if (container?.state === 'running') await lookup.backend.stop({ ownerUid: obj.metadata.uid as string, vmid: container.vmid })
  }
  stopWatch()
  out.status.phase = 'Sleeping'
  out.conds.set('Ready', 'False', Reason.Sleeping, asleepMessage(sleep))
  kind.containerSleep?.asleepStatus?.(obj, out, deps)
  await out.write()
  return { requeueAfter: ASLEEP_REQUEUE_MS }
}

function asleepMessage(sleep: SleepStatus): string {
  return `asleep since ${sleep.since ?? '(unknown)'} (${sleep.reason ?? 'idle'}); the container is stopped until a wake request (annotation ${WAKE_REQUESTED_ANNOTATION})`
}

/**
 * Container level, after observe: an idle server past its deadline is put to sleep (workload stopped
 * through the agent, container stopped through the provider). Returns when to look again: at the
 * deadline while the server is idle, never (Infinity) while it is in use or does not sleep.
 */
export async function sleepWhenIdle<T extends ServerObject, S extends ServerStatus, Ran>(
  s: Installed<T, S>,
  kind: Pick<ServerKind<T, S, Ran>, 'containerSleep' | 'stopWorkload'>,
  ran: Ran,
  stopWatch: () => void,
): Promise<number> {
  const policy = kind.containerSleep
  const stopAfterSeconds = policy?.stopAfterSeconds(s.obj)
  if (policy === undefined || stopAfterSeconds === undefined || s.out.status.phase !== 'Running') return Infinity
  // The idle clock runs only once SleepReady is True, and counts from then at the earliest (idle
  // added to a server that has been quiet for days does not put it to sleep at once).
  const armed = s.out.conds.get('SleepReady')
  const reported = policy.idleSince(s, ran)
  if (armed?.status !== 'True' || reported === undefined) return Infinity
  const idleSince = Math.max(reported, Date.parse(armed.lastTransitionTime) || 0)
  const now = s.deps.clock.now()
  const deadline = idleSince + stopAfterSeconds * 1000
  if (now < deadline) return deadline - now + DEADLINE_SLACK_MS

  const { deps, obj, out, signal } = s
  const reason = `${policy.idleOf} for ${stopAfterSeconds} s (spec.idle.stopAfterSeconds)`
  out.status.phase = 'Stopping'
  out.conds.set('Ready', 'False', Reason.Sleeping, `going to sleep: ${reason}`)
  await out.write()
  const token = await readAgentToken(deps.client, obj, signal)
  if (token !== undefined) {
    await kind.stopWorkload({ baseUrl: s.provisioned.agentUrl, token }, obj, signal).catch((err: Error) => {
      deps.log.warn({ server: s.key, err: err.message }, 'graceful stop before sleep failed; stopping the container anyway')
    })
  }
  const { container } = s.provisioned
  await s.provider.backend.stop({ ownerUid: obj.metadata.uid as string, vmid: container.vmid })
  stopWatch()
  const sleep: SleepStatus = { level: 'container', since: new Date(now).toISOString(), reason }
  out.status.sleep = sleep
  out.status.phase = 'Sleeping'
  out.conds.set('Ready', 'False', Reason.Sleeping, asleepMessage(sleep))
  policy.asleepStatus?.(obj, out, deps)
  deps.recorder.event(obj, 'Normal', 'Sleeping', `container ${container.vmid} stopped: ${reason}; a wake request starts it again`)
  return ASLEEP_REQUEUE_MS
}
