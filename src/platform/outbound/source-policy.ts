// The outbound source policy: which URLs a fetch may go to, and which addresses it may connect to.
//
// A source is a URL prefix the operator declared ("https://cdn.example.com/mods/"). A URL is
// allowed when a source has the same scheme, host and port and its path is a prefix of the URL's
// path at a segment boundary. Both sides are compared after the URL standard's normalization
// (lowercase scheme and host, default port dropped, IPv4 spellings such as 0x7f.1 made dotted,
// IPv6 compressed, `.`/`..` and their %2e forms resolved) and a trailing dot on the host removed.
// Never a string prefix of the raw URL.
//
// Guarantees (fail closed): a URL with userinfo, a non-http(s) scheme, or an encoded `/`, `\` or
// `.` in its path (%2f, %5c, %2e, which servers may decode after we compared) is never allowed.
// A connection may go to a public address, or to a non-public one (address-ranges.ts) only when
// the source that allowed the URL names that very address as its host, or the address lies in
// one of the policy's allowedNetworks.
import { canonicalAddress, inNetworks, isNonPublicAddress, networkList } from './address-ranges.ts'

/** What the operator allows. */
export interface SourceRules {
  /** URL prefixes, e.g. "https://cdn.example.com/mods/" or "http://127.0.0.1:8081/". */
  readonly allowedSources: readonly string[]
  /** CIDRs the hosts of allowedSources may resolve to although they are not public. */
  readonly allowedNetworks?: readonly string[]
}

/** A URL taken apart for comparison. */
export interface NormalizedUrl {
  protocol: 'http:' | 'https:'
  /** host name without a trailing dot, or the canonical IP literal (IPv6 without brackets) */
  host: string
  /** true when host is an IP literal */
  ip: boolean
  port: number
  path: string
  url: URL
}

/** The URL normalized, or a reason (for people) why it can never be fetched. */
export function normalizeUrl(raw: string): NormalizedUrl | { refused: string } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { refused: 'is not a URL' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { refused: 'is not an http or https URL' }
  if (url.username !== '' || url.password !== '') return { refused: 'carries a user name or password' }
  if (/%(2f|5c|2e)/i.test(url.pathname)) return { refused: 'has an encoded "/", "\\" or "." in its path' }
  const hostname = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname
  const address = canonicalAddress(hostname)
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  return { protocol: url.protocol, host: address ?? hostname, ip: address !== undefined, port, path: url.pathname, url }
}

/** Whether `source` (a declared prefix) covers `target`. */
export function sourceCovers(source: NormalizedUrl, target: NormalizedUrl): boolean {
  if (source.protocol !== target.protocol || source.host !== target.host || source.port !== target.port) return false
  if (source.path.endsWith('/')) return target.path.startsWith(source.path)
  return target.path === source.path || target.path.startsWith(`${source.path}/`)
}

export type UrlDecision = { allowed: true; target: NormalizedUrl; source: NormalizedUrl } | { allowed: false; reason: string }

/** The first declared source covering `raw`, or why none does. */
export function matchSource(raw: string, rules: SourceRules): UrlDecision {
  const target = normalizeUrl(raw)
  if ('refused' in target) return { allowed: false, reason: `is not an allowed source (it ${target.refused})` }
  for (const declared of rules.allowedSources) {
    const source = normalizeUrl(declared)
    if (!('refused' in source) && sourceCovers(source, target)) return { allowed: true, target, source }
  }
  return { allowed: false, reason: 'is not an allowed source' }
}

/** Whether a URL that `source` allowed may connect to `address` (a resolved or literal IP). */
export function addressAllowed(address: string, source: NormalizedUrl, rules: SourceRules): boolean {
  if (!isNonPublicAddress(address)) return true
  const canonical = canonicalAddress(address)
  if (canonical !== undefined && source.ip && source.host === canonical) return true
  const networks = rules.allowedNetworks ?? []
  if (networks.length === 0) return false
  try {
    return inNetworks(networkList(networks), address)
  } catch {
    return false
  }
}
