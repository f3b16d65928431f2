// A DevServer waiting for code-server while its builder works: the builder's state (the
// CODE_SERVER_BUILD_ANNOTATION on the DevServer, see src/api/code-server-build.ts) becomes the
// DevServer's condition reason and message, and each failed attempt one Warning Event.
//
// Rules
//  - Only while the DevServer wants code-server and no `code-server` RuntimeCatalog exists: once
//    the catalog is there, the normal resolution speaks (a leftover annotation is ignored).
//  - One Event per failed attempt: the condition's message names the attempt, and the Event is
//    emitted only when the message differs from the one already in the status.
import { codeServerBuildOf, type CodeServerBuildState } from '../src/api/index.ts'
import type { Condition } from '../src/runtime/index.ts'
import type { DevServer, RuntimeCatalog } from './kinds.ts'
import { CODE_SERVER_RUNTIME } from './kinds.ts'
import { Reason } from './condition-reasons.ts'

export const CODE_SERVER_BUILDING = Reason.CodeServerBuilding
export const CODE_SERVER_BUILD_FAILED = Reason.CodeServerBuildFailed

export interface CodeServerWait {
  reason: typeof CODE_SERVER_BUILDING | typeof CODE_SERVER_BUILD_FAILED
  message: string
  state: CodeServerBuildState
}

/** The build this DevServer waits for, if its builder published one and the catalog is missing. */
export function codeServerWait(ds: DevServer, catalog: RuntimeCatalog | undefined): CodeServerWait | undefined {
  if (ds.spec.codeServer?.enabled === false || catalog !== undefined) return undefined
  if ((ds.spec.runtimes ?? []).some((r) => r.name === CODE_SERVER_RUNTIME && r.version !== undefined)) return undefined
  const state = codeServerBuildOf(ds.metadata.annotations)
  if (state === undefined) return undefined
  if (state.phase === 'Building') return { reason: CODE_SERVER_BUILDING, message: state.message, state }
  const retry = state.retryAt === undefined ? '' : `; retrying at ${state.retryAt}`
  return { reason: CODE_SERVER_BUILD_FAILED, message: `code-server build attempt ${state.attempt} failed${retry}: ${state.message}`, state }
}

/** Whether this wait is a failure the status does not show yet (so it deserves a Warning Event). */
export function isNewBuildFailure(wait: CodeServerWait, previous: Condition | undefined): boolean {
  return wait.reason === CODE_SERVER_BUILD_FAILED && (previous?.reason !== wait.reason || previous.message !== wait.message)
}
