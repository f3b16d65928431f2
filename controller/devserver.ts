// DevServer reconciler: the DevServer as a ServerKind for the shared step driver
// (server-driver.ts: resolve → credentials → provision → install → run → observe).
//  - runtime refs: spec.runtimes plus code-server (its channel) when the IDE is enabled; a missing
//    code-server catalog while its builder works is the reason (code-server-build.ts);
//  - status.ide {host, url, upstream, folder}: where the gateway routes the IDE;
//  - run (steps/run-code-server.ts) and observe (steps/observe-dev.ts): code-server through the agent;
//  - spec.running false stops the container (steps/park.ts); delete stops code-server, then deletes;
//  - spec.idle: with no IDE traffic for stopAfterSeconds the container sleeps (steps/sleep.ts);
//    status.ide stays as it was, so the gateway still knows the host and can wake it.
import { AgentClient } from '../src/agent-client/index.ts'
import { CODE_SERVER_PORT, ideFolderOf, ideHostName, LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION } from '../src/api/index.ts'
import type { AgentStatus, DevServerStatus } from '../src/api/index.ts'
import type { Container } from '../src/providers/index.ts'
import type { Reconciler, Store } from '../src/runtime/index.ts'
import type { AgentWatches } from './agent-watch.ts'
import type { RuntimeRef } from './catalog-resolve.ts'
import { codeServerWait, isNewBuildFailure } from './code-server-build.ts'
import { Reason } from './condition-reasons.ts'
import { CODE_SERVER_CHANNEL, CODE_SERVER_RUNTIME, DEVSERVER, type DevServer } from './kinds.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import { driveServer } from './server-driver.ts'
import type { ServerKind } from './server-kind.ts'
import { serverReconciler } from './server-lifecycle.ts'
import { observeDevServer } from './steps/observe-dev.ts'
import { annotationTime } from './steps/sleep.ts'
import { resolveRuntimes } from './steps/resolve.ts'
import { codeServerWanted, runCodeServer, type CodeServerRun } from './steps/run-code-server.ts'

export function devRuntimeRefs(ds: DevServer): RuntimeRef[] {
  const refs: RuntimeRef[] = (ds.spec.runtimes ?? []).map((r) => ({ ...r }))
  if (codeServerWanted(ds) && !refs.some((r) => r.name === CODE_SERVER_RUNTIME)) {
    refs.push({ name: CODE_SERVER_RUNTIME, channel: CODE_SERVER_CHANNEL })
  }
  return refs
}

/** The IDE's public host and URL (with `publicPort` unless it is https's own), and the code-server the gateway proxies them to. */
export function ideOf(
  container: Pick<Container, 'vmid' | 'address' | 'codeServerAddress'>,
  suffix: string,
  publicPort?: number,
): { host: string; url: string; upstream?: string } {
  const host = ideHostName(container.vmid, suffix)
  const authority = publicPort === undefined || publicPort === 443 ? host : `${host}:${publicPort}`
  const upstream =
    container.codeServerAddress ??
    (container.address === undefined
      ? undefined
      : `${container.address.includes(':') ? `[${container.address}]` : container.address}:${CODE_SERVER_PORT}`)
  return { host, url: `https://${authority}/`, ...(upstream === undefined ? {} : { upstream }) }
}

/** The workspace folder code-server opens, from the agent's status (an older agent reports only devEnv.workspace); only a plain absolute path. */
export function ideFolderFromAgent(agentStatus: Pick<AgentStatus, 'codeServer' | 'devEnv'>): { folder?: string } {
  const folder = ideFolderOf(agentStatus.codeServer?.folder ?? agentStatus.devEnv?.workspace)
  return folder === undefined ? {} : { folder }
}

export const devServerKind: ServerKind<DevServer, DevServerStatus, CodeServerRun> = {
  kind: DEVSERVER,
  providerKind: 'DevServer',
  defaults: { cores: 2, memoryMiB: 4096, diskGiB: 16 },
  runtimeRefs: devRuntimeRefs,
  // code-server is reported only when the spec lists it itself.
  reportedRuntimeRefs: (ds) =>
    devRuntimeRefs(ds).filter(
      (r) => r.name !== CODE_SERVER_RUNTIME || (ds.spec.runtimes ?? []).some((x) => x.name === CODE_SERVER_RUNTIME),
    ),
  // Waiting for code-server's builder (and nothing else)? Its state is the reason (+ an Event per failure).
  explainUnresolved: ({ deps, obj: ds, out }, refs, halt) => {
    const others = resolveRuntimes(
      refs.filter((r) => r.name !== CODE_SERVER_RUNTIME),
      deps.catalogs,
      out.prev,
      ds.metadata.annotations,
    )
    const wait = others.next === 'continue' ? codeServerWait(ds, deps.catalogs.getByName(CODE_SERVER_RUNTIME)) : undefined
    if (wait === undefined) return halt
    const isNew = isNewBuildFailure(wait, out.conds.get('RuntimeResolved'))
    return {
      ...halt,
      reason: wait.reason,
      message: wait.message,
      readyReason: wait.reason,
      alsoFalse: ['CodeServerReady'],
      ...(isNew ? { warning: { reason: wait.reason, message: wait.message } } : {}),
    }
  },
  parkContainerWhenNotRunning: true,
  parkedConditions: (ds, conds) => {
    if (codeServerWanted(ds)) conds.set('CodeServerReady', 'False', Reason.Stopped, 'the container is stopped')
  },
  containerStatus: (container, agentStatus, prev, deps) => ({
    ide: {
      ...ideOf(container, deps.ideSuffix, deps.idePublicPort),
      ...(agentStatus !== undefined ? ideFolderFromAgent(agentStatus) : prev.ide?.folder === undefined ? {} : { folder: prev.ide.folder }),
    },
  }),
  showsInstalling: async () => true,
  run: runCodeServer,
  observe: observeDevServer,
  stopWorkload: async (connection, _ds, signal) => {
    await new AgentClient({ ...connection, signal }).stopCodeServer()
  },
  // spec.idle: no IDE traffic for stopAfterSeconds → the container sleeps; the gateway wakes it.
  containerSleep: {
    stopAfterSeconds: (ds) => ds.spec.idle?.stopAfterSeconds,
    idleSince: ({ obj, out, deps }) => devIdleSince(obj.metadata.annotations, out.conds.get('Ready'), deps.clock.now()),
    idleOf: 'no IDE traffic',
    asleepStatus: (ds, { conds }) => {
      if (codeServerWanted(ds)) conds.set('CodeServerReady', 'False', Reason.Sleeping, 'the container sleeps (spec.idle)')
    },
  },
}

/**
 * A DevServer's idle clock: the latest of its last IDE traffic (LAST_ACTIVITY_ANNOTATION, written by
 * the gateway), its last wake request (WAKE_REQUESTED_ANNOTATION) and the time it last became Ready
 * (a wake, a start); undefined while it is not Ready.
 */
export function devIdleSince(
  annotations: Record<string, string> | undefined,
  ready: { status: string; lastTransitionTime: string } | undefined,
  now: number,
): number | undefined {
  if (ready?.status !== 'True') return undefined
  const readySince = Date.parse(ready.lastTransitionTime)
  const activity = annotationTime(annotations, LAST_ACTIVITY_ANNOTATION, now)
  const wake = annotationTime(annotations, WAKE_REQUESTED_ANNOTATION, now)
  const times = [readySince, activity, wake].filter((t): t is number => t !== undefined && !Number.isNaN(t))
  return times.length === 0 ? undefined : Math.max(...times)
}

export function devServerReconciler(deps: ReconcilerDeps, store: Store<DevServer>, watches: AgentWatches): Reconciler {
  return serverReconciler(deps, store, watches, devServerKind, (obj, ctx) => driveServer(deps, watches, obj, ctx, devServerKind))
}
