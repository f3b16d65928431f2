// The portal's view of a server: a flat, stable shape built from the resource's status, so the
// portal never has to understand conditions or Kubernetes metadata.

import type { DevServer, GameServer } from '../../api/index.ts'
import type { ServerKind } from './kinds.ts'

export type ServerObject = GameServer | DevServer

export interface ServerStatusView {
  name: string
  namespace: string
  kind: ServerKind
  phase: string
  /** The Ready condition is True. */
  ready: boolean
  vmid: number | null
  address: string | null
  restarts: number
  lastCrash: NonNullable<GameServer['status']>['lastCrash'] | null
  /** DevServers: where the hosted IDE is (open it through POST /api/dev/<name>/ide-token). */
  ide: { url: string } | null
  /** GameServers: players from the health probe (minecraft, a2s); null while unknown or for a DevServer. */
  players: NonNullable<GameServer['status']>['players'] | null
  /** Present while the server sleeps (phase Sleeping): at which level, since when, why. */
  sleep: { level: 'process' | 'container'; since: string | null; reason: string | null } | null
  /** GameServers with spec.schedule: when the next scheduled restart is (ISO time). */
  nextScheduledRestart: string | null
  /** The spec generation the status describes has caught up with the latest spec. */
  upToDate: boolean
  conditions: Array<{ type: string; status: string; reason: string; message: string }>
  resourceVersion: string
}

export function isConditionTrue(obj: ServerObject, type: string): boolean {
  return (obj.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True')
}

export function statusView(obj: ServerObject, ideUrlFor: (vmid: number) => string): ServerStatusView {
  const s = obj.status ?? {}
  const vmid = typeof s.vmid === 'number' ? s.vmid : null
  return {
    name: obj.metadata.name ?? '',
    namespace: obj.metadata.namespace ?? '',
    kind: obj.kind,
    phase: s.phase ?? 'Pending',
    ready: isConditionTrue(obj, 'Ready'),
    vmid,
    address: s.address ?? null,
    restarts: s.restarts ?? 0,
    lastCrash: s.lastCrash ?? null,
    ide: obj.kind === 'DevServer' && vmid !== null ? { url: ideUrlFor(vmid) } : null,
    players: obj.kind === 'GameServer' ? (obj.status?.players ?? null) : null,
    sleep: s.sleep ? { level: s.sleep.level ?? 'container', since: s.sleep.since ?? null, reason: s.sleep.reason ?? null } : null,
    nextScheduledRestart: obj.kind === 'GameServer' ? (obj.status?.nextScheduledRestart ?? null) : null,
    upToDate: s.observedGeneration !== undefined && s.observedGeneration === obj.metadata.generation,
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    resourceVersion: obj.metadata.resourceVersion ?? '',
  }
}
