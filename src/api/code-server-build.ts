// The code-server build's state, handed from its builder (`zlh up`) to the controller: an
// annotation on each DevServer that waits for the `code-server` RuntimeCatalog. The controller
// turns it into the DevServer's conditions (reason CodeServerBuilding / CodeServerBuildFailed)
// and a Warning Event per failed attempt, so `kubectl describe devserver` shows the build.
//
// Why an annotation on the waiting DevServers: the catalog cannot exist before there is a version
// to put in it (spec.versions has minItems 1); the DevServer reconciler already re-reconciles when
// a server's annotations change (the rollout hands off the same way), so a new state reaches the
// condition at once; and it works unchanged when the controller runs elsewhere.
//
// Guarantees: `codeServerBuildOf` returns a state only for a well-formed value (known state,
// bounded message, integer attempt); anything else is ignored (undefined).

export const CODE_SERVER_BUILD_ANNOTATION = 'zerolaghub.dev/code-server-build'

/** Longest message carried (npm's last lines are cut to fit). */
export const CODE_SERVER_BUILD_MESSAGE_MAX = 2000

export type CodeServerBuildPhase = 'Building' | 'Failed'

export interface CodeServerBuildState {
  phase: CodeServerBuildPhase
  /** What a person reads: progress while building, the error and npm's last lines when failed. */
  message: string
  /** 1 for the first attempt of this builder; a new number means a new attempt (one Event each). */
  attempt: number
  /** When a failed build is tried again (RFC 3339). */
  retryAt?: string
}

export function formatCodeServerBuild(state: CodeServerBuildState): string {
  return JSON.stringify({ ...state, message: state.message.slice(0, CODE_SERVER_BUILD_MESSAGE_MAX) })
}

export function codeServerBuildOf(annotations: Record<string, string> | undefined): CodeServerBuildState | undefined {
  const raw = annotations?.[CODE_SERVER_BUILD_ANNOTATION]
  if (raw === undefined) return undefined
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  if ((o.phase !== 'Building' && o.phase !== 'Failed') || typeof o.message !== 'string' || !Number.isInteger(o.attempt)) return undefined
  return {
    phase: o.phase,
    message: o.message.slice(0, CODE_SERVER_BUILD_MESSAGE_MAX),
    attempt: o.attempt as number,
    ...(typeof o.retryAt === 'string' ? { retryAt: o.retryAt } : {}),
  }
}
