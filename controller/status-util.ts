// Status helpers shared by the server reconcilers: conditions with the object's generation,
// a TCP reachability probe, and "did anything change" so unchanged status is never rewritten.
import { connect } from 'node:net'
import { patchStatus, setCondition, type Condition } from '../src/runtime/index.ts'
import { mergePatchOf, type ReconcilerDeps } from './deps.ts'
import { FIELD_MANAGER } from './kinds.ts'

export type ConditionStatus = 'True' | 'False' | 'Unknown'

export class ConditionSet {
  list: Condition[]
  readonly #generation: number | undefined
  constructor(existing: Condition[] | undefined, generation: number | undefined) {
    this.list = existing ?? []
    this.#generation = generation
  }
  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    this.list = setCondition(this.list, { type, status, reason, message, observedGeneration: this.#generation })
  }
  get(type: string): Condition | undefined { return this.list.find((c) => c.type === type) }
}

/** Whether something accepts TCP connections at host:port within timeoutMs. */
export function tcpReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Stable JSON for comparing statuses (key order independent). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)))
    }
    return v
  })
}

/**
 * The status a reconcile builds, seeded from the object's last written status, and `write()`,
 * which merge-patches only what changed since the last write (nothing when nothing changed).
 */
export function statusWriter<S extends { conditions?: Condition[], observedGeneration?: number }>(
  deps: ReconcilerDeps,
  kind: Parameters<typeof patchStatus>[1],
  obj: { metadata: { name?: string, namespace?: string, generation?: number }, status?: S },
  signal: AbortSignal,
): { prev: S, status: S, conds: ConditionSet, write: () => Promise<void> } {
  const prev = obj.status ?? ({} as S)
  const status: S = { ...prev, observedGeneration: obj.metadata.generation }
  const conds = new ConditionSet(prev.conditions, obj.metadata.generation)
  let written = prev
  const write = async (): Promise<void> => {
    status.conditions = conds.list
    if (canonical(status) === canonical(written)) return
    await patchStatus(deps.client, kind, obj.metadata.name as string, obj.metadata.namespace, mergePatchOf(written as Record<string, unknown>, status as Record<string, unknown>), { signal, fieldManager: FIELD_MANAGER })
    written = structuredClone(status)
  }
  return { prev, status, conds, write }
}
