// Step 1, resolve: what the server should run and where. Its runtime references against their
// RuntimeCatalogs (catalog-resolve.ts: exact versions must be verified; a channel follower holds
// its version until the rollout admits it), then the ContainerProvider its placement names.
// Nothing is created here: an unresolvable server gets no container.
import { outboundPolicyOf, type OutboundPolicy } from '../../src/api/index.ts'
import type { ContainerBackend } from '../../src/providers/index.ts'
import type { Store } from '../../src/runtime/index.ts'
import { resolveRuntime, type ResolvedRuntime, type RuntimeRef } from '../catalog-resolve.ts'
import { Reason } from '../condition-reasons.ts'
import { rolloutAnnotation, type RuntimeCatalog } from '../kinds.ts'
import type { ProviderRegistry } from '../provider-registry.ts'
import { failWith, proceed, type StepOutcome } from './outcome.ts'

/** How long an unresolvable server waits before it is looked at again (catalog events wake it sooner). */
export const UNRESOLVED_REQUEUE_MS = 30_000
/** How long a server whose provider is missing or ambiguous waits (provider events wake it sooner). */
export const NO_PROVIDER_REQUEUE_MS = 60_000

/** Resolves every ref in order; the first failure is the outcome (RuntimeResolved=False). */
export function resolveRuntimes(
  refs: RuntimeRef[],
  catalogs: Store<RuntimeCatalog>,
  status: { runtimes?: Array<{ name: string; version: string }> } | undefined,
  annotations: Record<string, string> | undefined,
): StepOutcome<ResolvedRuntime[]> {
  const resolved: ResolvedRuntime[] = []
  for (const ref of refs) {
    const installed = status?.runtimes?.find((r) => r.name === ref.name)?.version
    const admitted = annotations?.[rolloutAnnotation(ref.name)]
    const res = resolveRuntime(ref, catalogs.getByName(ref.name), ref.channel !== undefined ? { installed, admitted } : {})
    if (!res.ok) {
      return failWith({
        condition: 'RuntimeResolved',
        reason: res.reason,
        message: res.message,
        readyReason: Reason.RuntimeUnresolved,
        phase: 'PendingUntilCreated',
        requeueAfterMs: UNRESOLVED_REQUEUE_MS,
      })
    }
    resolved.push(res.runtime)
  }
  return proceed(resolved)
}

/** RuntimeResolved's message: what each reference resolved to. */
export function describeResolved(resolved: ResolvedRuntime[]): string {
  return resolved.map((r) => `${r.name} ${r.version}${r.channel ? ` (${r.channel})` : ''}`).join(', ') || 'no runtimes'
}

export interface ChosenProvider {
  name: string
  backend: ContainerBackend
  outbound: OutboundPolicy
}

/** The provider the server's placement names, or the default one (Provisioned=False when none fits). */
export async function resolveProvider(
  providers: ProviderRegistry,
  placement: { providerRef?: { name: string } } | undefined,
  signal: AbortSignal,
): Promise<StepOutcome<ChosenProvider>> {
  const lookup = await providers.forPlacement(placement, signal)
  if (!lookup.ok)
    return failWith({
      condition: 'Provisioned',
      reason: lookup.reason,
      message: lookup.message,
      phase: 'Pending',
      requeueAfterMs: NO_PROVIDER_REQUEUE_MS,
    })
  return proceed({ name: lookup.name, backend: lookup.backend, outbound: outboundPolicyOf(lookup.resource) })
}
