// Our resources and every wire contract two components share. Start with kinds.ts (group, version,
// kinds, plurals), then the contracts below it: ports.ts, agent-token-secret.ts, names.ts,
// ide-host.ts, game-host.ts, ide-folder.ts, outbound.ts, the agent's wire types; each constant says who writes
// and who reads it. Then the generated types, loading of crds/, validation and defaulting.
// The agent imports the individual files, not this index (which also loads the CRD and validation code).
// Group, version, kinds; ports; the agent-token Secret; finalizer, annotations, the code-server catalog.
export { API_VERSION, CONTAINERPROVIDER, DEVSERVER, GAMESERVER, GROUP, PLURALS, RUNTIMECATALOG, VERSION } from './kinds.ts'
export type { ZlhKind, ZlhKindRef } from './kinds.ts'
export { AGENT_PORT, CODE_SERVER_PORT } from './ports.ts'
export { AGENT_TOKEN_KEY, AGENT_URL_KEY, agentTokenSecretName, isUsableAgentToken } from './agent-token-secret.ts'
export {
  AGENT_URL_ANNOTATION,
  CODE_SERVER_CHANNEL,
  CODE_SERVER_RUNTIME,
  MAX_UNAVAILABLE_ANNOTATION,
  ROLLOUT_ANNOTATION_PREFIX,
  LAST_ACTIVITY_ANNOTATION,
  SERVER_FINALIZER,
  WAKE_REQUESTED_ANNOTATION,
  rolloutAnnotation,
} from './names.ts'
// The CRDs, validation, defaulting, and the types generated from crds/.
export { CRD_DIR, crdForKind, loadCrds, schemaForKind } from './crds.ts'
export type { CustomResourceDefinition } from './crds.ts'
export { knownKinds, validateResource, withDefaults } from './validate.ts'
export type { FieldError, ValidateOptions, ValidationResult } from './validate.ts'
export type { Condition, ConditionStatus, ObjectMeta, OwnerReference } from '../apimachinery/index.ts'
export type * from './types.generated.ts'
// Wire types of the agent's HTTP API (shared by agent, agent-client, controller and gateway).
export type * from './agent-types.ts'
export type * from './agent-game-types.ts'
// The outbound download policy the controller sends the agent (ContainerProvider spec.outbound).
export { effectiveGameSpec } from './game-spec.ts'
export { outboundPolicyOf, outboundPolicySchema, outboundRefusalHint } from './outbound.ts'
export type { OutboundPolicy } from './outbound.ts'
// The IDE's workspace folder: reported by the agent, copied by the controller, opened by the gateway.
export { DEFAULT_IDE_FOLDER, IDE_FOLDER_MAX_LENGTH, ideFolderOf, ideFolderQuery } from './ide-folder.ts'
// The IDE's host name `dev-<vmid>.<suffix>`: written by the controller into status.ide, parsed by the gateway.
export { IDE_HOST_PREFIX, ideHostName } from './ide-host.ts'
// When the wake annotation asks to wake a sleep, and the time a writer asks with.
export { ANNOTATION_CLOCK_SKEW_MS, annotationTimeMs, wakeRequestedFor, wakeRequestTime } from './wake-request.ts'
// The game host name `<name>.<namespace>.<suffix>` the gateway's Minecraft router routes by.
export { gameHostName, parseGameHost } from './game-host.ts'
export type { GameHostTarget } from './game-host.ts'
// How `zlh up`'s code-server builder tells waiting DevServers (and so the controller) where it is.
export {
  CODE_SERVER_BUILD_ANNOTATION,
  CODE_SERVER_BUILD_MESSAGE_MAX,
  codeServerBuildOf,
  formatCodeServerBuild,
} from './code-server-build.ts'
export type { CodeServerBuildPhase, CodeServerBuildState } from './code-server-build.ts'
