// Recognises IDE hosts: `dev-<vmid>.<suffix>` with an optional `:port`. Everything the proxy
// routes, redirects to or compares an Origin with is derived from a host this module accepted, so
// its grammar is deliberately narrow: lowercase, a canonical vmid (no leading zeros, at most 10
// digits), the configured suffix exactly, a numeric port.

export interface DevHost {
  readonly vmid: number
  /** The host as the browser sent it (lowercased), port included: what Origin must equal. */
  readonly authority: string
}

const VMID_MAX_DIGITS = 10

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
    if (!name.startsWith('dev-') || !name.endsWith(this.dotSuffix)) return undefined
    const digitsEnd = name.length - this.dotSuffix.length
    const digits = digitsEnd - 4
    if (digits < 1 || digits > VMID_MAX_DIGITS || name.charCodeAt(4) === 48 /* '0' */) return undefined
    let vmid = 0
    for (let i = 4; i < digitsEnd; i++) {
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
    return `dev-${vmid}.${this.suffix}`
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
