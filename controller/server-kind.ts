// What makes a server kind (GameServer, DevServer) itself, as data and functions the shared
// driver (server-driver.ts) and delete path (server-lifecycle.ts) are given: its API kind,
// container defaults, runtime references, what it reports about its container, how it runs and
// observes its workload, and how it stops it gracefully. Shared code never asks which kind it has.
import type { AgentStatus } from '../src/api/index.ts'
import type { Container } from '../src/providers/index.ts'
import type { KindRef } from '../src/runtime/index.ts'
import type { RuntimeRef } from './catalog-resolve.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import type { ConditionSet, StatusWriter } from './status-writer.ts'
import type { Halt } from './steps/outcome.ts'
import type { ContainerDefaults, Provisioned } from './steps/provision.ts'
import type { Installed, ServerScope } from './steps/scope.ts'
import type { AgentConnection, ServerObject, ServerStatus } from './steps/server-object.ts'

export interface ServerKind<T extends ServerObject, S extends ServerStatus, Ran> {
  kind: KindRef
  /** The identity kind the provider records on the container. */
  providerKind: 'GameServer' | 'DevServer'
  defaults: ContainerDefaults
  /** Everything to resolve and install. */
  runtimeRefs(obj: T): RuntimeRef[]
  /** The references reported in status.runtimes. */
  reportedRuntimeRefs(obj: T): RuntimeRef[]
  /** A kind's own account of an unresolved reference (e.g. a builder still working), else the halt as is. */
  explainUnresolved?(scope: ServerScope<T, S>, refs: RuntimeRef[], halt: Halt): Halt
  /** spec.running false stops the container itself (else run() stops the workload in a running container). */
  parkContainerWhenNotRunning: boolean
  /** Conditions a parked server reports besides Ready. */
  parkedConditions?(obj: T, conds: ConditionSet): void
  /** Status fields describing the container (beyond vmid and address); `agentStatus` once the agent answered. */
  containerStatus(container: Container, agentStatus: AgentStatus | undefined, prev: S, deps: ReconcilerDeps): Partial<S>
  /** Whether the phase shows Installing while runtimes install (e.g. not while a game already runs). */
  showsInstalling(agent: Provisioned): Promise<boolean>
  /** Puts the workload in the state the spec wants (start, stop, reconfigure). */
  run(s: Installed<T, S>): Promise<Ran>
  /** Mirrors the workload into status (phase, conditions, Events); returns when to look again (ms). */
  observe(s: Installed<T, S>, ran: Ran): Promise<number>
  /** Stops the workload gracefully before its container is stopped or deleted. */
  stopWorkload(agent: AgentConnection, obj: T, signal: AbortSignal): Promise<void>
  /** Container-level sleep when idle (spec.idle; steps/sleep.ts); absent: the kind never sleeps its container. */
  containerSleep?: ContainerSleepPolicy<T, S, Ran>
}

/** What a kind tells the sleep step (ServerKind.containerSleep). */
export interface ContainerSleepPolicy<T, S, Ran> {
  /** Seconds of idleness after which the container sleeps; undefined: this server never sleeps at container level. */
  stopAfterSeconds(obj: T): number | undefined
  /** Since when the server has been idle (ms since the epoch), undefined while in use or unknown. */
  idleSince(s: Installed<T, S>, ran: Ran): number | undefined
  /** What the server was idle of, for status.sleep.reason and the Event (e.g. "no players"). */
  idleOf: string
  /** What a sleeping server reports besides phase, Ready and status.sleep: its own conditions, and
   * fields that mean nothing while asleep removed (e.g. players). No calls to the agent: it is stopped. */
  asleepStatus?(obj: T, out: StatusWriter<S>, deps: ReconcilerDeps): void
}
