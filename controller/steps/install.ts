// Step 4, install: the resolved runtimes through the agent (POST /runtimes, hash-checked there),
// only those whose current version in the agent differs. Never stops the sequence: a failed
// install leaves the previous version current (the agent keeps it), so the workload may run on.
//
// Rules
//  - A set of artifacts that failed is tried again only when the server's InstallBackoff allows.
//  - An artifact URL the provider's outbound policy refuses is never sent to the agent.
//  - Each install and each failure is an Event; RuntimeReady says what happens (Installing, or the
//    failure's reason from the agent's error code).
import { AgentClientError, type AgentClient } from '../../src/agent-client/index.ts'
import type { AgentStatus, OutboundPolicy } from '../../src/api/index.ts'
import type { EventRecorder, KObject } from '../../src/runtime/index.ts'
import type { ResolvedRuntime } from '../catalog-resolve.ts'
import { Reason, type ConditionReason } from '../condition-reasons.ts'
import type { InstallBackoff } from '../install-backoff.ts'
import { refusal } from '../outbound.ts'
import type { ConditionSet } from '../status-writer.ts'

export interface InstallOutcome {
  installed: Array<{ runtime: ResolvedRuntime; downloaded: boolean; previous?: string | null }>
  failed?: { runtime: ResolvedRuntime; reason: string; message: string }
}

/** The agent's install error codes and the RuntimeReady reason each becomes. */
const installFailureReasons: Record<string, ConditionReason> = {
  OUTBOUND_NOT_ALLOWED: Reason.SourceNotAllowed,
  VERIFY_FAILED: Reason.VerifyFailed,
  ARTIFACT_SHA256_MISMATCH: Reason.ArtifactChecksumMismatch,
  ARTIFACT_TOO_LARGE: Reason.ArtifactTooLarge,
  ARTIFACT_TRUNCATED: Reason.ArtifactTruncated,
  ARTIFACT_HTTP_ERROR: Reason.ArtifactUnavailable,
  ARTIFACT_UNREACHABLE: Reason.ArtifactUnavailable,
  ARTIFACT_STALLED: Reason.ArtifactUnavailable,
  ARTIFACT_TIMEOUT: Reason.ArtifactUnavailable,
}

/** Runtimes whose `current` in the agent differs from what is wanted. */
export function runtimesToInstall(status: AgentStatus, wanted: ResolvedRuntime[]): ResolvedRuntime[] {
  return wanted.filter((w) => status.runtimes.find((r) => r.name === w.name)?.current !== w.version)
}

/** Installs (and activates) each runtime in order; stops at the first failure. The agent keeps the
 * previous version current when an install fails (download, hash or verify), so a failed upgrade
 * leaves the old one in place — the rollback. An artifact URL the provider's outbound policy
 * refuses is not sent to the agent (the agent, given the same policy, would refuse it too). */
export async function installRuntimes(
  agent: AgentClient,
  wanted: ResolvedRuntime[],
  signal: AbortSignal,
  outbound: OutboundPolicy,
): Promise<InstallOutcome> {
  const out: InstallOutcome = { installed: [] }
  for (const runtime of wanted) {
    const refused = refusal(runtime.url, outbound, `runtime ${runtime.name} ${runtime.version}`)
    if (refused !== undefined) {
      out.failed = { runtime, reason: Reason.SourceNotAllowed, message: refused }
      return out
    }
    try {
      const res = await agent.installRuntime(
        {
          name: runtime.name,
          version: runtime.version,
          url: runtime.url,
          sha256: runtime.sha256,
          ...(runtime.sizeBytes !== undefined ? { sizeBytes: runtime.sizeBytes } : {}),
          ...(runtime.verify ? { verify: runtime.verify } : {}),
          activate: true,
          outbound,
        },
        { signal },
      )
      out.installed.push({ runtime, downloaded: res.downloaded, previous: res.previous })
    } catch (err) {
      const code = err instanceof AgentClientError ? err.code : 'TRANSPORT'
      out.failed = {
        runtime,
        reason: installFailureReasons[code] ?? Reason.InstallFailed,
        message: `installing ${runtime.name} ${runtime.version} failed (${code}): ${(err as Error).message}`,
      }
      return out
    }
  }
  return out
}

/** Status entries for the runtimes as the agent has them current now. */
export function observedRuntimes(
  status: AgentStatus,
  wanted: Array<{ name: string; channel?: string }>,
  resolved: ResolvedRuntime[],
): Array<{ name: string; version: string; channel?: string; sha256?: string }> {
  const out = []
  for (const w of wanted) {
    const rt = status.runtimes.find((r) => r.name === w.name)
    const current = rt?.current
    if (!current) continue
    const sha = rt?.versions.find((v) => v.version === current)?.sha256
    const res = resolved.find((r) => r.name === w.name)
    out.push({
      name: w.name,
      version: current,
      ...(w.channel !== undefined ? { channel: w.channel } : {}),
      ...(sha && /^[a-f0-9]{64}$/.test(sha) ? { sha256: sha } : res && res.version === current ? { sha256: res.sha256 } : {}),
    })
  }
  return out
}

export interface InstallResult {
  /** The agent's status after the installs (or as provisioned, when nothing was installed). */
  agentStatus: AgentStatus
  /** The set could not be installed (this time, or it is still backing off from the last failure). */
  failed: boolean
  /** When to look again after a failure (the backoff's next attempt); Infinity when nothing failed. */
  retryAfterMs: number
}

export interface InstallInput {
  backoff: InstallBackoff
  recorder: EventRecorder
  obj: KObject
  key: string
  agent: AgentClient
  agentStatus: AgentStatus
  resolved: ResolvedRuntime[]
  conds: ConditionSet
  outbound: OutboundPolicy
  /** Runs just before installing (phase, Ready, a status write), with what is being installed. */
  announce: (what: string) => Promise<void>
  signal: AbortSignal
}

/** Installs what the agent lacks of `resolved`, paced by the server's backoff. */
export async function installStep(i: InstallInput): Promise<InstallResult> {
  const { agentStatus } = i
  const todo = runtimesToInstall(agentStatus, i.resolved)
  if (todo.length === 0) return { agentStatus, failed: false, retryAfterMs: Infinity }
  const sig = todo.map((r) => `${r.name}@${r.version}:${r.sha256}`).join(',')
  const retryAfter = (wait: number): number => Math.max(500, wait + 100)
  const waiting = i.backoff.wait(i.key, sig)
  if (waiting > 0) return { agentStatus, failed: true, retryAfterMs: retryAfter(waiting) }
  const what = `installing ${todo.map((r) => `${r.name} ${r.version}`).join(', ')}`
  i.conds.set('RuntimeReady', 'False', Reason.Installing, what)
  await i.announce(what)
  const outcome = await installRuntimes(i.agent, todo, i.signal, i.outbound)
  for (const done of outcome.installed) {
    i.recorder.event(
      i.obj,
      'Normal',
      'Installed',
      `installed ${done.runtime.name} ${done.runtime.version}${done.previous ? ` (was ${done.previous})` : ''}${done.downloaded ? '' : ' (already present)'}`,
    )
  }
  const f = outcome.failed
  if (f) {
    i.backoff.failed(i.key, sig)
    i.recorder.event(i.obj, 'Warning', f.reason, f.message)
    i.conds.set(
      'RuntimeReady',
      'False',
      f.reason,
      `${f.message}; the previous version stays current. Fix the catalog entry or pick another version.`,
    )
  } else {
    i.backoff.succeeded(i.key)
  }
  return {
    agentStatus: await i.agent.status({ signal: i.signal }),
    failed: f !== undefined,
    retryAfterMs: f ? retryAfter(i.backoff.wait(i.key, sig)) : Infinity,
  }
}

/** RuntimeReady's message once everything is installed. */
export function describeInstalled(resolved: ResolvedRuntime[]): string {
  return resolved.map((r) => `${r.name} ${r.version}`).join(', ') || 'no runtimes requested'
}
