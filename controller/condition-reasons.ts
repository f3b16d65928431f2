// Every condition reason the controller writes, with its meaning: users and tests match on these
// names (`kubectl get zgs -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'`), so a
// reason is added here, once, and referenced as `Reason.<Name>` — never as a bare string.
//
// Families (reasons computed from another catalog, each listed below by its rule, not by name):
//  - `Provider<Code>`: a provider error, <Code> from src/providers/errors.ts (e.g. ProviderQuotaExceeded);
//  - a GameServer's Ready reason while not running is its phase (Pending … Terminating, crds/);
//  - a DevServer's CodeServerReady reason while code-server is not running is the agent's
//    code-server phase (src/api/agent-types.ts CodeServerPhase), e.g. Starting, Crashed, Unhealthy.

export const CONDITION_REASONS = {
  // RuntimeResolved
  Resolved: 'every runtime reference resolved to a verified RuntimeCatalog version',
  CatalogNotFound: "no RuntimeCatalog has the runtime's name",
  ChannelNotFound: 'the catalog has no such channel',
  VersionNotFound: 'the catalog has no such version',
  ArchNotAvailable: "the version has no artifact for this machine's architecture",
  VersionNotVerified: "the version's artifacts were not (yet) verified by the RuntimeCatalog controller",
  CodeServerBuilding: 'no code-server catalog yet: its builder is working (message: progress)',
  CodeServerBuildFailed: "no code-server catalog: its builder's last attempt failed (message: why, next attempt)",
  // Provisioned (and the ContainerProvider's Ready)
  ContainerRunning: 'the container runs and its agent answers',
  ProviderNotFound: 'spec.placement.providerRef names no ContainerProvider',
  NoDefaultProvider: 'no providerRef and no ContainerProvider marked default',
  SeveralDefaultProviders: 'no providerRef and more than one ContainerProvider marked default',
  ProviderCredentialsMissing: "the provider's credentials Secret lacks its key",
  ProviderInvalid: "the provider's spec cannot be turned into a backend",
  ProviderFailed: 'the provider failed with an error that is not in its catalog',
  AddressUnknown: 'the container has no address yet',
  AgentUrlNotRecorded: 'the agent URL could not be written into the agent token Secret',
  AgentProvisioning: 'the agent is still preparing the container (dev user, workspace)',
  AgentNotReady: 'the agent does not answer (yet)',
  // RuntimeReady
  Installing: 'runtimes are being installed through the agent',
  Installed: 'every wanted runtime (or mod) is installed and current',
  InstallFailed: 'an install failed for a reason the agent did not classify',
  SourceNotAllowed: "an artifact or mod URL is refused by the provider's spec.outbound",
  VerifyFailed: "the runtime's verify command failed after download",
  ArtifactChecksumMismatch: "the downloaded artifact's sha256 differs from the catalog's",
  ArtifactTooLarge: 'the artifact is larger than the catalog says',
  ArtifactTruncated: 'the artifact download ended early',
  ArtifactUnavailable: 'the artifact could not be downloaded (HTTP error, unreachable, stalled, timeout)',
  // ModsReady
  ModInstallFailed: 'the agent could not install the mods',
  // Ready
  RuntimeUnresolved: 'a runtime reference does not resolve (RuntimeResolved says why)',
  RuntimeNotReady: 'runtimes are not installed (RuntimeReady says why)',
  CodeServerNotReady: 'code-server does not run healthy yet (CodeServerReady says why)',
  Running: 'the game answers on its port, or the IDE is up',
  Stopping: 'spec.running is false and the workload is being stopped',
  Stopped: 'spec.running is false',
  Sleeping:
    'asleep by spec.idle (no players, or no IDE traffic, for stopAfterSeconds); a login, the IDE URL or the wake annotation wakes it',
  // SleepReady (spec.idle; its lastTransitionTime is when the idle clock started counting)
  IdleClockRunning: 'spec.idle is set: the DevServer sleeps after stopAfterSeconds without IDE traffic',
  PlayersProbed: "the health probe reports players (minecraft, a2s), so spec.idle's idle clock runs",
  NoPlayerProbe: 'spec.idle needs a health probe that reports players (spec.health.probe minecraft or a2s); the server never sleeps',
  // Scheduled (spec.schedule on a GameServer)
  ScheduleValid: 'spec.schedule parses; status.nextScheduledRestart is the next restart',
  WarningSent: "the next scheduled restart's warning was written to the game's console",
  InvalidSchedule: 'spec.schedule.restart or spec.schedule.timeZone cannot be used (message: which field, why)',
  // CodeServerReady
  Healthy: 'code-server answers /healthz',
  NotInstalled: 'code-server is not installed in the container yet',
  Disabled: 'spec.codeServer.enabled is false',
  // Synced (every kind; synced-condition.ts, forbidden.ts)
  Forbidden: 'RBAC refuses a write the reconcile needs (message: which verb on which resource)',
  AdmissionRefused: 'an admission plugin or policy refuses a write the reconcile needs',
  ReconcileSuccess: "the API server accepts the controller's writes for this object again",
  // RuntimeCatalog Verified
  AllVerified: "every version's artifact matched its sha256 and size",
  VerificationFailed: "some version's artifact could not be fetched or did not match (message: which, why)",
  // ContainerProvider Ready (besides the provider lookup reasons above)
  BackendReady: 'the backend answers and the host has what it needs',
  BackendUnreachable: 'the backend did not answer a list of its containers',
  RootDirNotWritable: "the process provider's root directory cannot be written",
  NotRoot: 'the lxc provider needs the controller to run as root',
  LxcNotInstalled: "lxc-create is not installed on the controller's host",
} as const satisfies Record<string, string>

export type ConditionReason = keyof typeof CONDITION_REASONS

/** The reason names themselves: `Reason.Resolved === 'Resolved'`. */
export const Reason = Object.freeze(Object.fromEntries(Object.keys(CONDITION_REASONS).map((k) => [k, k]))) as {
  readonly [K in ConditionReason]: K
}

/** A provider error's reason: its catalog code, prefixed with `Provider` unless it already is
 * (`ProviderUnreachable`, not `ProviderProviderUnreachable`). */
export function providerErrorReason(code: string): string {
  return code.startsWith('Provider') ? code : `Provider${code}`
}
