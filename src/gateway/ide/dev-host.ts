// Recognises IDE hosts: `dev-<vmid>.<suffix>` with an optional `:port`, and builds their public
// origins. The proxy routes on the vmid of a host this module accepted, so its grammar is
// deliberately narrow: lowercase, a canonical vmid (no leading zeros, at most 10 digits), the
// configured suffix exactly, a numeric port. What a browser is redirected to, what Origin must
// equal and what code-server is told the host is come from DevOrigins: configuration only (scheme,
// suffix, public port) and the vmid, never the request's Host header (whose port a client chooses).

import { IDE_HOST_PREFIX, ideHostName } from '../../api/index.ts'

export interface DevHost {
  readonly vmid: number
  /** The host as the browser sent it (lowercased), port included. Informational only: origins,
   *  redirects and the host told to code-server come from DevOrigins, never from this. */
  readonly authority: string
}

const VMID_MAX_DIGITS = 10
/** Where the vmid starts in an IDE host name. */
const VMID_AT = IDE_HOST_PREFIX.length

export class DevHostMatcher {
  readonly suffix: string
  private readonly dotSuffix: string

  constructor(suffix: string) {
    const s = suffix.toLowerCase().replace(/^\.+|\.+$/g, '')
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(s)) {
      throw new Error(`invalid IDE suffix ${JSON.stringify(suffix)}: expected a DNS name such as "ide.example.com"`)
    }
    this.suffix = s
    this.dotSuffix = `.${s}`
  }

  /** The vmid a host names, or undefined when it is not an IDE host. Allocation-free on a lowercase host. */
  match(hostHeader: string | undefined): DevHost | undefined {
    if (!hostHeader) return undefined
    const host = hostHeader.toLowerCase()
    let name = host
    const colon = host.lastIndexOf(':')
    if (colon !== -1) {
      if (!isPort(host, colon + 1)) return undefined
      name = host.slice(0, colon)
    }
    if (!name.startsWith(IDE_HOST_PREFIX) || !name.endsWith(this.dotSuffix)) return undefined
    const digitsEnd = name.length - this.dotSuffix.length
    const digits = digitsEnd - VMID_AT
    if (digits < 1 || digits > VMID_MAX_DIGITS || name.charCodeAt(VMID_AT) === 48 /* '0' */) return undefined
    let vmid = 0
    for (let i = VMID_AT; i < digitsEnd; i++) {
      const c = name.charCodeAt(i) - 48
      if (c < 0 || c > 9) return undefined
      vmid = vmid * 10 + c
    }
    return { vmid, authority: host }
  }

  /** Whether a host is anywhere under the IDE suffix (such hosts are never served by the portal). */
  isUnderSuffix(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false
    const host = hostHeader.toLowerCase()
    const colon = host.lastIndexOf(':')
    const name = colon === -1 ? host : host.slice(0, colon)
    return name === this.suffix || name.endsWith(this.dotSuffix)
  }

  /** The IDE host name of a vmid (without port). */
  hostFor(vmid: number): string {
    if (!Number.isSafeInteger(vmid) || vmid < 1) throw new Error(`invalid vmid ${vmid}: expected a positive integer`)
    return ideHostName(vmid, this.suffix)
  }
}

function isPort(s: string, from: number): boolean {
  const n = s.length - from
  if (n < 1 || n > 5) return false
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** Public origins of dev hosts, from configuration only. */
export class DevOrigins {
  private readonly matcher: DevHostMatcher
  private readonly scheme: 'https' | 'http'
  private readonly port: () => number | undefined

  /** `port` is read on each call (the gateway knows its listening port only once it listens). */
  constructor(matcher: DevHostMatcher, scheme: 'https' | 'http', port: () => number | undefined) {
    this.matcher = matcher
    this.scheme = scheme
    this.port = port
  }

  /** `dev-<vmid>.<suffix>[:port]`, the port omitted when absent or the scheme's default. */
  authority(vmid: number): string {
    const port = this.port()
    const implicit = port === undefined || port === 0 || port === (this.scheme === 'https' ? 443 : 80)
    return implicit ? this.matcher.hostFor(vmid) : `${this.matcher.hostFor(vmid)}:${port}`
  }

  /** `<scheme>://<authority>`: what a browser on this dev host sends as Origin. */
  origin(vmid: number): string {
    return `${this.scheme}://${this.authority(vmid)}`
  }
}
