// When WAKE_REQUESTED_ANNOTATION asks to wake a sleeping server, and what time a writer puts in it:
// one rule for the controller (which wakes on it) and the gateway (the Minecraft router and the IDE,
// which write it once per sleep). The annotation holds an RFC 3339 time; it asks to wake the sleep that
// began at status.sleep.since when it is later than that. A time further ahead of the reader's clock
// than ANNOTATION_CLOCK_SKEW_MS is not trusted (it would ask to wake every later sleep too, or keep an
// idle clock from ever running), so a writer replaces it.

/** How far ahead of a reader's clock a time-valued annotation may be (clock skew between writers and readers). */
export const ANNOTATION_CLOCK_SKEW_MS = 60_000

/** A time-valued annotation (wake request, last activity) in ms; undefined when absent, not a time, or dated past the skew. */
export function annotationTimeMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) || at > nowMs + ANNOTATION_CLOCK_SKEW_MS ? undefined : at
}

/** Whether the annotation's value asks to wake the sleep that began at `sleepSince` (any usable request does when that is unknown). */
export function wakeRequestedFor(value: string | undefined, sleepSince: string | undefined, nowMs: number): boolean {
  const at = annotationTimeMs(value, nowMs)
  if (at === undefined) return false
  const since = Date.parse(sleepSince ?? '')
  return Number.isNaN(since) || at > since
}

/** The time a writer asks with: now, but later than the sleep's start even on a clock behind the controller's. */
export function wakeRequestTime(sleepSince: string | undefined, nowMs: number): string {
  const since = Date.parse(sleepSince ?? '')
  return new Date(Number.isNaN(since) ? nowMs : Math.max(nowMs, since + 1)).toISOString()
}
