// Wire types of the agent's game, console, files, uploads and mods routes: what the controller,
// gateway and the agent client send and receive. Types only — no behaviour.
import type {
  GameServerSpecHealth,
  GameServerSpecIdle,
  GameServerSpecModsItem,
  GameServerSpecServer,
  GameServerSpecSupervision,
} from './types.generated.ts'
import type { OutboundPolicy } from './outbound.ts'

export type CrashClassification =
  | 'oom'
  | 'mod_or_plugin_error'
  | 'missing_dependency'
  | 'port_in_use'
  | 'eula_not_accepted'
  | 'java_version_mismatch'
  | 'nonzero_exit'
  | 'unexpected_exit'
  /** The process lived but the health probe failed failureThreshold times in a row (hung, e.g. SIGSTOPped). */
  | 'unresponsive'

/** Sleeping: stopped by spec.idle (level process) with the game port held by the agent's sleeping responder. */
export type GameState = 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Crashed' | 'Error' | 'Sleeping'

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never'

/** Body of `PUT /game`: the GameServer's `server`, `supervision`, `health` and `idle`, plus the desired run state. */
export interface GameSpecRequest {
  server: GameServerSpecServer
  supervision?: GameServerSpecSupervision
  /** spec.game: picks the default health probe (minecraft for "minecraft", otherwise tcp). */
  game?: string
  health?: GameServerSpecHealth
  idle?: GameServerSpecIdle
  /** true: start it unless it is already up (or in Error with an unchanged spec); false: stop it; absent: leave as is. */
  running?: boolean
}

/** The spec with every default filled in, as the supervisor uses it. */
export interface EffectiveGameSpec {
  server: Required<Pick<GameServerSpecServer, 'command' | 'args' | 'port' | 'stopCommand' | 'gracePeriodSeconds'>> &
    Pick<GameServerSpecServer, 'env' | 'workingDir'>
  supervision: Required<GameServerSpecSupervision>
  /** The probe with every default filled in (`port` = server.port when unset); probe 'none' = no health checks. */
  health: Required<GameServerSpecHealth>
  /** null: the game never sleeps. */
  idle: Required<GameServerSpecIdle> | null
}

/** What a probe that lists players reports (minecraft server-list ping, a2s A2S_INFO). */
export interface PlayersStatus {
  online: number
  max: number
  /** Some of the players online (at most 12), as the game lists them. */
  sample?: { name: string; id?: string }[]
  version?: string
  /** The message of the day, as plain text (formatting codes removed). */
  motd?: string
  /** When the probe read these (ISO time). */
  observedTime: string
}

/** The health probe's record while a spec is configured. */
export interface HealthStatus {
  probe: GameServerSpecHealth['probe']
  /** Whether the last probe answered. */
  ok: boolean
  lastProbeTime: string | null
  lastSuccessTime: string | null
  /** Failed probes in a row that count (see GameServerSpecHealth.initialDelaySeconds). */
  consecutiveFailures: number
  /** Why the last probe failed, in words. */
  lastError?: string
}

/** One unexpected exit of the game process. */
export interface CrashRecord {
  time: string
  exitCode: number | null
  signal: string | null
  uptimeSeconds: number
  classification: CrashClassification
  /** The log line that decided the classification, when a rule matched one. */
  evidence?: string
  /** The last (up to) 100 lines of output before the exit. */
  logTail: string[]
  /** True when the process exited while no agent was attached and the exit was found on re-attach. */
  observedAfterAgentRestart?: boolean
}

/** How a stop ended: the game obeyed the stop command, SIGTERM ended it, SIGKILL was needed, or it was already gone. */
export type StopStep = 'stopCommand' | 'SIGTERM' | 'SIGKILL' | 'notRunning'

export interface GameStatus {
  state: GameState
  /** Whether a spec has been pushed (PUT /game) at all. */
  configured: boolean
  pid: number | null
  /** When the current run started (ISO time), while Starting/Running/Stopping. */
  startedAt: string | null
  /** Crashes since the last run that lasted resetAfterSeconds (or since a start/spec change). */
  consecutiveFailures: number
  /** Restarts done by the supervisor since the agent started managing this spec. */
  restarts: number
  /** When state is Crashed and a restart is scheduled. */
  nextRestartTime: string | null
  lastCrash: CrashRecord | null
  /** How the last requested stop ended. */
  lastStop: { time: string; endedBy: StopStep } | null
  /** A spec or mod change waits for the next (re)start to take effect. */
  restartPending: boolean
  /** Why the state is Error, in words. */
  message?: string
  /** Whether the running process was adopted from a previous agent instance. */
  adopted: boolean
  /** From the last probe that reports players; null while unknown (no such probe, or not answered yet). */
  players: PlayersStatus | null
  health: HealthStatus | null
  /** Since when no player has been online while the game runs (ISO time); null while players are online or unknown. */
  idleSince: string | null
  /** While state is Sleeping: since when, and whether a login wakes it. */
  sleep: { since: string; wake: 'onConnect' | 'never'; reason: string } | null
}

/** Client → server messages on the console WebSockets (JSON text frames). */
export type ConsoleClientMessage = { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number }

/** Server → client messages on the console WebSockets (JSON text frames). */
export type ConsoleServerMessage =
  | { type: 'output'; data: string }
  | { type: 'history'; lines: string[] }
  | { type: 'throttled'; droppedBytes: number }
  | { type: 'state'; state: GameState }
  | { type: 'exit'; exitCode: number | null; signal: string | null }
  | { type: 'info'; message: string }

export interface FileEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  mode: number
  modifiedAt: string
}

export interface DirectoryListing {
  path: string
  entries: FileEntry[]
}

export interface UploadResult {
  path: string
  bytes: number
  /** For archives extracted with ?extract=1: how many files and directories were written. */
  extracted?: { files: number; directories: number }
}

export type ModSpec = GameServerSpecModsItem

/** PUT /mods/:name. `outbound`: where the mod may be downloaded from (the ContainerProvider's spec.outbound); without it the agent downloads nothing. */
export interface ModInstallRequest {
  url: string
  sha256: string
  name?: string
  outbound?: OutboundPolicy
}

/** PUT /mods: the whole desired list (spec.mods), with the outbound policy its downloads obey. */
export interface ModsSetRequest {
  mods: ModSpec[]
  outbound?: OutboundPolicy
}

export interface ModEntry {
  name: string
  /** present: in the mods folder; pendingInstall / pendingRemoval: applied at the next (re)start. */
  state: 'present' | 'pendingInstall' | 'pendingRemoval'
  /** sha256 the agent installed it with; absent for files put there by other means. */
  sha256?: string
  size?: number
  managed: boolean
}

export interface ModsListing {
  directory: string
  mods: ModEntry[]
  restartPending: boolean
}

/** Error bodies of these routes have the agent's usual shape (AgentErrorBody in agent-types.ts); `code` is one of these. */
export type GameRouteErrorCode =
  | 'GAME_NOT_CONFIGURED'
  | 'GAME_SPEC_INVALID'
  | 'GAME_START_FAILED'
  | 'GAME_NOT_RUNNING'
  | 'AGENT_GAME_NOT_SLEEPING'

/** POST /game/command: one line written to the game's console (stdin), as typed; 409 GAME_NOT_RUNNING when no game runs. */
export interface GameCommandRequest {
  line: string
}

/** GET /game: the status plus the spec the supervisor runs (defaults filled in), null before the first PUT /game. */
export interface GameInfo extends GameStatus {
  spec: EffectiveGameSpec | null
}
