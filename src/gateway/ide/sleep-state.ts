// Where a DevServer is between sleep and work, as its IDE sees it, read from the object alone
// (the informer cache; no API call):
//
// - `asleep`: phase Sleeping or status.sleep present: the controller stopped it for idleness.
// - `waking`: not ready yet, and a wake was asked for (WAKE_REQUESTED_ANNOTATION) after its Ready
//   condition last changed: it went to sleep (Ready False), someone asked to wake it, and it has
//   not been Ready since. A DevServer that becomes unready for another reason later (a crash)
//   is not "waking": its Ready condition changed after the request.
// - `awake`: anything else (ready, or unready for reasons the usual not-ready page covers).
//
// Readiness here is the route table's (Ready or CodeServerReady true).

import { WAKE_REQUESTED_ANNOTATION } from '../../api/index.ts'
import type { DevServer } from '../../api/index.ts'
import type { SleepingDevServer } from './wake-request.ts'

export type IdeSleepState = 'asleep' | 'waking' | 'awake'

export interface DevServerProgress {
  readonly state: IdeSleepState
  /** status.phase ('' when none yet). */
  readonly phase: string
  /** The Ready condition's message (what the controller says it is doing). */
  readonly message: string
  readonly ready: boolean
}

type Condition = { type: string; status: string; message?: string; lastTransitionTime?: string }

export function isIdeReady(dev: DevServer): boolean {
  return (dev.status?.conditions ?? []).some((c) => (c.type === 'Ready' || c.type === 'CodeServerReady') && c.status === 'True')
}

export function sleepStateOf(dev: DevServer): IdeSleepState {
  const status = dev.status
  if (status?.phase === 'Sleeping' || status?.sleep !== undefined) return 'asleep'
  if (isIdeReady(dev)) return 'awake'
  const requested = Date.parse(dev.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION] ?? '')
  if (!Number.isFinite(requested)) return 'awake'
  if (status?.phase === 'Stopped' || status?.phase === 'Terminating') return 'awake'
  const changed = Date.parse(readyCondition(dev)?.lastTransitionTime ?? '')
  return !Number.isFinite(changed) || requested >= changed ? 'waking' : 'awake'
}

export function progressOf(dev: DevServer): DevServerProgress {
  return {
    state: sleepStateOf(dev),
    phase: dev.status?.phase ?? '',
    message: readyCondition(dev)?.message ?? '',
    ready: isIdeReady(dev),
  }
}

/** The fields the wake request decides on. */
export function sleepingRef(dev: DevServer): SleepingDevServer {
  return {
    namespace: dev.metadata.namespace ?? '',
    name: dev.metadata.name ?? '',
    uid: dev.metadata.uid ?? '',
    sleepSince: dev.status?.sleep?.since ?? '',
    wakeRequested: dev.metadata.annotations?.[WAKE_REQUESTED_ANNOTATION],
  }
}

function readyCondition(dev: DevServer): Condition | undefined {
  return (dev.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready')
}
