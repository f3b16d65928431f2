// The shared conformance suite against the proxmox provider, talking to the Proxmox VE API double.
// The double cannot run a CT, so this test plays the CT's init (see proxmox-double/README.md):
// when a start task runs, a real agent is started in-process on the CT's loopback address with
// the token the spec carries (as the ZeroLagHub template's agent holds it); a stop ends it.
import t from 'tap'
import net from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent, type RunningAgent } from '../../../agent/index.ts'
import { ProxmoxBackend } from '../../../src/providers/proxmox/index.ts'
import { ownerFromTags } from '../../../src/providers/proxmox/tags.ts'
import type { ContainerSpec } from '../../../src/providers/types.ts'
import { startProxmoxDouble } from '../proxmox-double/server.ts'
import { runConformance } from '../conformance.ts'

const TOKEN = 'zlh@pve!controller=5b0e2a8c-1d3f-4e6a-8b9c-0d1e2f3a4b5c'
const tokens = new Map<string, string>()
const agents = new Map<number, RunningAgent>()
const roots = mkdtempSync(join(tmpdir(), 'zlh-pve-agents-'))

const agentPort = await new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port
    s.close(() => resolve(p))
  })
})

const pve = await startProxmoxDouble({
  apiToken: TOKEN,
  taskMs: 50,
  onCtStart: async (ct) => {
    const token = tokens.get(ownerFromTags(String(ct.config.tags)) ?? '')
    if (!token) throw new Error('the template has no agent token for this CT')
    const root = join(roots, String(ct.vmid))
    agents.set(ct.vmid, await startAgent({ root, listen: `${ct.address}:${agentPort}`, token, vmid: String(ct.vmid), logLevel: 'warn' }))
  },
  onCtStop: async (ct) => {
    await agents.get(ct.vmid)?.close()
    agents.delete(ct.vmid)
  },
})
t.teardown(async () => {
  for (const agent of agents.values()) await agent.close()
  await pve.close()
  rmSync(roots, { recursive: true, force: true })
})

runConformance(t, {
  make: () =>
    new ProxmoxBackend({
      endpoint: pve.url,
      apiToken: TOKEN,
      fingerprint: pve.tls.fingerprint,
      nodes: ['pve'],
      ostemplate: 'local:vztmpl/zlh-agent_1.0_amd64.tar.zst',
      controlPlaneSources: ['127.0.0.1'],
      agentPort,
    }),
  register: (spec: ContainerSpec) => {
    tokens.set(spec.identity.ownerUid, spec.agent.token)
  },
  tokenRotation: 'refused',
  agentTimeoutSeconds: 30,
})
