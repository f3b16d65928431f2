// GameServer reconciler: container, agent, runtime + package installs, mods, the game process,
// and status mirrored from the agent.
//
// Expected flow of one reconcile (each step reads the world; nothing is carried over):
//  1. finalizer first (added before anything is created; cleanup below on delete);
//  2. resolve spec.runtime and spec.package against their RuntimeCatalogs — unresolvable or
//     unverified → RuntimeResolved=False with the reason, and no container is created;
//  3. provider → container (ensure, start) → agent answering → Provisioned=True;
//  4. install what differs from the agent's current versions (sha256 from the catalog); a failed
//     install leaves the previous version current (RuntimeReady=False says why);
//  5. mods (URLs the provider's spec.outbound refuses are reported, never sent), then the game spec (PUT /game) and run state (spec.running); a runtime switch or
//     spec change waiting for a restart is applied with a graceful restart;
//  6. status from GET /game: phase, Ready (game up and its port answering), restarts, lastCrash,
//     nextRestartTime; Events for installs, crashes, restarts and failures.
// Cleanup (server-lifecycle.ts): graceful game stop through the agent, then the provider's delete.
import type { GameInfo, GameServerStatus, GameSpecRequest, ModsListing, ModsSetRequest } from '../src/api/index.ts'
import type { GameServer } from './kinds.ts'
import type { ReconcileContext, Reconciler, Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import type { RuntimeRef } from './catalog-resolve.ts'
import { keyOf, type ReconcilerDeps } from './deps.ts'
import { GAMESERVER } from './kinds.ts'
import { canonical, statusWriter, tcpReachable } from './status-util.ts'
import { serverReconciler } from './server-lifecycle.ts'
import { installStep, observedRuntimes, provision, resolveAll, runtimesToInstall, type ServerObject } from './workload.ts'
import { refusal } from './outbound.ts'

type Phase = NonNullable<GameServerStatus['phase']>

const DEFAULTS = { cores: 1, memoryMiB: 2048, diskGiB: 8 }

export function runtimeRefsOf(gs: GameServer): RuntimeRef[] {
  const refs: RuntimeRef[] = [{ ...gs.spec.runtime }]
  if (gs.spec.package) refs.push({ ...gs.spec.package })
  return refs
}

/** The spec as the agent reports it back (defaults filled in), to push only real changes. */
function effectiveGameSpec(gs: GameServer): NonNullable<GameInfo['spec']> {
  const s = gs.spec.server
  const v = gs.spec.supervision ?? {}
  return {
    server: {
      command: [...s.command], args: [...(s.args ?? [])],
      ...(s.env ? { env: s.env.map((e) => ({ ...e })) } : {}),
      ...(s.workingDir ? { workingDir: s.workingDir } : {}),
      port: s.port ?? 25565, stopCommand: s.stopCommand ?? 'stop', gracePeriodSeconds: s.gracePeriodSeconds ?? 30,
    },
    supervision: {
      restartPolicy: v.restartPolicy ?? 'Always', backoffSeconds: [...(v.backoffSeconds ?? [30, 60, 120])],
      resetAfterSeconds: v.resetAfterSeconds ?? 30, maxConsecutiveFailures: v.maxConsecutiveFailures ?? 5,
    },
  } as NonNullable<GameInfo['spec']>
}

function gamePhase(info: GameInfo, wantRunning: boolean, portOpen: boolean): Phase {
  switch (info.state) {
    case 'Stopped': return wantRunning ? 'Starting' : 'Stopped'
    case 'Starting': return 'Starting'
    case 'Running': return portOpen ? 'Running' : 'Starting'
    case 'Stopping': return 'Stopping'
    case 'Crashed': return info.nextRestartTime ? 'Backoff' : 'Crashed'
    case 'Error': return 'Error'
  }
}

function crashSummary(info: GameInfo): string {
  const c = info.lastCrash
  if (!c) return 'the game exited'
  const how = c.signal ? `signal ${c.signal}` : `exit code ${c.exitCode}`
  return `the game crashed (${c.classification}, ${how}, after ${Math.round(c.uptimeSeconds)} s)${c.evidence ? `: ${c.evidence}` : ''}`
}

export function gameServerReconciler(deps: ReconcilerDeps, store: Store<GameServer>, watches: AgentWatches): Reconciler {
  return serverReconciler(deps, store, watches, 'game', reconcileGameServer)
}

async function reconcileGameServer(deps: ReconcilerDeps, watches: AgentWatches, gs: GameServer, ctx: ReconcileContext): Promise<{ requeueAfter: number }> {
  const { signal } = ctx
  const key = keyOf(gs)
  const { prev, status, conds, write } = statusWriter<GameServerStatus>(deps, GAMESERVER, gs, signal)
  const wantRunning = gs.spec.running !== false
  const notReady = (reason: string, message: string): void => conds.set('Ready', 'False', reason, message)

  // 2. runtime + package
  const refs = runtimeRefsOf(gs)
  const resolution = resolveAll(refs, deps, prev, gs.metadata.annotations)
  if (!resolution.ok) {
    conds.set('RuntimeResolved', 'False', resolution.reason, resolution.message)
    notReady('RuntimeUnresolved', resolution.message)
    if (status.vmid === undefined) status.phase = 'Pending'
    await write()
    return { requeueAfter: 30_000 }
  }
  const resolved = resolution.resolved
  conds.set('RuntimeResolved', 'True', 'Resolved', resolved.map((r) => `${r.name} ${r.version}${r.channel ? ` (${r.channel})` : ''}`).join(', '))

  // 3. container + agent
  const p = await provision(deps.client, deps.providers, 'GameServer', gs as unknown as ServerObject, DEFAULTS, signal)
  if (!p.ok) {
    if (p.container) { status.vmid = p.container.vmid; status.address = p.container.address }
    conds.set('Provisioned', 'False', p.problem.reason, p.problem.message)
    notReady(p.problem.reason, p.problem.message)
    status.phase = p.stage === 'provider' ? 'Pending' : p.problem.retryable ? 'Provisioning' : 'Error'
    if (p.stage === 'container' && !p.problem.retryable) deps.recorder.event(gs, 'Warning', 'ProvisioningFailed', p.problem.message)
    await write()
    return { requeueAfter: p.stage === 'agent' ? 500 : p.problem.retryable ? 5000 : 60_000 }
  }
  status.vmid = p.container.vmid
  status.address = p.container.address
  conds.set('Provisioned', 'True', 'ContainerRunning', `container ${p.container.vmid} on provider ${p.providerName}; agent answering`)
  watches.ensure(key, p.container.agentUrl as string, p.token)
  const agent = p.agent

  // 4. installs
  const install = await installStep(deps, gs, key, agent, p.agentStatus, resolved, conds, async (what) => {
    const info0 = await agent.request<GameInfo>('GET', '/game', undefined, { signal })
    if (info0.state === 'Stopped' || !info0.configured) status.phase = 'Installing'
    notReady('Installing', what)
    await write()
  }, signal, p.outbound)
  const agentStatus = install.agentStatus
  status.runtimes = observedRuntimes(agentStatus, refs, resolved)
  const installedAll = runtimesToInstall(agentStatus, resolved).length === 0
  if (installedAll) conds.set('RuntimeReady', 'True', 'Installed', resolved.map((r) => `${r.name} ${r.version}`).join(', '))
  const anyRuntime = refs.every((r) => agentStatus.runtimes.some((x) => x.name === r.name && x.current))

  // 5. mods, game spec, run state
  const wantedMods = (gs.spec.mods ?? []).map((m) => ({ name: m.name, url: m.url, sha256: m.sha256 }))
  const mods = await agent.request<ModsListing>('GET', '/mods', undefined, { signal })
  const haveMods = mods.mods.filter((m) => m.managed && m.state !== 'pendingRemoval').map((m) => `${m.name}:${m.sha256}`).sort()
  let modsFailed = false
  // A mod URL the provider's outbound policy refuses is never sent to the agent.
  const refusedMods = wantedMods.map((m) => refusal(m.url, p.outbound, `mod ${JSON.stringify(m.name)}`)).filter((r) => r !== undefined)
  if (refusedMods.length > 0) {
    modsFailed = true
    const message = refusedMods.join('; ')
    if (conds.get('ModsReady')?.message !== message) deps.recorder.event(gs, 'Warning', 'ModSourceNotAllowed', message)
    conds.set('ModsReady', 'False', 'SourceNotAllowed', message)
  } else if (canonical(haveMods) !== canonical(wantedMods.map((m) => `${m.name}:${m.sha256}`).sort())) {
    try {
      const body: ModsSetRequest = { mods: wantedMods, outbound: p.outbound }
      await agent.request('PUT', '/mods', body, { signal, timeoutMs: 10 * 60_000 })
      if (wantedMods.length > 0) deps.recorder.event(gs, 'Normal', 'ModsInstalled', `mods: ${wantedMods.map((m) => m.name).join(', ')}`)
    } catch (err) {
      modsFailed = true
      conds.set('ModsReady', 'False', 'ModInstallFailed', `${(err as Error).message}; check the mod's url and sha256`)
      deps.recorder.event(gs, 'Warning', 'ModInstallFailed', (err as Error).message)
    }
  }
  if (wantedMods.length > 0 && !modsFailed) conds.set('ModsReady', 'True', 'Installed', `${wantedMods.length} mod(s)`)
  else if (wantedMods.length === 0 && conds.get('ModsReady') !== undefined) conds.list = conds.list.filter((c) => c.type !== 'ModsReady')

  let info = await agent.request<GameInfo>('GET', '/game', undefined, { signal })
  const wanted = effectiveGameSpec(gs)
  const specDiffers = canonical(info.spec) !== canonical(wanted)
  const stopTimeout = ((wanted.server.gracePeriodSeconds ?? 30) * 2 + 30) * 1000
  const body: GameSpecRequest = { server: gs.spec.server, ...(gs.spec.supervision ? { supervision: gs.spec.supervision } : {}) }
  if (!wantRunning && info.state !== 'Stopped' && info.configured) {
    status.phase = 'Stopping'
    notReady('Stopping', 'spec.running is false: stopping the game gracefully')
    await write()
    info = await agent.request<GameInfo>('PUT', '/game', { ...body, running: false }, { signal, timeoutMs: stopTimeout })
    deps.recorder.event(gs, 'Normal', 'Stopped', `game stopped (${info.lastStop?.endedBy ?? 'stopped'})`)
  } else if (specDiffers || (wantRunning && info.state === 'Stopped' && anyRuntime)) {
    const start = wantRunning && anyRuntime
    info = await agent.request<GameInfo>('PUT', '/game', { ...body, ...(start ? { running: true } : !wantRunning ? { running: false } : {}) }, { signal, timeoutMs: stopTimeout })
    if (start && info.state !== 'Crashed' && info.state !== 'Error') deps.recorder.event(gs, 'Normal', 'Starting', 'game starting')
  }
  if (wantRunning && info.restartPending && (info.state === 'Running' || info.state === 'Starting')) {
    deps.recorder.event(gs, 'Normal', 'Restarting', 'restarting the game to apply a runtime, spec or mod change')
    info = await agent.request<GameInfo>('POST', '/game/restart', undefined, { signal, timeoutMs: stopTimeout })
  }

  // 6. mirror
  const port = info.spec?.server.port ?? wanted.server.port
  const portOpen = info.state === 'Running' && p.container.address !== undefined && await tcpReachable(p.container.address, port)
  status.phase = install.failed && !anyRuntime ? 'Error' : gamePhase(info, wantRunning, portOpen)
  status.restarts = Math.max(info.restarts, 0)
  status.nextRestartTime = info.nextRestartTime ?? undefined
  if (info.lastCrash) {
    status.lastCrash = {
      time: info.lastCrash.time, exitCode: info.lastCrash.exitCode, signal: info.lastCrash.signal,
      uptimeSeconds: Math.max(0, info.lastCrash.uptimeSeconds), classification: info.lastCrash.classification,
      logTail: info.lastCrash.logTail.slice(-100),
    }
    if (info.lastCrash.time !== prev.lastCrash?.time) {
      const next = info.nextRestartTime ? `; restart ${info.restarts + 1} at ${info.nextRestartTime}` : ''
      deps.recorder.event(gs, 'Warning', 'Crashed', `${crashSummary(info)}${next}`)
    }
  }
  if (info.restarts > (prev.restarts ?? 0)) deps.recorder.event(gs, 'Normal', 'Restarted', `the agent restarted the game after a crash (restart ${info.restarts})`)
  if (status.phase === 'Error' && prev.phase !== 'Error') {
    deps.recorder.event(gs, 'Warning', 'CrashLoop', `${info.message ?? 'the game keeps crashing'}; change the spec (or set running: false then true) to try again`)
  }
  if (install.failed || !installedAll) {
    notReady('RuntimeNotReady', conds.get('RuntimeReady')?.message ?? 'runtime not installed')
  } else if (status.phase === 'Running') {
    conds.set('Ready', 'True', 'Running', `the game answers on ${p.container.address}:${port}`)
  } else {
    const why: Record<Phase, string> = {
      Pending: 'waiting', Provisioning: 'waiting for the container', Installing: 'installing runtimes',
      Starting: info.state === 'Running' ? `the game runs; waiting for port ${port} to answer` : 'the game is starting',
      Running: '', Crashed: crashSummary(info), Backoff: `${crashSummary(info)}; next restart at ${info.nextRestartTime}`,
      Error: `${info.message ?? 'the game failed'}; change the spec (or set running: false then true) to try again`,
      Stopping: 'stopping', Stopped: 'spec.running is false', Terminating: 'being deleted',
    }
    notReady(status.phase, why[status.phase])
  }
  await write()
  const after = (ms: number): { requeueAfter: number } => ({ requeueAfter: Math.min(ms, install.retryAfterMs) })
  if (status.phase === 'Running') return after(60_000)
  if (status.phase === 'Starting' || status.phase === 'Installing') return after(500)
  if (status.phase === 'Backoff' && info.nextRestartTime) return after(Math.max(500, Math.min(30_000, Date.parse(info.nextRestartTime) - Date.now() + 300)))
  return after(15_000)
}
