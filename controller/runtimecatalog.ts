// RuntimeCatalog reconciler: artifact verification and channel rollouts.
//
// Verification: every version's artifacts are downloaded by the controller once — streamed
// through sha256, size-limited, never stored — and the result recorded per version in
// status.versions (verified, sha256, sizeBytes, checkedAt, message). A version whose recorded
// sha256 equals the spec's is not fetched again; changing the artifact's sha256 re-checks it. A
// transport failure is retried (requeue); a hash or size mismatch stays failed until the spec changes.
// The download goes only to sources some ContainerProvider allows (spec.outbound, the union of all
// providers: a catalog is cluster-wide); a refused URL is not contacted, its version stays
// unverified and is checked again at every reconcile (a ContainerProvider change triggers one).
// Servers resolve only verified versions (catalog-resolve.ts).
//
// Rollouts: for each channel, the servers following it (GameServer runtime/package, DevServer
// runtimes, code-server) are admitted to the channel's version by rollout.ts's plan; the plan is
// recorded in status.rollouts, and a halt produces a Warning Event.
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { OutboundPolicy, RuntimeCatalogStatus } from '../src/api/index.ts'
import { guardedGet, isOutboundError, type GuardedGetOptions } from '../src/platform/index.ts'
import type { ContainerProvider, DevServer, GameServer, RuntimeCatalog } from './kinds.ts'
import { CATALOG_REFUSAL_HINT, catalogVerificationPolicy } from './outbound.ts'
import {
  PatchType,
  patchStatus,
  realClock,
  type Client,
  type Clock,
  type EventRecorder,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Store,
} from '../src/runtime/index.ts'
import { ARCH } from './catalog-resolve.ts'
import { devRuntimeRefs } from './devserver.ts'
import { runtimeRefsOf } from './gameserver.ts'
import { DEVSERVER, FIELD_MANAGER, GAMESERVER, MAX_UNAVAILABLE_ANNOTATION, RUNTIMECATALOG, rolloutAnnotation } from './kinds.ts'
import { planRollout, type Follower } from './rollout.ts'
import { canonical, ConditionSet, mergePatchOf } from './status-writer.ts'
import { Reason } from './condition-reasons.ts'

export interface CatalogDeps {
  client: Client
  recorder: EventRecorder
  gameServers: Store<GameServer>
  devServers: Store<DevServer>
  /** Whose spec.outbound lists (their union) bound the verification downloads. */
  providers: Store<ContainerProvider>
  /** Default max followers updating at once (annotation zerolaghub.dev/max-unavailable overrides). */
  maxUnavailable: number
  /** Largest artifact accepted when the catalog gives no sizeBytes. */
  maxArtifactBytes?: number
  downloadTimeoutMs?: number
  /** Time of checkedAt stamps (default: the wall clock). */
  clock?: Clock
}

type VersionStatus = NonNullable<RuntimeCatalogStatus['versions']>[number]

/** Streams `url` through sha256; enforces the expected size (or a ceiling). Fetches only what
 * `opts.policy` allows (every redirect hop too); a refusal says so without contacting the target. */
export async function checkArtifact(
  url: string,
  expected: { sha256: string; sizeBytes?: number },
  opts: {
    maxBytes: number
    timeoutMs: number
    signal?: AbortSignal
    policy: OutboundPolicy
    refusalHint?: string
    resolve?: GuardedGetOptions['resolve']
  },
): Promise<{ ok: boolean; transient: boolean; sha256?: string; sizeBytes?: number; message: string }> {
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])]
  const signal = AbortSignal.any(signals)
  let res: IncomingMessage
  try {
    res = (
      await guardedGet(url, {
        rules: opts.policy,
        signal,
        headersTimeoutMs: opts.timeoutMs,
        refusalHint: opts.refusalHint ?? CATALOG_REFUSAL_HINT,
        ...(opts.resolve ? { resolve: opts.resolve } : {}),
      })
    ).response
  } catch (err) {
    if (isOutboundError(err) && err.code === 'OUTBOUND_NOT_ALLOWED') return { ok: false, transient: false, message: err.message }
    if (isOutboundError(err)) return { ok: false, transient: false, message: `${err.message}; check the artifact URL` }
    const cause = (err as NodeJS.ErrnoException).code ?? (err as Error).name
    return { ok: false, transient: true, message: `could not download ${url} (${cause}); retrying` }
  }
  try {
    const status = res.statusCode ?? 0
    if (status < 200 || status >= 300) {
      return {
        ok: false,
        transient: status >= 500 || status === 429,
        message: `downloading ${url} answered HTTP ${status}; check the artifact URL`,
      }
    }
    const limit = expected.sizeBytes ?? opts.maxBytes
    const hash = createHash('sha256')
    let size = 0
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.byteLength
        if (size > limit) {
          return {
            ok: false,
            transient: false,
            message: `artifact ${url} is larger than ${expected.sizeBytes !== undefined ? `sizeBytes ${expected.sizeBytes}` : `the ${limit}-byte limit`}; fix sizeBytes or the artifact`,
          }
        }
        hash.update(chunk)
      }
    } catch (err) {
      const why = signal.aborted ? 'timed out or cancelled' : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)
      return { ok: false, transient: true, message: `download of ${url} broke off after ${size} bytes (${why}); retrying` }
    }
    if (!res.complete) return { ok: false, transient: true, message: `download of ${url} broke off after ${size} bytes; retrying` }
    const sha256 = hash.digest('hex')
    if (expected.sizeBytes !== undefined && size !== expected.sizeBytes) {
      return {
        ok: false,
        transient: false,
        sha256,
        sizeBytes: size,
        message: `artifact ${url} has ${size} bytes, the catalog says sizeBytes ${expected.sizeBytes}; fix one of them`,
      }
    }
    if (sha256 !== expected.sha256) {
      return {
        ok: false,
        transient: false,
        sha256,
        sizeBytes: size,
        message: `artifact ${url} has sha256 ${sha256}, the catalog says ${expected.sha256}; the file changed or the catalog is wrong`,
      }
    }
    return { ok: true, transient: false, sha256, sizeBytes: size, message: 'sha256 and size match the catalog' }
  } finally {
    res.destroy()
  }
}

/** Followers of `channel` of runtime `name`, as the rollout planner sees them. */
export function followersOf(
  name: string,
  channel: string,
  deps: Pick<CatalogDeps, 'gameServers' | 'devServers'>,
): Array<Follower & { kind: 'GameServer' | 'DevServer'; namespace: string; name: string }> {
  const out: Array<Follower & { kind: 'GameServer' | 'DevServer'; namespace: string; name: string }> = []
  const add = (kind: 'GameServer' | 'DevServer', obj: GameServer | DevServer, refs: Array<{ name: string; channel?: string }>): void => {
    if (obj.metadata.deletionTimestamp !== undefined) return
    if (!refs.some((r) => r.name === name && r.channel === channel)) return
    const st = obj.status
    const ready = st?.conditions?.find((c) => c.type === 'Ready')
    const runtimeReady = st?.conditions?.find((c) => c.type === 'RuntimeReady')
    const installed = st?.runtimes?.find((r) => r.name === name)?.version
    const admitted = obj.metadata.annotations?.[rolloutAnnotation(name)]
    let failure: string | undefined
    if (runtimeReady?.status === 'False' && runtimeReady.reason !== 'Installing')
      failure = `${runtimeReady.reason}: ${runtimeReady.message}`
    else if (st?.phase === 'Error' && installed === admitted) failure = `Error: ${ready?.message ?? 'the server failed'}`
    out.push({
      kind,
      namespace: obj.metadata.namespace as string,
      name: obj.metadata.name as string,
      key: `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`,
      ...(installed !== undefined ? { installed } : {}),
      ...(admitted !== undefined ? { admitted } : {}),
      ready: ready?.status === 'True' && st?.observedGeneration === obj.metadata.generation,
      ...(failure !== undefined ? { failure } : {}),
    })
  }
  for (const gs of deps.gameServers.list()) add('GameServer', gs, runtimeRefsOf(gs))
  for (const ds of deps.devServers.list()) add('DevServer', ds, devRuntimeRefs(ds))
  return out
}

export function runtimeCatalogReconciler(deps: CatalogDeps, store: Store<RuntimeCatalog>): Reconciler {
  return async (req: Request, ctx: ReconcileContext) => {
    const cached = store.getByName(req.name)
    if (cached === undefined) return
    const rc = structuredClone(cached)
    const { signal } = ctx
    const prev: RuntimeCatalogStatus = rc.status ?? {}
    const status: RuntimeCatalogStatus = { ...prev, observedGeneration: rc.metadata.generation }
    const conds = new ConditionSet(prev.conditions, rc.metadata.generation)
    let requeue: number | undefined

    // Verification, one version at a time, recorded as it goes (a crash loses at most one check).
    const versions: VersionStatus[] = []
    for (const v of rc.spec.versions) {
      const old = prev.versions?.find((x) => x.version === v.version)
      // The recorded sha256 is the primary artifact's (this controller's architecture, else the first).
      const primary = v.artifacts.find((a) => a.arch === ARCH) ?? v.artifacts[0]
      const retry = old?.message?.endsWith('retrying') === true || old?.message?.endsWith(CATALOG_REFUSAL_HINT) === true
      const checked = old !== undefined && old.sha256 === primary?.sha256 && (old.verified || !retry)
      if (checked) {
        versions.push(old)
        continue
      }
      let entry: VersionStatus = {
        version: v.version,
        verified: true,
        checkedAt: new Date((deps.clock ?? realClock).now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        sha256: primary?.sha256,
      }
      for (const a of v.artifacts) {
        const r = await checkArtifact(
          a.url,
          { sha256: a.sha256, sizeBytes: a.sizeBytes },
          {
            maxBytes: deps.maxArtifactBytes ?? 4 * 1024 ** 3,
            timeoutMs: deps.downloadTimeoutMs ?? 30 * 60_000,
            signal,
            policy: catalogVerificationPolicy(deps.providers),
          },
        )
        if (!r.ok) {
          entry = { ...entry, verified: false, message: `${a.arch}: ${r.message}` }
          if (r.transient) requeue = 30_000
          else deps.recorder.event(rc, 'Warning', 'VerificationFailed', `version ${v.version}: ${r.message}`)
          break
        }
        if (a === primary) entry.sizeBytes = r.sizeBytes
      }
      if (entry.verified) {
        entry.message = `${v.artifacts.length} artifact(s): sha256 and size match the catalog`
        deps.recorder.event(rc, 'Normal', 'Verified', `version ${v.version}: artifact sha256 and size match`)
      }
      versions.push(entry)
    }
    status.versions = versions
    status.verifiedCount = versions.filter((v) => v.verified).length
    const unverified = versions.filter((v) => !v.verified)
    if (unverified.length === 0) conds.set('Verified', 'True', Reason.AllVerified, `${versions.length} version(s) verified`)
    else
      conds.set(
        'Verified',
        'False',
        Reason.VerificationFailed,
        unverified.map((v) => `${v.version}: ${v.message ?? 'not checked'}`).join('; '),
      )

    // Rollouts.
    const maxUnavailable = Number(rc.metadata.annotations?.[MAX_UNAVAILABLE_ANNOTATION] ?? deps.maxUnavailable) || 1
    const rollouts: NonNullable<RuntimeCatalogStatus['rollouts']> = []
    for (const [channel, target] of Object.entries(rc.spec.channels ?? {}).sort()) {
      const followers = followersOf(rc.metadata.name as string, channel, deps)
      if (followers.length === 0) continue
      const targetStatus = versions.find((v) => v.version === target)
      if (targetStatus?.verified !== true) {
        rollouts.push({
          channel,
          targetVersion: target,
          state: 'Halted',
          updated: 0,
          total: followers.length,
          message: `version ${target} is not verified (${targetStatus?.message ?? 'not in spec.versions'}); no server is moved to it`,
        })
        continue
      }
      const plan = planRollout(channel, target, followers, maxUnavailable)
      for (const key of plan.admit) {
        const f = followers.find((x) => x.key === key)
        if (f === undefined) continue
        const kind = f.kind === 'GameServer' ? GAMESERVER : DEVSERVER
        await deps.client.patch(
          kind,
          f.name,
          f.namespace,
          { metadata: { annotations: { [rolloutAnnotation(rc.metadata.name as string)]: target } } },
          PatchType.merge,
          { signal, fieldManager: FIELD_MANAGER },
        )
        ctx.log.info({ runtime: rc.metadata.name, channel, version: target, server: key }, 'rollout admits server')
      }
      const old = prev.rollouts?.find((r) => r.channel === channel)
      if (plan.state === 'Halted' && (old?.state !== 'Halted' || old.targetVersion !== target))
        deps.recorder.event(rc, 'Warning', 'RolloutHalted', plan.message)
      if (plan.state === 'Complete' && old !== undefined && old.state !== 'Complete')
        deps.recorder.event(rc, 'Normal', 'RolloutComplete', `channel ${channel}: ${plan.message}`)
      rollouts.push({ channel, targetVersion: target, state: plan.state, updated: plan.updated, total: plan.total, message: plan.message })
      if (plan.state === 'Progressing') requeue = Math.min(requeue ?? 2000, 2000)
    }
    status.rollouts = rollouts
    status.conditions = conds.list
    if (canonical(status) !== canonical(prev)) {
      await patchStatus(
        deps.client,
        RUNTIMECATALOG,
        rc.metadata.name as string,
        undefined,
        mergePatchOf(prev as Record<string, unknown>, status as Record<string, unknown>),
        { signal, fieldManager: FIELD_MANAGER },
      )
    }
    return requeue !== undefined ? { requeueAfter: requeue } : { requeueAfter: 5 * 60_000 }
  }
}
