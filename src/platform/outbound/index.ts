// Guarded outbound fetches: the source policy (which URLs and addresses) and the GET that obeys it.
export { canonicalAddress, isNonPublicAddress, networkList } from './address-ranges.ts'
export { addressAllowed, matchSource, normalizeUrl, sourceCovers } from './source-policy.ts'
export type { NormalizedUrl, SourceRules, UrlDecision } from './source-policy.ts'
export { guardedGet, isOutboundError, OutboundError } from './guarded-get.ts'
export type { GuardedGetOptions, GuardedResponse, OutboundErrorCode } from './guarded-get.ts'
