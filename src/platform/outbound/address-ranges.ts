// Which IP addresses an outbound fetch may not reach unless the operator said so: loopback,
// link-local (cloud metadata at 169.254.169.254 included), private, shared (CGNAT), unspecified,
// multicast, reserved, and the IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64,
// 6to4). Everything else is "public".
//
// Guarantees: an address that is not a valid IP literal counts as non-public (fail closed).
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it maps to.
import { BlockList, isIP, isIPv4 } from 'node:net'

const NON_PUBLIC_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const
const NON_PUBLIC_V6 = [
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const

const nonPublic = new BlockList()
for (const [net, prefix] of NON_PUBLIC_V4) nonPublic.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of NON_PUBLIC_V6) nonPublic.addSubnet(net, prefix, 'ipv6')

/** The address without brackets, in one spelling: IPv6 as the URL standard serializes it
 * (lowercase, zeros compressed), IPv4-mapped IPv6 as its IPv4 form; undefined when it is not an
 * IP literal. */
export function canonicalAddress(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  const family = isIP(bare)
  if (family === 4) return bare
  if (family !== 6) return undefined
  const serialized = new URL(`http://[${bare}]/`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(serialized)
  if (mapped === null) return serialized
  const hi = parseInt(mapped[1] as string, 16),
    lo = parseInt(mapped[2] as string, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** true when the address is loopback, private, link-local, … (see the header); also for non-IPs. */
export function isNonPublicAddress(address: string): boolean {
  const canonical = canonicalAddress(address)
  if (canonical === undefined) return true
  return nonPublic.check(canonical, isIPv4(canonical) ? 'ipv4' : 'ipv6')
}

/** A set of CIDRs ("10.0.0.0/8", "fd00::/8", or a single address); throws on a malformed entry. */
export function networkList(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [net, bits, ...rest] = cidr.split('/')
    const address = canonicalAddress(net ?? '')
    const family = address === undefined ? 0 : isIPv4(address) ? 4 : 6
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (address === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits ?? '0') || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`${JSON.stringify(cidr)} is not an IP network (write it as 10.0.0.0/8 or fd00::/8)`)
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  return list
}

/** Whether `address` lies in `list`. */
export function inNetworks(list: BlockList, address: string): boolean {
  const canonical = canonicalAddress(address)
  if (canonical === undefined) return false
  return list.check(canonical, isIPv4(canonical) ? 'ipv4' : 'ipv6')
}
