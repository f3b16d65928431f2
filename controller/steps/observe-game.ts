// Step 6 for a GameServer, observe: status from the agent's GET /game — phase, Ready (the game up
// and its port answering), restarts, lastCrash, nextRestartTime, players and process-level sleep
// (game-players.ts) — and an Event for each new crash (Unresponsive when the health probe caught a
// hung game), restart and crash loop. Returns when to look again: soon while starting, at the restart time in
// backoff, rarely while running (the agent's state stream wakes the reconcile on any change).
import type { GameInfo, GameServerStatus } from '../../src/api/index.ts'
import { Reason } from '../condition-reasons.ts'
import type { GameServer } from '../kinds.ts'
import type { Installed } from './scope.ts'
import { tcpReachable } from '../tcp-probe.ts'
import type { ServerPhase } from './outcome.ts'
import type { GameRun } from './run-game.ts'
import { observePlayersAndSleep } from './game-players.ts'

export function gamePhase(info: GameInfo, wantRunning: boolean, portOpen: boolean): ServerPhase {
  switch (info.state) {
    case 'Stopped':
      return wantRunning ? 'Starting' : 'Stopped'
    case 'Starting':
      return 'Starting'
    case 'Running':
      return portOpen ? 'Running' : 'Starting'
    case 'Stopping':
      return 'Stopping'
    case 'Crashed':
      return info.nextRestartTime ? 'Backoff' : 'Crashed'
    case 'Error':
      return 'Error'
    case 'Sleeping':
      return 'Sleeping'
  }
}

export function crashSummary(info: GameInfo): string {
  const c = info.lastCrash
  if (!c) return 'the game exited'
  if (c.classification === 'unresponsive')
    return `the game stopped answering: its health probe failed${c.evidence ? ` (${c.evidence})` : ''}; it was stopped after ${Math.round(c.uptimeSeconds)} s`
  const how = c.signal ? `signal ${c.signal}` : `exit code ${c.exitCode}`
  return `the game crashed (${c.classification}, ${how}, after ${Math.round(c.uptimeSeconds)} s)${c.evidence ? `: ${c.evidence}` : ''}`
}

export async function observeGame(s: Installed<GameServer, GameServerStatus>, ran: GameRun): Promise<number> {
  const { deps, obj: gs } = s
  const { status, conds, prev } = s.out
  const { info, wanted, runtimesPresent } = ran
  const address = s.provisioned.container.address
  const port = info.spec?.server.port ?? wanted.server.port
  const portOpen = info.state === 'Running' && address !== undefined && (await tcpReachable(address, port))
  status.phase = s.install.failed && !runtimesPresent ? 'Error' : gamePhase(info, gs.spec.running !== false, portOpen)
  status.restarts = Math.max(info.restarts, 0)
  status.nextRestartTime = info.nextRestartTime ?? undefined
  if (info.lastCrash) {
    status.lastCrash = {
      time: info.lastCrash.time,
      exitCode: info.lastCrash.exitCode,
      signal: info.lastCrash.signal,
      uptimeSeconds: Math.max(0, info.lastCrash.uptimeSeconds),
      classification: info.lastCrash.classification,
      logTail: info.lastCrash.logTail.slice(-100),
    }
    if (info.lastCrash.time !== prev.lastCrash?.time) {
      const next = info.nextRestartTime ? `; restart ${info.restarts + 1} at ${info.nextRestartTime}` : ''
      const hung = info.lastCrash.classification === 'unresponsive'
      deps.recorder.event(gs, 'Warning', hung ? 'Unresponsive' : 'Crashed', `${crashSummary(info)}${next}`)
    }
  }
  observePlayersAndSleep(s, ran)
  if (info.restarts > (prev.restarts ?? 0))
    deps.recorder.event(gs, 'Normal', 'Restarted', `the agent restarted the game after a crash (restart ${info.restarts})`)
  if (status.phase === 'Error' && prev.phase !== 'Error') {
    deps.recorder.event(
      gs,
      'Warning',
      'CrashLoop',
      `${info.message ?? 'the game keeps crashing'}; change the spec (or set running: false then true) to try again`,
    )
  }
  if (s.install.failed || !s.installedAll) {
    conds.set('Ready', 'False', Reason.RuntimeNotReady, conds.get('RuntimeReady')?.message ?? 'runtime not installed')
  } else if (status.phase === 'Running') {
    conds.set('Ready', 'True', Reason.Running, `the game answers on ${address}:${port}`)
  } else {
    const why: Record<ServerPhase, string> = {
      Pending: 'waiting',
      Provisioning: 'waiting for the container',
      Installing: 'installing runtimes',
      Starting: info.state === 'Running' ? `the game runs; waiting for port ${port} to answer` : 'the game is starting',
      Running: '',
      Crashed: crashSummary(info),
      Backoff: `${crashSummary(info)}; next restart at ${info.nextRestartTime}`,
      Error: `${info.message ?? 'the game failed'}; change the spec (or set running: false then true) to try again`,
      Stopping: 'stopping',
      Stopped: 'spec.running is false',
      Sleeping: `asleep since ${status.sleep?.since ?? '(unknown)'} (${status.sleep?.reason ?? 'no players'}); ${
        info.sleep?.wake === 'never' ? 'a wake request (annotation) wakes it' : "a player's login or a wake request wakes it"
      }`,
      Terminating: 'being deleted',
    }
    // The phase itself is Ready's reason (a family in condition-reasons.ts).
    conds.set('Ready', 'False', status.phase, why[status.phase])
  }
  if (status.phase === 'Running' || status.phase === 'Sleeping') return 60_000
  if (status.phase === 'Starting' || status.phase === 'Installing') return 500
  if (status.phase === 'Backoff' && info.nextRestartTime)
    return Math.max(500, Math.min(30_000, Date.parse(info.nextRestartTime) - deps.clock.now() + 300))
  return 15_000
}
