// DevServer reconciler: container, agent, runtimes, code-server, IDE address.
//
// Expected flow of one reconcile (level-based, like gameserver.ts):
//  1. finalizer; resolve spec.runtimes (and code-server from the `code-server` RuntimeCatalog's
//     stable channel when spec.codeServer.enabled) — unresolvable → RuntimeResolved=False, no container;
//  2. spec.running false → code-server stopped, container stopped, phase Stopped;
//  3. container + agent (Provisioned), installs (RuntimeReady);
//  4. code-server started or stopped following spec.codeServer.enabled; CodeServerReady from
//     the agent's health-checked code-server state;
//  5. status.ide = { host: dev-<vmid>.<suffix>, url: https://dev-<vmid>.<suffix>/, upstream: code-server host:port,
//     folder: the workspace code-server opens, as the agent reports it (kept while the agent is unreachable) } once the
//     container has a vmid; Ready = runtimes installed and (code-server healthy when enabled).
import { ideFolderOf } from '../src/api/index.ts'
import type { AgentStatus, CodeServerState, DevServerStatus } from '../src/api/index.ts'
import type { DevServer } from './kinds.ts'
import { AgentClient } from '../src/agent-client/index.ts'
import { CODE_SERVER_PORT, ideHostName } from '../src/api/index.ts'
import type { Container } from '../src/providers/index.ts'
import type { ReconcileContext, Reconciler, Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import { readAgentToken } from './agent-token.ts'
import type { RuntimeRef } from './catalog-resolve.ts'
import { codeServerWait, isNewBuildFailure } from './code-server-build.ts'
import { keyOf, type ReconcilerDeps } from './deps.ts'
import { CODE_SERVER_CHANNEL, CODE_SERVER_RUNTIME, DEVSERVER } from './kinds.ts'
import { serverReconciler } from './server-lifecycle.ts'
import { statusWriter } from './status-util.ts'
import { installStep, observedRuntimes, provision, resolveAll, runtimesToInstall, type ServerObject } from './workload.ts'

const DEFAULTS = { cores: 2, memoryMiB: 4096, diskGiB: 16 }

export function devRuntimeRefs(ds: DevServer): RuntimeRef[] {
  const refs: RuntimeRef[] = (ds.spec.runtimes ?? []).map((r) => ({ ...r }))
  if (ds.spec.codeServer?.enabled !== false && !refs.some((r) => r.name === CODE_SERVER_RUNTIME)) {
    refs.push({ name: CODE_SERVER_RUNTIME, channel: CODE_SERVER_CHANNEL })
  }
  return refs
}

/** The IDE's public host and URL (with `publicPort` unless it is https's own), and the code-server the gateway proxies them to. */
export function ideOf(container: Pick<Container, 'vmid' | 'address' | 'codeServerAddress'>, suffix: string, publicPort?: number): { host: string, url: string, upstream?: string } {
  const host = ideHostName(container.vmid, suffix)
  const authority = publicPort === undefined || publicPort === 443 ? host : `${host}:${publicPort}`
  const upstream = container.codeServerAddress ?? (container.address === undefined ? undefined : `${container.address.includes(':') ? `[${container.address}]` : container.address}:${CODE_SERVER_PORT}`)
  return { host, url: `https://${authority}/`, ...(upstream === undefined ? {} : { upstream }) }
}

/** The workspace folder code-server opens, from the agent's status (an older agent reports only devEnv.workspace); only a plain absolute path. */
export function ideFolderFromAgent(agentStatus: Pick<AgentStatus, 'codeServer' | 'devEnv'>): { folder?: string } {
  const folder = ideFolderOf(agentStatus.codeServer?.folder ?? agentStatus.devEnv?.workspace)
  return folder === undefined ? {} : { folder }
}

export function devServerReconciler(deps: ReconcilerDeps, store: Store<DevServer>, watches: AgentWatches): Reconciler {
  return serverReconciler(deps, store, watches, 'dev', reconcileDevServer)
}

async function reconcileDevServer(deps: ReconcilerDeps, watches: AgentWatches, ds: DevServer, ctx: ReconcileContext): Promise<{ requeueAfter: number }> {
  const { signal } = ctx
  const key = keyOf(ds)
  const { prev, status, conds, write } = statusWriter<DevServerStatus>(deps, DEVSERVER, ds, signal)
  const codeServerWanted = ds.spec.codeServer?.enabled !== false

  const refs = devRuntimeRefs(ds)
  const resolution = resolveAll(refs, deps, prev, ds.metadata.annotations)
  if (!resolution.ok) {
    // Waiting for code-server's builder (and nothing else)? Its state is the reason (+ an Event per failure).
    const wait = resolveAll(refs.filter((r) => r.name !== CODE_SERVER_RUNTIME), deps, prev, ds.metadata.annotations).ok ? codeServerWait(ds, deps.catalogs.getByName(CODE_SERVER_RUNTIME)) : undefined
    if (wait && isNewBuildFailure(wait, conds.get('RuntimeResolved'))) deps.recorder.event(ds, 'Warning', wait.reason, wait.message)
    if (wait) conds.set('CodeServerReady', 'False', wait.reason, wait.message)
    conds.set('RuntimeResolved', 'False', wait?.reason ?? resolution.reason, wait?.message ?? resolution.message)
    conds.set('Ready', 'False', wait?.reason ?? 'RuntimeUnresolved', wait?.message ?? resolution.message)
    if (status.vmid === undefined) status.phase = 'Pending'
    await write()
    return { requeueAfter: 30_000 }
  }
  const resolved = resolution.resolved
  conds.set('RuntimeResolved', 'True', 'Resolved', resolved.map((r) => `${r.name} ${r.version}`).join(', ') || 'no runtimes')

  if (ds.spec.running === false) {
    const lookup = await deps.providers.forPlacement(ds.spec.placement, signal)
    if (lookup.ok) {
      const container = await lookup.backend.observe({ ownerUid: ds.metadata.uid as string })
      if (container?.state === 'running') {
        status.phase = 'Stopping'
        await write()
        const token = await readAgentToken(deps.client, ds, signal)
        if (container.agentUrl && token) await new AgentClient({ baseUrl: container.agentUrl, token }).stopCodeServer().catch(() => {})
        await lookup.backend.stop({ ownerUid: ds.metadata.uid as string, vmid: container.vmid })
        deps.recorder.event(ds, 'Normal', 'Stopped', `container ${container.vmid} stopped (spec.running is false)`)
      }
    }
    watches.stop(key)
    status.phase = 'Stopped'
    conds.set('Ready', 'False', 'Stopped', 'spec.running is false')
    if (codeServerWanted) conds.set('CodeServerReady', 'False', 'Stopped', 'the container is stopped')
    await write()
    return { requeueAfter: 60_000 }
  }

  const p = await provision(deps.client, deps.providers, 'DevServer', ds as unknown as ServerObject, DEFAULTS, signal)
  if (!p.ok) {
    if (p.container) { status.vmid = p.container.vmid; status.address = p.container.address; status.ide = { ...ideOf(p.container, deps.ideSuffix, deps.idePublicPort), ...(prev.ide?.folder === undefined ? {} : { folder: prev.ide.folder }) } }
    conds.set('Provisioned', 'False', p.problem.reason, p.problem.message)
    conds.set('Ready', 'False', p.problem.reason, p.problem.message)
    status.phase = p.stage === 'provider' ? 'Pending' : p.problem.retryable ? 'Provisioning' : 'Error'
    await write()
    return { requeueAfter: p.stage === 'agent' ? 500 : p.problem.retryable ? 5000 : 60_000 }
  }
  status.vmid = p.container.vmid
  status.address = p.container.address
  status.ide = { ...ideOf(p.container, deps.ideSuffix, deps.idePublicPort), ...ideFolderFromAgent(p.agentStatus) }
  conds.set('Provisioned', 'True', 'ContainerRunning', `container ${p.container.vmid} on provider ${p.providerName}; agent answering`)
  watches.ensure(key, p.container.agentUrl as string, p.token)
  const agent = p.agent

  const install = await installStep(deps, ds, key, agent, p.agentStatus, resolved, conds, async (what) => {
    status.phase = 'Installing'
    conds.set('Ready', 'False', 'Installing', what)
    await write()
  }, signal, p.outbound)
  const agentStatus = install.agentStatus
  status.runtimes = observedRuntimes(agentStatus, refs.filter((r) => r.name !== CODE_SERVER_RUNTIME || (ds.spec.runtimes ?? []).some((x) => x.name === CODE_SERVER_RUNTIME)), resolved)
  const installedAll = runtimesToInstall(agentStatus, resolved).length === 0
  if (installedAll) conds.set('RuntimeReady', 'True', 'Installed', resolved.map((r) => `${r.name} ${r.version}`).join(', ') || 'no runtimes requested')

  let cs: CodeServerState | null = agentStatus.codeServer
  const csInstalled = agentStatus.runtimes.some((r) => r.name === CODE_SERVER_RUNTIME && r.current)
  if (codeServerWanted && csInstalled && (cs === null || !cs.enabled || cs.phase === 'Stopped' || cs.phase === 'NotInstalled')) {
    try {
      cs = await agent.startCodeServer()
      deps.recorder.event(ds, 'Normal', 'CodeServerStarted', `code-server started on ${cs.bindAddr}`)
    } catch (err) {
      deps.recorder.event(ds, 'Warning', 'CodeServerFailed', (err as Error).message)
      cs = await agent.codeServer().catch(() => cs)
    }
  } else if (!codeServerWanted && cs !== null && (cs.enabled || cs.phase === 'Running' || cs.phase === 'Starting')) {
    cs = await agent.stopCodeServer()
    deps.recorder.event(ds, 'Normal', 'CodeServerStopped', 'code-server stopped (spec.codeServer.enabled is false)')
  }
  let csReady = !codeServerWanted
  if (codeServerWanted) {
    if (cs?.phase === 'Running') {
      csReady = true
      conds.set('CodeServerReady', 'True', 'Healthy', `code-server ${cs.version ?? ''} answers /healthz on ${cs.bindAddr}`.replace('  ', ' '))
    } else {
      const reason = cs?.phase ?? 'NotInstalled'
      conds.set('CodeServerReady', 'False', reason, cs?.message ?? (csInstalled ? `code-server is ${reason}` : 'code-server is not installed yet'))
    }
  } else {
    conds.set('CodeServerReady', 'False', 'Disabled', 'spec.codeServer.enabled is false')
  }
  status.restarts = cs?.restarts ?? 0

  if (install.failed || !installedAll) {
    status.phase = status.phase === 'Installing' ? 'Error' : status.phase
    conds.set('Ready', 'False', 'RuntimeNotReady', conds.get('RuntimeReady')?.message ?? 'runtimes not installed')
  } else if (csReady) {
    status.phase = 'Running'
    conds.set('Ready', 'True', 'Running', codeServerWanted ? `IDE at ${status.ide.url}` : 'runtimes installed')
  } else {
    status.phase = cs?.phase === 'Crashed' ? (cs.nextRestartAt ? 'Backoff' : 'Crashed') : 'Starting'
    conds.set('Ready', 'False', 'CodeServerNotReady', conds.get('CodeServerReady')?.message ?? 'code-server not ready')
  }
  await write()
  return { requeueAfter: Math.min(status.phase === 'Running' ? 60_000 : 1000, install.retryAfterMs) }
}
