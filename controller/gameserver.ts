// GameServer reconciler: the GameServer as a ServerKind for the shared step driver
// (server-driver.ts: resolve → credentials → provision → install → run → observe).
//  - runtime refs: spec.runtime and spec.package, all reported in status.runtimes;
//  - run (steps/run-game.ts): mods, the game spec (PUT /game) and run state; spec.running false
//    stops the game and keeps the container;
//  - observe (steps/observe-game.ts, game-players.ts): phase, Ready, crash data, players, process
//    sleep and Events from GET /game, after scheduled restarts (steps/schedule.ts);
//  - container-level sleep (steps/sleep.ts) when spec.idle.level is container;
//  - delete (server-lifecycle.ts): graceful game stop through the agent, then the provider's delete.
import { AgentGameClient } from '../src/agent-client/index.ts'
import { WAKE_REQUESTED_ANNOTATION, type GameServerStatus } from '../src/api/index.ts'
import type { Reconciler, Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import type { RuntimeRef } from './catalog-resolve.ts'
import { GAMESERVER, type GameServer } from './kinds.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import { driveServer } from './server-driver.ts'
import type { ServerKind } from './server-kind.ts'
import { serverReconciler } from './server-lifecycle.ts'
import { probeReportsPlayers } from './steps/game-players.ts'
import { observeGame } from './steps/observe-game.ts'
import { recordSchedule, scheduledRestarts } from './steps/schedule.ts'
import { runGame, stopTimeoutMs, type GameRun } from './steps/run-game.ts'
import { annotationTime } from './steps/sleep.ts'

export function runtimeRefsOf(gs: GameServer): RuntimeRef[] {
  const refs: RuntimeRef[] = [{ ...gs.spec.runtime }]
  if (gs.spec.package) refs.push({ ...gs.spec.package })
  return refs
}

export const gameServerKind: ServerKind<GameServer, GameServerStatus, GameRun> = {
  kind: GAMESERVER,
  providerKind: 'GameServer',
  defaults: { cores: 1, memoryMiB: 2048, diskGiB: 8 },
  runtimeRefs: runtimeRefsOf,
  reportedRuntimeRefs: runtimeRefsOf,
  parkContainerWhenNotRunning: false,
  containerStatus: () => ({}),
  // A game that already runs keeps its phase while a new runtime version installs beside it.
  showsInstalling: async ({ game }) => {
    const info = await game.game()
    return info.state === 'Stopped' || !info.configured
  },
  run: runGame,
  // Scheduled restarts first, so what observe reports is the game after any restart.
  observe: async (s, ran) => {
    const scheduled = await scheduledRestarts(s, ran)
    return Math.min(await observeGame(s, scheduled.ran), scheduled.lookAgainMs)
  },
  stopWorkload: async (connection, gs, signal) => {
    const timeout = AbortSignal.timeout(stopTimeoutMs(gs.spec.server?.gracePeriodSeconds))
    await new AgentGameClient({ ...connection, signal }).stopGame({ signal: timeout })
  },
  // spec.idle level container: no players for stopAfterSeconds (the agent's idle clock) → the container sleeps.
  containerSleep: {
    stopAfterSeconds: (gs) => (gs.spec.idle?.level === 'container' ? gs.spec.idle.stopAfterSeconds : undefined),
    // The agent's idle clock, never earlier than the last wake request (a woken server gets its full time).
    idleSince: ({ obj, deps }, { info, wanted }) => {
      const reported = typeof info.idleSince === 'string' ? Date.parse(info.idleSince) : Number.NaN
      if (info.state !== 'Running' || Number.isNaN(reported) || !probeReportsPlayers(wanted)) return undefined
      const now = deps.clock.now()
      return Math.max(Math.min(reported, now), annotationTime(obj.metadata.annotations, WAKE_REQUESTED_ANNOTATION, now) ?? 0)
    },
    idleOf: 'no players',
    // Asleep: no players to report; the schedule's next time is still computed (nothing is restarted).
    asleepStatus: (gs, out, deps) => {
      out.status.players = undefined
      deps.metrics.setPlayers(gs.metadata.namespace as string, gs.metadata.name as string, undefined)
      recordSchedule(gs, out, deps)
    },
  },
}

export function gameServerReconciler(deps: ReconcilerDeps, store: Store<GameServer>, watches: AgentWatches): Reconciler {
  const reconcile = serverReconciler(deps, store, watches, gameServerKind, (obj, ctx) =>
    driveServer(deps, watches, obj, ctx, gameServerKind),
  )
  return (req, ctx) => {
    // A server that is gone takes its metric series with it.
    if (store.getByName(req.name, req.namespace) === undefined) deps.metrics.forget(req.namespace ?? '', req.name)
    return reconcile(req, ctx)
  }
}
