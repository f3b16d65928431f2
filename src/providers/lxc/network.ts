// The LXC backend's network: one host bridge the provider creates with the subnet's first address;
// each container gets a fixed address derived from its vmid (no DHCP server needed) and a veth
// whose bridge port is isolated, so containers reach the host (the control plane) but not each
// other — no container can talk to, sniff or spoof another's agent.
//
// Idempotent: bridge, address and link state are checked before being added.

import { createHash } from 'node:crypto'
import { ProviderError } from '../errors.ts'
import { run } from './commands.ts'

export interface Subnet {
  /** Network address as a 32-bit number. */
  base: number
  prefix: number
}

export const VMID_BASE = 100

export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  const octets = match?.slice(1, 5).map(Number) ?? []
  const prefix = Number(match?.[5])
  if (!match || octets.some((o) => o > 255) || prefix < 16 || prefix > 29) {
    throw new ProviderError('InvalidConfig', `spec.lxc.subnet ${cidr} must be an IPv4 CIDR with a prefix between /16 and /29`, {})
  }
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0
  return { base: (base & mask) >>> 0, prefix }
}

const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.')

export function hostAddress(subnet: Subnet): string {
  return dotted(subnet.base + 1)
}

/** Highest vmid the subnet has an address for (network, host and broadcast excluded). */
export function maxVmid(subnet: Subnet): number {
  return VMID_BASE + (2 ** (32 - subnet.prefix) - 4)
}

export function containerAddress(subnet: Subnet, vmid: number): string {
  if (vmid < VMID_BASE || vmid > maxVmid(subnet))
    throw new ProviderError('Exhausted', `vmid ${vmid} has no address in the subnet`, { vmid })
  return dotted(subnet.base + 2 + (vmid - VMID_BASE))
}

/** A host interface name (≤ 15 chars) unique per (lxcpath, vmid). */
export function vethName(lxcpath: string, vmid: number): string {
  return `zv${createHash('sha256').update(lxcpath).digest('hex').slice(0, 4)}${vmid}`.slice(0, 15)
}

export async function ensureBridge(bridge: string, subnet: Subnet): Promise<void> {
  const exists = await run('ip', ['link', 'show', 'dev', bridge], { allowFailure: true })
  if (exists.exitCode !== 0) {
    const add = await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge'], { allowFailure: true })
    if (add.exitCode !== 0 && !/File exists/.test(add.stderr))
      throw new ProviderError('BackendFailed', `cannot create bridge ${bridge}: ${add.stderr.trim()}`, {})
  }
  const cidr = `${hostAddress(subnet)}/${subnet.prefix}`
  const addrs = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', bridge])
  if (!addrs.stdout.includes(` ${cidr} `)) {
    const add = await run('ip', ['addr', 'add', cidr, 'dev', bridge], { allowFailure: true })
    if (add.exitCode !== 0 && !/File exists|already assigned/.test(add.stderr))
      throw new ProviderError('BackendFailed', `cannot address bridge ${bridge}: ${add.stderr.trim()}`, {})
  }
  await run('ip', ['link', 'set', 'dev', bridge, 'up'])
}

/** Isolates the container's bridge port; absent links (container stopped) are fine. */
export async function isolatePort(veth: string): Promise<void> {
  await run('bridge', ['link', 'set', 'dev', veth, 'isolated', 'on'], { allowFailure: true })
}

export async function deleteBridge(bridge: string): Promise<void> {
  await run('ip', ['link', 'del', 'dev', bridge], { allowFailure: true })
}
