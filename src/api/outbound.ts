// The outbound policy as it travels: the controller reads a ContainerProvider's spec.outbound and
// sends it with every agent request that makes the agent download something (runtime installs,
// mods). The agent enforces exactly what it is given; a request without a policy downloads nothing.
import type { ContainerProvider } from './types.generated.ts'

export interface OutboundPolicy {
  /** URL prefixes downloads may come from (scheme, host, port and path prefix must match). */
  allowedSources: string[]
  /** CIDRs that host names in allowedSources may resolve to although they are not public. */
  allowedNetworks?: string[]
  /** The ContainerProvider the policy comes from, named in refusals so the reader knows where to fix it. */
  provider?: string
}

/** The policy a ContainerProvider declares (nothing declared → nothing allowed). */
export function outboundPolicyOf(provider: ContainerProvider): OutboundPolicy {
  const o = provider.spec.outbound
  return {
    allowedSources: [...(o?.allowedSources ?? [])],
    ...(o?.allowedNetworks !== undefined ? { allowedNetworks: [...o.allowedNetworks] } : {}),
    ...(provider.metadata.name !== undefined ? { provider: provider.metadata.name } : {}),
  }
}

/** What to do about a refused URL, for messages that reach users. */
export function outboundRefusalHint(policy: OutboundPolicy | undefined): string {
  if (policy?.provider !== undefined)
    return `ask the operator to add it to ContainerProvider "${policy.provider}" spec.outbound.allowedSources`
  if (policy === undefined) return 'the request carried no outbound policy, so nothing may be downloaded'
  return 'ask the operator to add it to the allowed sources'
}

/** JSON schema of OutboundPolicy in agent request bodies. */
export const outboundPolicySchema = {
  type: 'object',
  required: ['allowedSources'],
  additionalProperties: false,
  properties: {
    allowedSources: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 2048 } },
    allowedNetworks: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 64 } },
    provider: { type: 'string', maxLength: 253 },
  },
} as const
