// metav1.Condition helpers with Kubernetes semantics: one condition per type; lastTransitionTime
// moves only when status changes (a reason/message/observedGeneration update keeps it);
// observedGeneration records which spec generation the condition describes.

import type { Condition } from '../apimachinery/index.ts'

export type { Condition, ConditionStatus } from '../apimachinery/index.ts'

export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string }

/**
 * Returns a new list with `input` set. `now` is the transition time used when the status changes
 * or the condition is new. Returns the same array instance when nothing changed, so callers can
 * skip a status write with `if (next !== conditions)`.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date = new Date()): Condition[] {
  const list = conditions ?? []
  const i = list.findIndex((c) => c.type === input.type)
  const existing = i >= 0 ? list[i] : undefined
  const transition = existing === undefined || existing.status !== input.status
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime: transition ? (input.lastTransitionTime ?? rfc3339(now)) : (existing as Condition).lastTransitionTime,
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
  }
  if (existing !== undefined && sameCondition(existing, next)) return list as Condition[]
  const out = [...list]
  if (i >= 0) out[i] = next
  else out.push(next)
  return out
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type)
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True'
}

/** True when the condition is True *and* describes `generation` (not a stale spec). */
export function isConditionTrueFor(conditions: readonly Condition[] | undefined, type: string, generation: number | undefined): boolean {
  const c = findCondition(conditions, type)
  return c?.status === 'True' && c.observedGeneration === generation
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type)
}

/** Kubernetes timestamps have second precision (metav1.Time). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  )
}
