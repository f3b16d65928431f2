// Step 5 for a GameServer, run: mods, then the game spec (PUT /game) and run state (spec.running).
// A change the agent can only apply with a restart (runtime switch, spec, mods) is applied with a
// graceful restart while the game runs.
//
// Rules
//  - A mod URL the provider's spec.outbound refuses is reported (ModsReady=False, one Event per new
//    refusal) and never sent to the agent.
//  - The game spec is pushed only when it differs from what the agent reports (defaults filled in).
//  - The game is started only once at least its runtimes are current in the agent.
//  - A game asleep at process level (the agent's state Sleeping) is never started by a PUT: a new
//    spec keeps it asleep; a wake request (annotation) or spec.idle removed wakes it (sleep.ts).
import { effectiveGameSpec, type GameInfo, type GameServerStatus, type GameSpecRequest } from '../../src/api/index.ts'
import { Reason } from '../condition-reasons.ts'
import type { GameServer } from '../kinds.ts'
import { refusal } from '../outbound.ts'
import type { Installed } from './scope.ts'
import { canonical } from '../status-writer.ts'
import { wakeProcess } from './sleep.ts'

/** Mods install with the agent's whole download budget. */
const MODS_TIMEOUT_MS = 10 * 60_000

export interface GameRun {
  /** The game as the agent reports it after this step. */
  info: GameInfo
  /** The spec with the agent's defaults filled in. */
  wanted: NonNullable<GameInfo['spec']>
  /** Every runtime reference has a current version in the agent (the game can start). */
  runtimesPresent: boolean
}

/** What PUT /game carries of the GameServer: server, supervision, the game (its default probe), health and idle. */
export function gameSpecRequestOf(gs: GameServer): GameSpecRequest {
  const { server, supervision, game, health, idle } = gs.spec
  return {
    server,
    ...(supervision ? { supervision } : {}),
    ...(game ? { game } : {}),
    ...(health ? { health } : {}),
    ...(idle ? { idle } : {}),
  }
}

/** The spec as the agent reports it back (defaults filled in), to push only real changes. */
function effectiveGameSpecOf(gs: GameServer): NonNullable<GameInfo['spec']> {
  return effectiveGameSpec(gameSpecRequestOf(gs))
}

/** How long a lifecycle call may take: a graceful stop waits up to two grace periods. */
export function stopTimeoutMs(gracePeriodSeconds: number | undefined): number {
  return ((gracePeriodSeconds ?? 30) * 2 + 30) * 1000
}

/** Mods first: the agent's managed set made equal to spec.mods (ModsReady). */
export async function applyMods(s: Installed<GameServer, GameServerStatus>): Promise<void> {
  const {
    deps,
    obj: gs,
    provisioned: { game },
  } = s
  const { conds } = s.out
  const outbound = s.provider.outbound
  const wantedMods = (gs.spec.mods ?? []).map((m) => ({ name: m.name, url: m.url, sha256: m.sha256 }))
  const mods = await game.mods()
  const haveMods = mods.mods
    .filter((m) => m.managed && m.state !== 'pendingRemoval')
    .map((m) => `${m.name}:${m.sha256}`)
    .sort()
  let modsFailed = false
  const refusedMods = wantedMods.map((m) => refusal(m.url, outbound, `mod ${JSON.stringify(m.name)}`)).filter((r) => r !== undefined)
  if (refusedMods.length > 0) {
    modsFailed = true
    const message = refusedMods.join('; ')
    if (conds.get('ModsReady')?.message !== message) deps.recorder.event(gs, 'Warning', 'ModSourceNotAllowed', message)
    conds.set('ModsReady', 'False', Reason.SourceNotAllowed, message)
  } else if (canonical(haveMods) !== canonical(wantedMods.map((m) => `${m.name}:${m.sha256}`).sort())) {
    try {
      await game.setMods(wantedMods, { outbound, timeoutMs: MODS_TIMEOUT_MS })
      if (wantedMods.length > 0) deps.recorder.event(gs, 'Normal', 'ModsInstalled', `mods: ${wantedMods.map((m) => m.name).join(', ')}`)
    } catch (err) {
      modsFailed = true
      conds.set('ModsReady', 'False', Reason.ModInstallFailed, `${(err as Error).message}; check the mod's url and sha256`)
      deps.recorder.event(gs, 'Warning', 'ModInstallFailed', (err as Error).message)
    }
  }
  if (wantedMods.length > 0 && !modsFailed) conds.set('ModsReady', 'True', Reason.Installed, `${wantedMods.length} mod(s)`)
  else if (wantedMods.length === 0 && conds.get('ModsReady') !== undefined) conds.remove('ModsReady')
}

/** The game spec and run state, then a restart for a change waiting for one. */
export async function runGame(s: Installed<GameServer, GameServerStatus>): Promise<GameRun> {
  const {
    deps,
    obj: gs,
    provisioned: { game },
  } = s
  const { status, conds } = s.out
  const wantRunning = gs.spec.running !== false
  const runtimesPresent = s.resolved.every((r) => s.agentStatus.runtimes.some((x) => x.name === r.name && x.current))
  await applyMods(s)

  let info = await game.game()
  const wanted = effectiveGameSpecOf(gs)
  const specDiffers = canonical(info.spec) !== canonical(wanted)
  const lifecycle = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(stopTimeoutMs(wanted.server.gracePeriodSeconds)) })
  const body = gameSpecRequestOf(gs)
  const asleep = info.state === 'Sleeping'
  if (!wantRunning && info.state !== 'Stopped' && info.configured) {
    status.phase = 'Stopping'
    conds.set('Ready', 'False', Reason.Stopping, 'spec.running is false: stopping the game gracefully')
    await s.out.write()
    info = await game.putGame({ ...body, running: false }, lifecycle())
    deps.recorder.event(gs, 'Normal', 'Stopped', `game stopped (${info.lastStop?.endedBy ?? 'stopped'})`)
  } else if (specDiffers || (wantRunning && info.state === 'Stopped' && runtimesPresent)) {
    // A sleeping game takes a new spec and stays asleep (waking is wakeProcess's, below).
    const start = wantRunning && runtimesPresent && !asleep
    info = await game.putGame({ ...body, ...(start ? { running: true } : !wantRunning ? { running: false } : {}) }, lifecycle())
    if (start && info.state !== 'Crashed' && info.state !== 'Error') deps.recorder.event(gs, 'Normal', 'Starting', 'game starting')
  }
  if (wantRunning && info.state === 'Sleeping') info = await wakeProcess(gs.metadata.annotations, game, info, wanted, deps.clock.now())
  if (wantRunning && info.restartPending && (info.state === 'Running' || info.state === 'Starting')) {
    deps.recorder.event(gs, 'Normal', 'Restarting', 'restarting the game to apply a runtime, spec or mod change')
    info = await game.restartGame(lifecycle())
  }
  return { info, wanted, runtimesPresent }
}
