// The fields both server kinds share, as steps read them: the object (metadata, resources,
// placement, running), the status every kind writes, and where a container's agent answers.
import type { Condition, KObject } from '../../src/runtime/index.ts'
import type { ServerPhase } from './outcome.ts'

/** Where a container's agent answers, and its token. */
export interface AgentConnection {
  baseUrl: string
  token: string
}

export interface ServerObject extends KObject {
  // As ObjectMeta types them; a server read from the API always has name, namespace and uid.
  metadata: {
    name?: string
    namespace?: string
    uid?: string
    generation?: number
    deletionTimestamp?: string
    annotations?: Record<string, string>
    resourceVersion?: string
    finalizers?: string[]
  }
  spec: {
    resources?: { cores?: number; memoryMiB?: number; diskGiB?: number }
    placement?: { providerRef?: { name: string } }
    running?: boolean
  }
}

/** The status fields both kinds share. */
export interface ServerStatus {
  phase?: ServerPhase
  observedGeneration?: number
  conditions?: Condition[]
  vmid?: number
  address?: string
  runtimes?: Array<{ name: string; version: string; channel?: string; sha256?: string }>
  restarts?: number
  /** Present while the server sleeps (spec.idle; steps/sleep.ts). */
  sleep?: { level?: 'process' | 'container'; since?: string; reason?: string }
}
