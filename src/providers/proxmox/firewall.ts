// The PVE firewall of one CT: inbound DROP by default, MAC filter on (a CT cannot send with a MAC
// that is not its own), and one ACCEPT rule per (control-plane source, port) for the agent port
// and code-server's port. PVE's ipfilter is left off: with `ip=dhcp` its implicit ipset would hold
// no IPv4 address and cut the CT off; a static-address network can turn it on by hand.
//
// Idempotent: options are PUT as absolute values; rules are recognised by their comment
// (`zlh:<port>:<source>`) and only missing ones are added, so repeating after a crash at any
// point converges without duplicates. Rules we did not write are left alone.

import type { PveClient } from './client.ts'

export interface FirewallPolicy {
  /** Addresses/CIDRs of the control plane (controller, gateway). */
  sources: string[]
  ports: number[]
}

interface PveFirewallRule {
  pos: number
  type: string
  action: string
  comment?: string
}

export async function ensureCtFirewall(client: PveClient, node: string, vmid: number, policy: FirewallPolicy): Promise<void> {
  const base = `/nodes/${encodeURIComponent(node)}/lxc/${vmid}/firewall`
  const rules = await client.get<PveFirewallRule[]>(`${base}/rules`)
  const present = new Set(rules.map((rule) => rule.comment ?? ''))
  for (const source of policy.sources) {
    for (const port of policy.ports) {
      const comment = `zlh:${port}:${source}`
      if (present.has(comment)) continue
      await client.post(`${base}/rules`, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: String(port), source, enable: 1, comment })
    }
  }
  // Enabled last: until every ACCEPT exists the CT is not started by us anyway.
  await client.put(`${base}/options`, { enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT', macfilter: 1 })
}
