// Builds the backend a ContainerProvider resource describes. The controller resolves what the
// resource only references (the Secret with the Proxmox API token) and passes it in; this module
// never reads Secrets or the network itself.

import { join, resolve } from 'node:path'
import type { ContainerProvider } from '../api/index.ts'
import { ProviderError } from './errors.ts'
import { LxcBackend } from './lxc/index.ts'
import { ProcessBackend } from './process/index.ts'
import { ProxmoxBackend } from './proxmox/index.ts'
import type { ContainerBackend } from './types.ts'

export interface ProviderContext {
  /** The controller's state directory; the process backend's rootDir defaults under it. */
  stateDir: string
  /** The project checkout (bin/zlh.js, node_modules): run by process, bind-mounted by lxc. */
  projectDir?: string
  /** proxmox: the API token "USER@REALM!TOKENID=SECRET" read from spec.proxmox.credentialsSecretRef. */
  credentials?: string
  /** proxmox: addresses/CIDRs of the control plane, the only sources the CT firewall admits. */
  controlPlaneSources?: string[]
  /** Port the agent listens on inside containers (lxc, proxmox). Default AGENT_PORT (src/api, 7100). */
  agentPort?: number
}

const defaultProjectDir = resolve(import.meta.dirname, '../..')

/** Where a process provider keeps its containers: spec.process.rootDir, else under the controller's state directory. */
export function processRootDir(resource: ContainerProvider, stateDir: string): string {
  return resource.spec.process?.rootDir ?? join(stateDir, 'containers', resource.metadata.name ?? '(unnamed)')
}

export function createProvider(resource: ContainerProvider, ctx: ProviderContext): ContainerBackend {
  const spec = resource.spec
  const name = resource.metadata.name ?? '(unnamed)'
  const projectDir = ctx.projectDir ?? defaultProjectDir
  switch (spec.type) {
    case 'process':
      return new ProcessBackend({
        rootDir: processRootDir(resource, ctx.stateDir),
        portRangeStart: spec.process?.portRangeStart,
        cliPath: join(projectDir, 'bin/zlh.js'),
      })
    case 'lxc':
      return new LxcBackend({
        lxcpath: spec.lxc?.lxcpath,
        template: spec.lxc?.template,
        bridge: spec.lxc?.bridge,
        subnet: spec.lxc?.subnet,
        projectDir,
        agentPort: ctx.agentPort,
      })
    case 'proxmox': {
      const pve = spec.proxmox
      if (!pve) throw new ProviderError('InvalidConfig', `ContainerProvider ${name}: spec.proxmox is required for type proxmox`, {})
      if (!ctx.credentials) {
        const ref = pve.credentialsSecretRef
        throw new ProviderError(
          'InvalidConfig',
          `ContainerProvider ${name}: no API token; create Secret ${ref.namespace}/${ref.name} with key ${ref.key}`,
          {},
        )
      }
      if (!pve.ostemplate)
        throw new ProviderError(
          'InvalidConfig',
          `ContainerProvider ${name}: spec.proxmox.ostemplate must name the template volume with the zlh agent`,
          {},
        )
      if (!ctx.controlPlaneSources?.length)
        throw new ProviderError(
          'InvalidConfig',
          `ContainerProvider ${name}: the controller must pass its own address(es) for the CT firewall`,
          {},
        )
      return new ProxmoxBackend({
        endpoint: pve.endpoint,
        apiToken: ctx.credentials.trim(),
        nodes: pve.nodes,
        storage: pve.storage,
        bridge: pve.bridge,
        ostemplate: pve.ostemplate,
        vmidRange: pve.vmidRange,
        caPem: pve.caData ? Buffer.from(pve.caData, 'base64').toString('utf8') : undefined,
        fingerprint: pve.fingerprint,
        insecureSkipVerify: pve.insecureSkipVerify,
        controlPlaneSources: ctx.controlPlaneSources,
        agentPort: ctx.agentPort,
      })
    }
    default:
      throw new ProviderError(
        'InvalidConfig',
        `ContainerProvider ${name}: unknown spec.type ${String((spec as { type: unknown }).type)}`,
        {},
      )
  }
}
