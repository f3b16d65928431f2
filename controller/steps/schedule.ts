// Scheduled restarts (GameServer spec.schedule), run before observe. croner computes the next time
// the five-field cron expression matches in spec.schedule.timeZone; it is kept in
// status.nextScheduledRestart. warningSeconds before it, warningCommand ({seconds} replaced) is
// written to the game's console (POST /game/command); at it, the game is restarted gracefully through
// the agent (POST /game/restart) with an Event ScheduledRestart. The reconcile is requeued at those
// instants (the controller's clock).
// Rules
//  - Only a running game is warned and restarted; a sleeping, stopped or crashed one is not (the next
//    time is just computed again).
//  - Level-based and persisted: the time due is status.nextScheduledRestart as last written; the
//    warning sent for it is condition Scheduled's reason WarningSent (a controller restart sends
//    neither twice). The next time is written before the restart is asked for, so a retried
//    reconcile does not restart twice.
//  - A restart missed by more than MISSED_GRACE_MS (the controller was down) is skipped, with an Event.
//  - A bad expression or time zone (the CRD's pattern cannot catch every one) is condition Scheduled
//    False naming the field, one Warning Event per new error; never a crash loop.
import { Cron } from 'croner'
import type { GameInfo, GameServerSpecSchedule, GameServerStatus } from '../../src/api/index.ts'
import { Reason } from '../condition-reasons.ts'
import type { GameServer } from '../kinds.ts'
import type { GameRun } from './run-game.ts'
import { stopTimeoutMs } from './run-game.ts'
import type { Installed } from './scope.ts'
import type { ReconcilerDeps } from '../reconciler-deps.ts'
import type { StatusWriter } from '../status-writer.ts'

/** A restart due longer ago than this is skipped, not done late. */
export const MISSED_GRACE_MS = 10 * 60_000
/** Requeue a moment after an instant, so the clock has certainly reached it. */
const INSTANT_SLACK_MS = 250
const DEFAULT_WARNING_SECONDS = 60
/** Writing one console line is quick; a game that does not take it in this long is not warned. */
const COMMAND_TIMEOUT_MS = 15_000
const DEFAULT_WARNING_COMMAND = 'say The server restarts in {seconds} seconds'

/** The cron job for a schedule, or what is wrong with it (naming the field). */
export function cronOf(schedule: GameServerSpecSchedule): { cron: Cron } | { error: string } {
  const timeZone = schedule.timeZone ?? 'UTC'
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
  } catch {
    return { error: `spec.schedule.timeZone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. UTC, Europe/Berlin)` }
  }
  try {
    return { cron: new Cron(schedule.restart, { timezone: timeZone, paused: true, mode: '5-part' }) }
  } catch (err) {
    return {
      error: `spec.schedule.restart ${JSON.stringify(schedule.restart)} is not a five-field cron expression (minute hour day-of-month month day-of-week): ${(err as Error).message}`,
    }
  }
}

/** The first time after `afterMs` the schedule matches; undefined when it never does (e.g. 31 February). */
export function nextMatch(cron: Cron, afterMs: number): number | undefined {
  return cron.nextRun(new Date(afterMs))?.getTime()
}

/**
 * The schedule's status part, no actions: the next time (status.nextScheduledRestart), or condition
 * Scheduled False naming the field (one Warning Event per new error). undefined: no usable schedule.
 */
export function recordSchedule(
  gs: GameServer,
  out: Pick<StatusWriter<GameServerStatus>, 'status' | 'conds'>,
  deps: Pick<ReconcilerDeps, 'clock' | 'recorder'>,
): { schedule: GameServerSpecSchedule; next: number; now: number } | undefined {
  const { status, conds } = out
  const schedule = gs.spec.schedule
  if (schedule === undefined) {
    status.nextScheduledRestart = undefined
    conds.remove('Scheduled')
    return undefined
  }
  const job = cronOf(schedule)
  const now = deps.clock.now()
  const next = 'cron' in job ? nextMatch(job.cron, now) : undefined
  if ('error' in job || next === undefined) {
    const message = 'error' in job ? job.error : `spec.schedule.restart ${JSON.stringify(schedule.restart)} never matches a date`
    status.nextScheduledRestart = undefined
    if (conds.get('Scheduled')?.message !== message) deps.recorder.event(gs, 'Warning', 'InvalidSchedule', message)
    conds.set('Scheduled', 'False', Reason.InvalidSchedule, message)
    return undefined
  }
  const nextIso = new Date(next).toISOString()
  status.nextScheduledRestart = nextIso
  const scheduled = conds.get('Scheduled')
  // The warning sent for this very time stays recorded until the restart.
  if (!(scheduled?.reason === Reason.WarningSent && scheduled.message.includes(nextIso)))
    conds.set('Scheduled', 'True', Reason.ScheduleValid, `next restart at ${nextIso}`)
  return { schedule, next, now }
}

/** Runs the schedule; returns the game as it is afterwards and when to look again (ms; Infinity: no schedule). */
export async function scheduledRestarts(
  s: Installed<GameServer, GameServerStatus>,
  ran: GameRun,
): Promise<{ ran: GameRun; lookAgainMs: number }> {
  const { deps, obj: gs } = s
  const { conds, prev } = s.out
  const planned = recordSchedule(gs, s.out, deps)
  if (planned === undefined) return { ran, lookAgainMs: Infinity }
  const { schedule, next, now } = planned
  const nextIso = new Date(next).toISOString()
  const running = ran.info.state === 'Running'
  const due = prev.nextScheduledRestart === undefined ? undefined : Date.parse(prev.nextScheduledRestart)
  const warningSeconds = schedule.warningSeconds ?? DEFAULT_WARNING_SECONDS
  const warnAt = next - warningSeconds * 1000
  const lookAgainMs = (now < warnAt ? warnAt - now : next - now) + INSTANT_SLACK_MS

  if (due !== undefined && due <= now && due !== next) {
    if (!running) return { ran, lookAgainMs }
    const dueIso = new Date(due).toISOString()
    if (now - due > MISSED_GRACE_MS) {
      deps.recorder.event(
        gs,
        'Normal',
        'ScheduledRestartMissed',
        `the restart due at ${dueIso} was missed (the controller was not running); next at ${nextIso}`,
      )
      return { ran, lookAgainMs }
    }
    await s.out.write()
    deps.recorder.event(
      gs,
      'Normal',
      'ScheduledRestart',
      `restarting the game as spec.schedule.restart ${JSON.stringify(schedule.restart)} asks (due ${dueIso}); next at ${nextIso}`,
    )
    const info: GameInfo = await s.provisioned.game.restartGame({
      signal: AbortSignal.timeout(stopTimeoutMs(gs.spec.server.gracePeriodSeconds)),
    })
    return { ran: { ...ran, info }, lookAgainMs }
  }

  const warned = conds.get('Scheduled')?.reason === Reason.WarningSent
  if (!warned && running && warningSeconds > 0 && now >= warnAt) {
    const line = (schedule.warningCommand ?? DEFAULT_WARNING_COMMAND).replaceAll('{seconds}', String(warningSeconds))
    try {
      await s.provisioned.game.sendCommand(line, { signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS) })
      conds.set('Scheduled', 'True', Reason.WarningSent, `warned on the console; restart at ${nextIso}`)
    } catch (err) {
      // Not tried again for this restart: one Event, and the restart still happens.
      const why = `could not write the restart warning to the console: ${(err as Error).message}`
      deps.recorder.event(gs, 'Warning', 'ScheduledRestartWarningFailed', why)
      conds.set('Scheduled', 'True', Reason.WarningSent, `${why}; restart at ${nextIso}`)
    }
  }
  return { ran, lookAgainMs }
}
