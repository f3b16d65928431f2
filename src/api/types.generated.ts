// Generated from crds/ by scripts/gen-types.ts. Do not edit: change the CRD and run `npm run gen:types`.

import type { Condition, ObjectMeta } from '../apimachinery/index.ts'

// ---- ContainerProvider (zerolaghub.dev/v1alpha1, Cluster) ----

/** Where the containers of this provider may download from: runtime artifacts (RuntimeCatalog URLs) and GameServer spec.mods URLs. Nothing declared means nothing is downloaded: every artifact and mod URL is refused (zlh up declares its own artifact server on the provider it creates). The agent enforces the list the controller sends with each install, and the controller checks before it asks. RuntimeCatalog verification by the controller uses the union of every provider's lists. */
export interface ContainerProviderSpecOutbound {
  /** URL prefixes downloads may come from, e.g. https://cdn.example.com/mods/ or http://127.0.0.1:8081/. A URL matches when scheme, host and port are equal and the source's path is a prefix of the URL's at a / boundary, compared after URL normalization (case, default ports, IPv4/IPv6 spellings, dot segments, a trailing dot on the host). URLs with a user name or password, or with %2f, %5c or %2e in the path, never match. Every redirect hop must match too (at most 5). Loopback, link-local (169.254.0.0/16, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), unspecified, multicast and reserved addresses are refused unless the source names that very address as its host (http://127.0.0.1:8081/, not localhost) or it lies in allowedNetworks. */
  allowedSources?: Array<string>
  /** CIDRs (10.0.0.0/8, fd00::/8) that host names in allowedSources may resolve to although they are not public, e.g. an internal mirror. Host names are resolved once and the connection goes to the checked address. */
  allowedNetworks?: Array<string>
}

/** Local processes under a directory root. Isolates nothing; for development and the embedded default. */
export interface ContainerProviderSpecProcess {
  /** Directory under which each container gets its root; defaults to the controller's state directory. */
  rootDir?: string
  /** First loopback port (default 17100): container N's agent listens on portRangeStart + 2(N - 100), its code-server on the next port. Keep the ports in use below the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range, usually from 32768); an agent whose port is taken anyway moves to a free one. */
  portRangeStart?: number
}

/** Real LXC containers on the controller's host. */
export interface ContainerProviderSpecLxc {
  /** LXC's container directory. */
  lxcpath?: string
  /** lxc-create template. */
  template?: string
  /** Host bridge the provider creates and attaches containers to. */
  bridge?: string
  /** IPv4 CIDR of the bridge network. */
  subnet?: string
}

export interface ContainerProviderSpecProxmoxVmidRange {
  min?: number
  max?: number
}

/** Secret key holding the API token "USER@REALM!TOKENID=SECRET". */
export interface ContainerProviderSpecProxmoxCredentialsSecretRef {
  namespace: string
  name: string
  key: string
}

/** A Proxmox VE cluster through its REST API. */
export interface ContainerProviderSpecProxmox {
  /** Base URL, e.g. https://pve.example:8006. */
  endpoint: string
  /** Nodes containers may be placed on. */
  nodes: Array<string>
  /** Storage for container root disks. */
  storage?: string
  bridge?: string
  /** Template volume, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
  ostemplate?: string
  vmidRange?: ContainerProviderSpecProxmoxVmidRange
  /** Secret key holding the API token "USER@REALM!TOKENID=SECRET". */
  credentialsSecretRef: ContainerProviderSpecProxmoxCredentialsSecretRef
  /** PEM CA bundle (base64) to verify the endpoint's certificate. */
  caData?: string
  /** SHA-256 fingerprint of the endpoint's certificate (AA:BB:...), pinned instead of a CA. */
  fingerprint?: string
  /** Skip TLS verification. Never in production. */
  insecureSkipVerify?: boolean
}

export interface ContainerProviderSpec {
  type: "process" | "lxc" | "proxmox"
  /** The provider used by servers that name none; at most one should be default. */
  default?: boolean
  /** Where the containers of this provider may download from: runtime artifacts (RuntimeCatalog URLs) and GameServer spec.mods URLs. Nothing declared means nothing is downloaded: every artifact and mod URL is refused (zlh up declares its own artifact server on the provider it creates). The agent enforces the list the controller sends with each install, and the controller checks before it asks. RuntimeCatalog verification by the controller uses the union of every provider's lists. */
  outbound?: ContainerProviderSpecOutbound
  /** Local processes under a directory root. Isolates nothing; for development and the embedded default. */
  process?: ContainerProviderSpecProcess
  /** Real LXC containers on the controller's host. */
  lxc?: ContainerProviderSpecLxc
  /** A Proxmox VE cluster through its REST API. */
  proxmox?: ContainerProviderSpecProxmox
}

/** Written by the controller, checked on every spec change, when a server's container appears or goes, and every 30 s. */
export interface ContainerProviderStatus {
  observedGeneration?: number
  /** How many containers of this control plane the backend holds (absent while it cannot be reached). */
  containers?: number
  /** Ready: the backend is usable from the controller (process: root directory writable; lxc: running as root with lxc-create installed; proxmox: the API answers); reason and message say what to fix. */
  conditions?: Array<Condition>
}

/** A container backend. Exactly one block matching spec.type is used. */
export interface ContainerProvider {
  apiVersion: 'zerolaghub.dev/v1alpha1'
  kind: 'ContainerProvider'
  metadata: ObjectMeta
  spec: ContainerProviderSpec
  /** Written by the controller, checked on every spec change, when a server's container appears or goes, and every 30 s. */
  status?: ContainerProviderStatus
}

// ---- DevServer (zerolaghub.dev/v1alpha1, Namespaced) ----

export interface DevServerSpecRuntimesItem {
  /** Runtime name; a RuntimeCatalog of this name must exist. */
  name: string
  /** Exact version from the catalog. */
  version?: string
  /** Catalog channel to follow, e.g. "stable". */
  channel?: string
}

/** The hosted IDE. */
export interface DevServerSpecCodeServer {
  /** Whether code-server runs on port 6000. */
  enabled?: boolean
}

/** Container size. */
export interface DevServerSpecResources {
  /** CPU cores. */
  cores?: number
  /** Memory limit in MiB. */
  memoryMiB?: number
  /** Root disk size in GiB. */
  diskGiB?: number
}

/** ContainerProvider to use; the default provider when absent. */
export interface DevServerSpecPlacementProviderRef {
  name: string
}

/** Where the container is created. */
export interface DevServerSpecPlacement {
  /** ContainerProvider to use; the default provider when absent. */
  providerRef?: DevServerSpecPlacementProviderRef
}

/** Sleep when nobody uses the IDE. With no IDE traffic (HTTP requests, WebSocket frames, console sessions through the gateway) for stopAfterSeconds the container is stopped and the server shows phase Sleeping; opening the IDE URL wakes it. spec.running stays as written. */
export interface DevServerSpecIdle {
  /** Seconds without IDE traffic after which the container sleeps. */
  stopAfterSeconds: number
}

/** Desired state of the dev container. */
export interface DevServerSpec {
  /** Language runtimes to install, each from a RuntimeCatalog. */
  runtimes?: Array<DevServerSpecRuntimesItem>
  /** The hosted IDE. */
  codeServer?: DevServerSpecCodeServer
  /** Container size. */
  resources?: DevServerSpecResources
  /** Where the container is created. */
  placement?: DevServerSpecPlacement
  /** Sleep when nobody uses the IDE. With no IDE traffic (HTTP requests, WebSocket frames, console sessions through the gateway) for stopAfterSeconds the container is stopped and the server shows phase Sleeping; opening the IDE URL wakes it. spec.running stays as written. */
  idle?: DevServerSpecIdle
  /** Whether the container should run. */
  running?: boolean
}

export interface DevServerStatusRuntimesItem {
  name: string
  version: string
  channel?: string
  sha256?: string
}

export interface DevServerStatusLastCrash {
  time?: string
  exitCode?: number | null
  signal?: string | null
  uptimeSeconds?: number
  classification?: "oom" | "mod_or_plugin_error" | "missing_dependency" | "port_in_use" | "eula_not_accepted" | "java_version_mismatch" | "nonzero_exit" | "unexpected_exit" | "unresponsive"
  logTail?: Array<string>
}

/** Present while the container sleeps (phase Sleeping); removed when it wakes. */
export interface DevServerStatusSleep {
  level?: "container"
  since?: string
  reason?: string
}

/** Where the hosted IDE is served; the gateway routes by it. */
export interface DevServerStatusIde {
  host?: string
  url?: string
  /** host:port the gateway proxies the IDE to (the container's code-server); set by the controller. */
  upstream?: string
  /** The workspace folder the IDE opens, as an absolute path inside the container as code-server sees it (/home/dev/workspace in an LXC or Proxmox container; under the container's directory on the process provider). Reported by the agent, copied here by the controller; the gateway redirects a browser to /?folder=<this path> after the token exchange and opens /home/dev/workspace when it is absent (an older agent). */
  folder?: string
}

/** Observed state, written by the controller. */
export interface DevServerStatus {
  phase?: "Pending" | "Provisioning" | "Installing" | "Starting" | "Running" | "Crashed" | "Backoff" | "Error" | "Stopping" | "Stopped" | "Sleeping" | "Terminating"
  observedGeneration?: number
  conditions?: Array<Condition>
  vmid?: number
  address?: string
  /** Runtimes installed in the container. */
  runtimes?: Array<DevServerStatusRuntimesItem>
  restarts?: number
  lastCrash?: DevServerStatusLastCrash
  /** Present while the container sleeps (phase Sleeping); removed when it wakes. */
  sleep?: DevServerStatusSleep
  /** Where the hosted IDE is served; the gateway routes by it. */
  ide?: DevServerStatusIde
}

/** A developer container with language runtimes and a hosted browser IDE. */
export interface DevServer {
  apiVersion: 'zerolaghub.dev/v1alpha1'
  kind: 'DevServer'
  metadata: ObjectMeta
  /** Desired state of the dev container. */
  spec: DevServerSpec
  /** Observed state, written by the controller. */
  status?: DevServerStatus
}

// ---- GameServer (zerolaghub.dev/v1alpha1, Namespaced) ----

/** Language runtime the server needs, from a RuntimeCatalog; name plus either an exact version or a channel. */
export interface GameServerSpecRuntime {
  /** Runtime name; a RuntimeCatalog of this name must exist. */
  name: string
  /** Exact version from the catalog, e.g. "24.21.0". */
  version?: string
  /** Catalog channel to follow, e.g. "stable"; the server moves when the channel moves. */
  channel?: string
}

/** The game server software (e.g. flying-squid, paper) from a RuntimeCatalog of that name, installed like a runtime with its bin/ on PATH. */
export interface GameServerSpecPackage {
  name: string
  version?: string
  channel?: string
}

/** Container size. */
export interface GameServerSpecResources {
  /** CPU cores. */
  cores?: number
  /** Memory limit in MiB. */
  memoryMiB?: number
  /** Root disk size in GiB. */
  diskGiB?: number
}

export interface GameServerSpecServerEnvItem {
  name: string
  value?: string
}

/** How the agent starts and stops the game process. */
export interface GameServerSpecServer {
  /** Executable and leading arguments; resolved against the runtime PATH. */
  command: Array<string>
  /** Further arguments appended to command. */
  args?: Array<string>
  /** Environment variables for the game process. */
  env?: Array<GameServerSpecServerEnvItem>
  /** Working directory, relative to the server root. */
  workingDir?: string
  /** TCP port the game listens on. */
  port?: number
  /** Console line that asks the game to stop gracefully. */
  stopCommand?: string
  /** Seconds to wait after stopCommand before SIGTERM, and again before SIGKILL. */
  gracePeriodSeconds?: number
}

/** Crash recovery policy of the agent's supervisor. */
export interface GameServerSpecSupervision {
  /** When a stopped process is started again. */
  restartPolicy?: "Always" | "OnFailure" | "Never"
  /** Delays before successive restarts; the last repeats. */
  backoffSeconds?: Array<number>
  /** A run at least this long resets the backoff to its first step. */
  resetAfterSeconds?: number
  /** Consecutive crashes after which the server is left in Error. */
  maxConsecutiveFailures?: number
}

export interface GameServerSpecModsItem {
  /** File name in the mods folder. */
  name: string
  /** http(s) URL of the file. */
  url: string
  /** Lower-case hex sha256 of the file. */
  sha256: string
}

/** ContainerProvider to use; the default provider when absent. */
export interface GameServerSpecPlacementProviderRef {
  name: string
}

/** Where the container is created. */
export interface GameServerSpecPlacement {
  /** ContainerProvider to use; the default provider when absent. */
  providerRef?: GameServerSpecPlacementProviderRef
}

/** How the agent checks that the game answers. Failing failureThreshold probes in a row (counted once the game has answered once, or initialDelaySeconds after its start) means the game is hung: it is stopped (stop command, SIGTERM, SIGKILL as for any stop) and restarted through the crash backoff, recorded as lastCrash with classification "unresponsive". The minecraft and a2s probes also report players. */
export interface GameServerSpecHealth {
  /** minecraft (server-list ping), a2s (Source A2S_INFO query over UDP), tcp (the port accepts a connection) or none. Default: minecraft when spec.game is "minecraft", otherwise tcp. */
  probe?: "minecraft" | "a2s" | "tcp" | "none"
  /** Port the probe asks; default spec.server.port. */
  port?: number
  /** Seconds between probes. */
  periodSeconds?: number
  /** Seconds one probe may take. */
  timeoutSeconds?: number
  /** Failed probes in a row that mean the game is hung. */
  failureThreshold?: number
  /** Seconds after a start during which failures do not count until the game has answered once (a modded Minecraft start can take minutes). */
  initialDelaySeconds?: number
}

/** Sleep when nobody plays. With no players for stopAfterSeconds the game is stopped gracefully and the server shows phase Sleeping; spec.running stays as written (sleep is the system's state, in status). level process stops the game inside its running container (fast wake); level container also stops the container through its provider (frees its memory). While asleep a server-list ping answers with a "sleeping" message and, with wake onConnect, a login wakes the server and the player is held until it answers. */
export interface GameServerSpecIdle {
  /** Seconds with no players after which the server sleeps. */
  stopAfterSeconds: number
  /** onConnect wakes on a player's login; never wakes only on request (annotation zerolaghub.dev/wake-requested). */
  wake?: "onConnect" | "never"
  /** process stops the game only; container stops the whole container. */
  level?: "process" | "container"
}

/** Scheduled restarts. warningSeconds before each, warningCommand is written to the game's console. */
export interface GameServerSpecSchedule {
  /** Five-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 4 * * *". */
  restart: string
  /** IANA time zone the cron expression is read in. */
  timeZone?: string
  /** Seconds before the restart the warning is written to the console. */
  warningSeconds?: number
  /** Console line written as the warning; {seconds} is replaced by warningSeconds. */
  warningCommand?: string
}

/** Desired state of the game server. */
export interface GameServerSpec {
  /** Game this server runs, e.g. "minecraft". */
  game: string
  /** Language runtime the server needs, from a RuntimeCatalog; name plus either an exact version or a channel. */
  runtime: GameServerSpecRuntime
  /** The game server software (e.g. flying-squid, paper) from a RuntimeCatalog of that name, installed like a runtime with its bin/ on PATH. */
  package?: GameServerSpecPackage
  /** Container size. */
  resources?: GameServerSpecResources
  /** How the agent starts and stops the game process. */
  server: GameServerSpecServer
  /** Crash recovery policy of the agent's supervisor. */
  supervision?: GameServerSpecSupervision
  /** Mods or plugins installed into the server, each hash-checked. */
  mods?: Array<GameServerSpecModsItem>
  /** Where the container is created. */
  placement?: GameServerSpecPlacement
  /** How the agent checks that the game answers. Failing failureThreshold probes in a row (counted once the game has answered once, or initialDelaySeconds after its start) means the game is hung: it is stopped (stop command, SIGTERM, SIGKILL as for any stop) and restarted through the crash backoff, recorded as lastCrash with classification "unresponsive". The minecraft and a2s probes also report players. */
  health?: GameServerSpecHealth
  /** Sleep when nobody plays. With no players for stopAfterSeconds the game is stopped gracefully and the server shows phase Sleeping; spec.running stays as written (sleep is the system's state, in status). level process stops the game inside its running container (fast wake); level container also stops the container through its provider (frees its memory). While asleep a server-list ping answers with a "sleeping" message and, with wake onConnect, a login wakes the server and the player is held until it answers. */
  idle?: GameServerSpecIdle
  /** Scheduled restarts. warningSeconds before each, warningCommand is written to the game's console. */
  schedule?: GameServerSpecSchedule
  /** Whether the game process should run. */
  running?: boolean
}

export interface GameServerStatusRuntimesItem {
  name: string
  version: string
  channel?: string
  sha256?: string
}

export interface GameServerStatusLastCrash {
  time?: string
  exitCode?: number | null
  signal?: string | null
  uptimeSeconds?: number
  classification?: "oom" | "mod_or_plugin_error" | "missing_dependency" | "port_in_use" | "eula_not_accepted" | "java_version_mismatch" | "nonzero_exit" | "unexpected_exit" | "unresponsive"
  logTail?: Array<string>
}

export interface GameServerStatusPlayersSampleItem {
  name?: string
  id?: string
}

/** From the last health probe that reports players (minecraft, a2s); absent while unknown. */
export interface GameServerStatusPlayers {
  online?: number
  max?: number
  /** Some of the players online, as the game lists them (at most 12). */
  sample?: Array<GameServerStatusPlayersSampleItem>
  version?: string
  motd?: string
  observedTime?: string
}

/** Present while the server sleeps (phase Sleeping); removed when it wakes. */
export interface GameServerStatusSleep {
  level?: "process" | "container"
  since?: string
  reason?: string
}

/** Observed state, written by the controller. */
export interface GameServerStatus {
  phase?: "Pending" | "Provisioning" | "Installing" | "Starting" | "Running" | "Crashed" | "Backoff" | "Error" | "Stopping" | "Stopped" | "Sleeping" | "Terminating"
  observedGeneration?: number
  conditions?: Array<Condition>
  vmid?: number
  address?: string
  /** Runtimes installed in the container. */
  runtimes?: Array<GameServerStatusRuntimesItem>
  restarts?: number
  lastCrash?: GameServerStatusLastCrash
  nextRestartTime?: string
  /** From the last health probe that reports players (minecraft, a2s); absent while unknown. */
  players?: GameServerStatusPlayers
  /** Present while the server sleeps (phase Sleeping); removed when it wakes. */
  sleep?: GameServerStatusSleep
  /** When spec.schedule restarts the game next. */
  nextScheduledRestart?: string
}

/** A hosted game server running in its own container, supervised by the ZeroLagHub agent. */
export interface GameServer {
  apiVersion: 'zerolaghub.dev/v1alpha1'
  kind: 'GameServer'
  metadata: ObjectMeta
  /** Desired state of the game server. */
  spec: GameServerSpec
  /** Observed state, written by the controller. */
  status?: GameServerStatus
}

// ---- RuntimeCatalog (zerolaghub.dev/v1alpha1, Cluster) ----

export interface RuntimeCatalogSpecVersionsItemArtifactsItem {
  arch: "x64" | "arm64"
  /** http(s) URL of a .tar.gz whose root holds the runtime (bin/ on PATH). */
  url: string
  /** Lower-case hex sha256 of the archive. */
  sha256: string
  sizeBytes?: number
}

/** Command run after extraction; the install fails unless it succeeds (and prints expectOutput). */
export interface RuntimeCatalogSpecVersionsItemVerify {
  command: Array<string>
  /** Substring the command's output must contain. */
  expectOutput?: string
}

export interface RuntimeCatalogSpecVersionsItem {
  version: string
  /** One archive per CPU architecture. */
  artifacts: Array<RuntimeCatalogSpecVersionsItemArtifactsItem>
  /** Command run after extraction; the install fails unless it succeeds (and prints expectOutput). */
  verify?: RuntimeCatalogSpecVersionsItemVerify
}

export interface RuntimeCatalogSpec {
  /** Every version servers may use. */
  versions: Array<RuntimeCatalogSpecVersionsItem>
  /** Channel name to version, e.g. stable → 24.21.0; promotion moves a channel. */
  channels?: Record<string, string>
}

export interface RuntimeCatalogStatusVersionsItem {
  version: string
  verified: boolean
  sha256?: string
  sizeBytes?: number
  checkedAt?: string
  message?: string
}

export interface RuntimeCatalogStatusRolloutsItem {
  channel: string
  targetVersion?: string
  state?: "Progressing" | "Complete" | "Halted"
  updated?: number
  total?: number
  message?: string
}

export interface RuntimeCatalogStatus {
  observedGeneration?: number
  verifiedCount?: number
  /** Verification result per version; servers are only pointed at verified versions. */
  versions?: Array<RuntimeCatalogStatusVersionsItem>
  /** Channel rollouts in progress or halted. */
  rollouts?: Array<RuntimeCatalogStatusRolloutsItem>
  conditions?: Array<Condition>
}

/** The versions of one language runtime (the object's name), their artifacts and channels. */
export interface RuntimeCatalog {
  apiVersion: 'zerolaghub.dev/v1alpha1'
  kind: 'RuntimeCatalog'
  metadata: ObjectMeta
  spec: RuntimeCatalogSpec
  status?: RuntimeCatalogStatus
}
