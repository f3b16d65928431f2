// The controller's side of the outbound policy: refuse a URL before asking an agent to fetch it,
// and the policy for the controller's own RuntimeCatalog verification downloads.
//
// Guarantees: a URL refused here is never sent to an agent; the refusal message names only the URL
// and where to allow it. The agent checks again (and resolves host names), so this is the early,
// readable half of the check, not the only one.
import { outboundPolicyOf, outboundRefusalHint, type OutboundPolicy } from '../src/api/index.ts'
import { matchSource } from '../src/platform/index.ts'
import type { Store } from '../src/runtime/index.ts'
import type { ContainerProvider } from './kinds.ts'

/** Why `url` may not be fetched under `policy` (prefixed with `label`), or undefined when it may. */
export function refusal(url: string, policy: OutboundPolicy, label?: string): string | undefined {
  const decision = matchSource(url, policy)
  if (decision.allowed) return undefined
  return `${label !== undefined ? `${label}: ` : ''}${url} ${decision.reason}; ${outboundRefusalHint(policy)}`
}

/** The policy of the controller's own catalog verification: a RuntimeCatalog is cluster-wide, so
 * its artifacts may come from any source some ContainerProvider allows (the union of all). */
export function catalogVerificationPolicy(providers: Store<ContainerProvider>): OutboundPolicy {
  const sources = new Set<string>()
  const networks = new Set<string>()
  for (const p of providers.list()) {
    if (p.metadata.deletionTimestamp !== undefined) continue
    const policy = outboundPolicyOf(p)
    for (const s of policy.allowedSources) sources.add(s)
    for (const n of policy.allowedNetworks ?? []) networks.add(n)
  }
  return { allowedSources: [...sources], ...(networks.size > 0 ? { allowedNetworks: [...networks] } : {}) }
}

/** What to do about a catalog artifact no provider allows. */
export const CATALOG_REFUSAL_HINT = "ask the operator to add it to a ContainerProvider's spec.outbound.allowedSources"
