// The steps GameServer and DevServer share: find the provider, keep the container and its agent
// token, start it, reach the agent, and install the resolved runtimes. Each step reads the world
// and returns what it found; nothing is remembered between reconciles.
import { AgentClient, AgentClientError } from '../src/agent-client/index.ts'
import { outboundPolicyOf, type AgentStatus, type OutboundPolicy } from '../src/api/index.ts'
import { isProviderError, type Container, type ContainerBackend } from '../src/providers/index.ts'
import type { Client, KObject } from '../src/runtime/index.ts'
import { ensureAgentToken, recordAgentUrl } from './agent-token.ts'
import { resolveRuntime, type ResolvedRuntime, type RuntimeRef } from './catalog-resolve.ts'
import type { ReconcilerDeps } from './deps.ts'
import type { ConditionSet } from './status-util.ts'
import { rolloutAnnotation } from './kinds.ts'
import type { ProviderRegistry } from './provider-registry.ts'
import { refusal } from './outbound.ts'

export interface Problem { reason: string, message: string, retryable: boolean }

export interface ServerObject extends KObject {
  metadata: { name: string, namespace: string, uid: string, generation?: number, deletionTimestamp?: string, annotations?: Record<string, string>, resourceVersion?: string, finalizers?: string[] }
  spec: { resources?: { cores?: number, memoryMiB?: number, diskGiB?: number }, placement?: { providerRef?: { name: string } }, running?: boolean }
}

export type Provisioned =
  | { ok: true, backend: ContainerBackend, providerName: string, container: Container, token: string, agent: AgentClient, agentStatus: AgentStatus, outbound: OutboundPolicy }
  | { ok: false, stage: 'provider' | 'container' | 'agent', problem: Problem, container?: Container }

export function providerProblem(err: unknown): Problem {
  if (isProviderError(err)) return { reason: `Provider${err.code}`, message: `${err.code}: ${err.message}`, retryable: err.retryable }
  return { reason: 'ProviderFailed', message: (err as Error).message, retryable: true }
}

/** Container exists, runs, and its agent answers /status. */
export async function provision(
  client: Client, providers: ProviderRegistry, kind: 'GameServer' | 'DevServer', obj: ServerObject,
  defaults: { cores: number, memoryMiB: number, diskGiB: number }, signal: AbortSignal,
): Promise<Provisioned> {
  const lookup = await providers.forPlacement(obj.spec.placement, signal)
  if (!lookup.ok) return { ok: false, stage: 'provider', problem: { reason: lookup.reason, message: lookup.message, retryable: false } }
  const token = await ensureAgentToken(client, obj, signal)
  const r = obj.spec.resources ?? {}
  let container: Container
  try {
    container = await lookup.backend.ensure({
      identity: { ownerUid: obj.metadata.uid, kind, namespace: obj.metadata.namespace, name: obj.metadata.name },
      resources: { cores: r.cores ?? defaults.cores, memoryMiB: r.memoryMiB ?? defaults.memoryMiB, diskGiB: r.diskGiB ?? defaults.diskGiB },
      agent: { token },
    })
    if (container.state !== 'running') container = await lookup.backend.start({ ownerUid: obj.metadata.uid, vmid: container.vmid })
    await lookup.backend.deliverCredentials({ ownerUid: obj.metadata.uid, vmid: container.vmid }, { token })
  } catch (err) {
    return { ok: false, stage: 'container', problem: providerProblem(err) }
  }
  if (container.agentUrl === undefined) {
    return { ok: false, stage: 'agent', container, problem: { reason: 'AddressUnknown', message: `container ${container.vmid} has no address yet; waiting for the provider to report one`, retryable: true } }
  }
  try {
    await recordAgentUrl(client, obj, container.agentUrl, signal)
  } catch (err) {
    return { ok: false, stage: 'agent', container, problem: { reason: 'AgentUrlNotRecorded', message: `could not record the agent URL in the agent token Secret: ${(err as Error).message}`, retryable: true } }
  }
  const agent = new AgentClient({ baseUrl: container.agentUrl, token, timeoutMs: 15_000 })
  try {
    const agentStatus = await agent.request<AgentStatus>('GET', '/status', undefined, { timeoutMs: 3000, signal })
    if (!agentStatus.provisioningComplete) {
      return { ok: false, stage: 'agent', container, problem: { reason: 'AgentProvisioning', message: `the agent in container ${container.vmid} is still preparing the container (dev user, workspace)`, retryable: true } }
    }
    return { ok: true, backend: lookup.backend, providerName: lookup.name, container, token, agent, agentStatus, outbound: outboundPolicyOf(lookup.resource) }
  } catch (err) {
    const why = err instanceof AgentClientError ? `${err.code}: ${err.message}` : (err as Error).message
    return { ok: false, stage: 'agent', container, problem: { reason: 'AgentNotReady', message: `waiting for the agent in container ${container.vmid} at ${container.agentUrl} (${why})`, retryable: true } }
  }
}

export interface InstallOutcome {
  installed: Array<{ runtime: ResolvedRuntime, downloaded: boolean, previous?: string | null }>
  failed?: { runtime: ResolvedRuntime, reason: string, message: string }
}

const installFailureReasons: Record<string, string> = {
  OUTBOUND_NOT_ALLOWED: 'SourceNotAllowed',
  VERIFY_FAILED: 'VerifyFailed',
  ARTIFACT_SHA256_MISMATCH: 'ArtifactChecksumMismatch',
  ARTIFACT_TOO_LARGE: 'ArtifactTooLarge',
  ARTIFACT_TRUNCATED: 'ArtifactTruncated',
  ARTIFACT_HTTP_ERROR: 'ArtifactUnavailable',
  ARTIFACT_UNREACHABLE: 'ArtifactUnavailable',
  ARTIFACT_STALLED: 'ArtifactUnavailable',
  ARTIFACT_TIMEOUT: 'ArtifactUnavailable',
}

/** Runtimes whose `current` in the agent differs from what is wanted. */
export function runtimesToInstall(status: AgentStatus, wanted: ResolvedRuntime[]): ResolvedRuntime[] {
  return wanted.filter((w) => status.runtimes.find((r) => r.name === w.name)?.current !== w.version)
}

/** Installs (and activates) each runtime in order; stops at the first failure. The agent keeps the
 * previous version current when an install fails (download, hash or verify), so a failed upgrade
 * leaves the old one in place — the rollback. An artifact URL the provider's outbound policy
 * refuses is not sent to the agent (the agent, given the same policy, would refuse it too). */
export async function installRuntimes(agent: AgentClient, wanted: ResolvedRuntime[], signal: AbortSignal, outbound: OutboundPolicy): Promise<InstallOutcome> {
  const out: InstallOutcome = { installed: [] }
  for (const runtime of wanted) {
    const refused = refusal(runtime.url, outbound, `runtime ${runtime.name} ${runtime.version}`)
    if (refused !== undefined) {
      out.failed = { runtime, reason: 'SourceNotAllowed', message: refused }
      return out
    }
    try {
      const res = await agent.installRuntime({
        name: runtime.name, version: runtime.version, url: runtime.url, sha256: runtime.sha256,
        ...(runtime.sizeBytes !== undefined ? { sizeBytes: runtime.sizeBytes } : {}),
        ...(runtime.verify ? { verify: runtime.verify } : {}), activate: true, outbound,
      }, { signal })
      out.installed.push({ runtime, downloaded: res.downloaded, previous: res.previous })
    } catch (err) {
      const code = err instanceof AgentClientError ? err.code : 'TRANSPORT'
      out.failed = { runtime, reason: installFailureReasons[code] ?? 'InstallFailed', message: `installing ${runtime.name} ${runtime.version} failed (${code}): ${(err as Error).message}` }
      return out
    }
  }
  return out
}

/** Status entries for the runtimes as the agent has them current now. */
export function observedRuntimes(status: AgentStatus, wanted: Array<{ name: string, channel?: string }>, resolved: ResolvedRuntime[]): Array<{ name: string, version: string, channel?: string, sha256?: string }> {
  const out = []
  for (const w of wanted) {
    const rt = status.runtimes.find((r) => r.name === w.name)
    const current = rt?.current
    if (!current) continue
    const sha = rt?.versions.find((v) => v.version === current)?.sha256
    const res = resolved.find((r) => r.name === w.name)
    out.push({ name: w.name, version: current, ...(w.channel !== undefined ? { channel: w.channel } : {}), ...(sha && /^[a-f0-9]{64}$/.test(sha) ? { sha256: sha } : res && res.version === current ? { sha256: res.sha256 } : {}) })
  }
  return out
}

/** Per-server retry pacing of failed installs (5 s doubling to 5 min), so a failing artifact is
 * not downloaded in a hot loop while agent events keep waking the reconciler. In memory: a
 * restarted controller retries once at once, which is the level-based thing to do. */
export class InstallBackoff {
  readonly #entries = new Map<string, { sig: string, attempts: number, until: number }>()
  /** Milliseconds to wait before installing `sig` again for `key` (0 = go). */
  wait(key: string, sig: string): number {
    const e = this.#entries.get(key)
    if (e === undefined || e.sig !== sig) return 0
    return Math.max(0, e.until - Date.now())
  }
  failed(key: string, sig: string): void {
    const e = this.#entries.get(key)
    const attempts = e?.sig === sig ? e.attempts + 1 : 1
    this.#entries.set(key, { sig, attempts, until: Date.now() + Math.min(300_000, 5000 * 2 ** (attempts - 1)) })
  }
  succeeded(key: string): void { this.#entries.delete(key) }
}

/** Resolves every ref; the first failure wins. */
export function resolveAll(refs: RuntimeRef[], deps: ReconcilerDeps, status: { runtimes?: Array<{ name: string, version: string }> } | undefined, annotations: Record<string, string> | undefined):
  { ok: true, resolved: ResolvedRuntime[] } | { ok: false, reason: string, message: string } {
  const resolved: ResolvedRuntime[] = []
  for (const ref of refs) {
    const installed = status?.runtimes?.find((r) => r.name === ref.name)?.version
    const admitted = annotations?.[rolloutAnnotation(ref.name)]
    const res = resolveRuntime(ref, deps.catalogs.getByName(ref.name), ref.channel !== undefined ? { installed, admitted } : {})
    if (!res.ok) return res
    resolved.push(res.runtime)
  }
  return { ok: true, resolved }
}

export interface InstallStep {
  agentStatus: AgentStatus
  /** The set could not be installed (this time, or it is still backing off from the last failure). */
  failed: boolean
  /** When to look again after a failure (the backoff's next attempt); Infinity when nothing failed. */
  retryAfterMs: number
}

/**
 * Installs what the agent lacks of `resolved`, for either server kind: a set that failed is tried
 * again only when the server's backoff allows; each install and failure is an Event, RuntimeReady
 * says what happens. `announce` runs just before installing (phase, Ready, status write).
 */
export async function installStep(
  deps: ReconcilerDeps, obj: KObject & { metadata: { uid?: string } }, key: string, agent: AgentClient, agentStatus: AgentStatus,
  resolved: ResolvedRuntime[], conds: ConditionSet, announce: (what: string) => Promise<void>, signal: AbortSignal, outbound: OutboundPolicy,
): Promise<InstallStep> {
  const todo = runtimesToInstall(agentStatus, resolved)
  if (todo.length === 0) return { agentStatus, failed: false, retryAfterMs: Infinity }
  const sig = todo.map((r) => `${r.name}@${r.version}:${r.sha256}`).join(',')
  const retryAfter = (wait: number): number => Math.max(500, wait + 100)
  const waiting = deps.installBackoff.wait(key, sig)
  if (waiting > 0) return { agentStatus, failed: true, retryAfterMs: retryAfter(waiting) }
  const what = `installing ${todo.map((r) => `${r.name} ${r.version}`).join(', ')}`
  conds.set('RuntimeReady', 'False', 'Installing', what)
  await announce(what)
  const outcome = await installRuntimes(agent, todo, signal, outbound)
  for (const i of outcome.installed) {
    deps.recorder.event(obj, 'Normal', 'Installed', `installed ${i.runtime.name} ${i.runtime.version}${i.previous ? ` (was ${i.previous})` : ''}${i.downloaded ? '' : ' (already present)'}`)
  }
  const f = outcome.failed
  if (f) {
    deps.installBackoff.failed(key, sig)
    deps.recorder.event(obj, 'Warning', f.reason, f.message)
    conds.set('RuntimeReady', 'False', f.reason, `${f.message}; the previous version stays current. Fix the catalog entry or pick another version.`)
  } else {
    deps.installBackoff.succeeded(key)
  }
  return { agentStatus: await agent.status(), failed: f !== undefined, retryAfterMs: f ? retryAfter(deps.installBackoff.wait(key, sig)) : Infinity }
}
