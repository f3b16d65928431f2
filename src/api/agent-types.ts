// Wire types of the agent's core HTTP API (status, state stream, runtimes, dev environment,
// code-server). Shared by the agent (agent/) and its typed client (src/agent-client/).
import type { OutboundPolicy } from './outbound.ts'

/** Every error response body. Match on `code`; `message` is for people. */
export interface AgentErrorBody {
  code: string
  message: string
  statusCode: number
  detail?: Record<string, unknown>
}

/** The catalog's verify step: run after extraction; the install fails unless it exits 0 (and prints expectOutput). */
export interface RuntimeVerify {
  command: string[]
  expectOutput?: string
}

/** POST /runtimes */
export interface RuntimeInstallRequest {
  name: string
  version: string
  url: string
  /** lowercase hex sha256 of the artifact */
  sha256: string
  verify?: RuntimeVerify
  /** expected artifact size (from the catalog), used for the disk-space check before download */
  sizeBytes?: number
  /** make this version `current` once installed (default true) */
  activate?: boolean
  /** where the artifact may be downloaded from (the ContainerProvider's spec.outbound); without it the agent downloads nothing */
  outbound?: OutboundPolicy
}

export interface InstalledRuntimeVersion {
  version: string
  sha256: string
  installedAt: string
  current: boolean
}

export interface InstalledRuntime {
  name: string
  /** the version the `current` link points at, or null */
  current: string | null
  /** `<runtimes>/<name>/current/bin`, put on the dev PATH */
  binDir: string
  versions: InstalledRuntimeVersion[]
}

/** GET /runtimes */
export interface RuntimeList {
  runtimes: InstalledRuntime[]
  installing: InstallProgress[]
}

export type InstallPhase = 'queued' | 'downloading' | 'verifying' | 'committing'

export interface InstallProgress {
  name: string
  version: string
  phase: InstallPhase
  receivedBytes: number
  totalBytes?: number
}

/** POST /runtimes result */
export interface RuntimeInstallResult {
  name: string
  version: string
  /** false when the version was already installed and verified (no download happened) */
  downloaded: boolean
  current: string | null
  /** set when installing switched `current` away from another version */
  previous?: string | null
}

/** PUT /runtimes/:name/current */
export interface RuntimeSwitchRequest {
  version: string
}

/** DELETE /runtimes/:name/:version result */
export interface RuntimeRemoveResult {
  name: string
  version: string
  current: string | null
}

export interface DevEnvState {
  /** who dev children (code-server, its terminal, consoles) run as: `dev` where the agent made the dev user, else the agent's own user */
  user: string
  home: string
  workspace: string
  /** the normalized PATH every dev shell and child gets */
  path: string
  profileScript: string
  /** host-wide changes (user creation, /etc/profile.d) are applied only with root `/` as uid 0 */
  hostChanges: 'applied' | 'skipped'
}

export type CodeServerPhase = 'NotInstalled' | 'Stopped' | 'Starting' | 'Running' | 'Unhealthy' | 'Crashed' | 'Stopping'

export interface CodeServerState {
  /** desired state: true after start/restart, false after stop (survives agent restarts) */
  enabled: boolean
  phase: CodeServerPhase
  bindAddr: string
  /**
   * The folder code-server opens: the dev workspace as an absolute path as code-server sees it
   * (`/home/dev/workspace` in a real container, under the container's directory on the process
   * provider). The controller copies it into DevServer `status.ide.folder`; the gateway opens it.
   */
  folder?: string
  pid?: number
  /** true when the running instance was found (not started) by this agent process */
  adopted?: boolean
  version?: string | null
  restarts: number
  nextRestartAt?: string
  lastExit?: { at: string; code: number | null; signal: string | null }
  message?: string
}

/** GET /status */
export interface AgentStatus {
  agentVersion: string
  vmid?: string
  startedAt: string
  uptimeSeconds: number
  /** true once the agent's startup provisioning (recovery, dev user, workspace, environment) is done */
  provisioningComplete: boolean
  runtimes: InstalledRuntime[]
  installing: InstallProgress[]
  devEnv: DevEnvState | null
  codeServer: CodeServerState | null
  /** published by the game supervisor; null until it publishes */
  game: unknown
  /** every component's latest published state, by component name */
  components: Record<string, unknown>
}

/** GET /events: `event: snapshot` (on connect) */
export interface AgentSnapshotEvent {
  id: number
  components: Record<string, unknown>
}

/** GET /events: `event: state` (one per change) */
export interface AgentStateEvent {
  id: number
  component: string
  state: unknown
  at: string
}

export type AgentEvent = { type: 'snapshot'; data: AgentSnapshotEvent } | { type: 'state'; data: AgentStateEvent }

/** POST /dev/codeserver/start|stop|restart result */
export type CodeServerActionResult = CodeServerState
