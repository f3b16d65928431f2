// How a reconcile writes status: the status it builds is seeded from the object's last written
// status, conditions carry the object's generation, and `write()` merge-patches only what changed
// since the last write — nothing at all when nothing changed, so an idle reconcile makes no write.
//
// Guarantees: a field dropped from the status (undefined) is removed with an explicit null in the
// merge patch; comparison is key-order independent (canonical()).
import { patchStatus, realClock, setCondition, type Client, type Clock, type Condition } from '../src/runtime/index.ts'
import { FIELD_MANAGER } from './kinds.ts'

export type ConditionStatus = 'True' | 'False' | 'Unknown'

/** metav1.Condition's limit on a message, in bytes. */
export const CONDITION_MESSAGE_MAX_BYTES = 32_768

/** A message cut to the condition limit (whole characters; what an agent or game reported can be anything). */
export function boundedMessage(message: string): string {
  if (Buffer.byteLength(message) <= CONDITION_MESSAGE_MAX_BYTES) return message
  const marker = ' …(cut)'
  let out = ''
  let bytes = 0
  for (const ch of message) {
    const n = Buffer.byteLength(ch)
    if (bytes + n > CONDITION_MESSAGE_MAX_BYTES - Buffer.byteLength(marker)) break
    out += ch
    bytes += n
  }
  return out + marker
}

/** The conditions of one status, each stamped with the generation being reconciled; messages bounded. */
export class ConditionSet {
  list: Condition[]
  readonly #generation: number | undefined
  readonly #clock: Clock
  /** `clock` stamps lastTransitionTime (the controller's clock, so idle clocks read one time). */
  constructor(existing: Condition[] | undefined, generation: number | undefined, clock: Clock = realClock) {
    this.list = existing ?? []
    this.#generation = generation
    this.#clock = clock
  }
  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    this.list = setCondition(
      this.list,
      { type, status, reason, message: boundedMessage(message), observedGeneration: this.#generation },
      new Date(this.#clock.now()),
    )
  }
  get(type: string): Condition | undefined {
    return this.list.find((c) => c.type === type)
  }
  remove(type: string): void {
    this.list = this.list.filter((c) => c.type !== type)
  }
}

/** Stable JSON for comparing statuses (key order independent). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => a.localeCompare(b)),
      )
    }
    return v
  })
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A JSON merge patch turning `prev` into `next` (a key gone from `next` becomes null, also inside
 * nested objects: status.players without its motd removes the motd; arrays are replaced whole). */
export function mergePatchOf(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) patch[k] = null
    else if (isPlainObject(v) && isPlainObject(prev[k])) patch[k] = mergePatchOf(prev[k], v)
    else patch[k] = v
  }
  for (const k of Object.keys(prev)) if (!(k in next)) patch[k] = null
  return patch
}

export interface StatusWriter<S> {
  /** The status as last written (the object's, until write() runs). */
  prev: S
  /** The status being built; write() sends it. */
  status: S
  conds: ConditionSet
  write: () => Promise<void>
}

/** The status a reconcile builds for `obj`, and its change-only write. */
export function statusWriter<S extends { conditions?: Condition[]; observedGeneration?: number }>(
  client: Client,
  kind: Parameters<typeof patchStatus>[1],
  obj: { metadata: { name?: string; namespace?: string; generation?: number }; status?: S },
  signal: AbortSignal,
  clock: Clock = realClock,
): StatusWriter<S> {
  const prev = obj.status ?? ({} as S)
  const status: S = { ...prev, observedGeneration: obj.metadata.generation }
  const conds = new ConditionSet(prev.conditions, obj.metadata.generation, clock)
  let written = prev
  const write = async (): Promise<void> => {
    status.conditions = conds.list
    if (canonical(status) === canonical(written)) return
    await patchStatus(
      client,
      kind,
      obj.metadata.name as string,
      obj.metadata.namespace,
      mergePatchOf(written as Record<string, unknown>, status as Record<string, unknown>),
      { signal, fieldManager: FIELD_MANAGER },
    )
    written = structuredClone(status)
  }
  return { prev, status, conds, write }
}
