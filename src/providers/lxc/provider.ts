// The LXC backend: real containers on this host through lxc-create/-start/-stop/-destroy/-info.
//
// Design (docs/agent-token-delivery.md has the token part):
// - A container is `zlh-<vmid>` under `lxcpath`, from the busybox template (no download). Its
//   vmid and owner come from a ClaimStore in `<lxcpath>/.zlh-claims`; `<lxcpath>/<name>/zlh-owner`
//   (outside the rootfs, so the container cannot forge it) marks it complete and owned.
// - Node and the project are read-only bind mounts; busybox init respawns the agent, listening on
//   the container's fixed address on the provider's bridge (network.ts). The controller reaches
//   it at http://<address>:<agentPort>.
// - Resources become cgroup limits (v2 or legacy, whichever the host has), applied at start.
//   diskGiB is recorded, not enforced: the busybox rootfs is a plain directory.
//
// Expected flow of ensure: claim → (half-made container? destroy it) → lxc-create → write config
// block, init and token → write the owner marker last. Each step repeats harmlessly.
// Guarantees: per-owner and per-vmid serialization in-process; across processes the claim store
// decides. Assumptions: runs as root (CI does); `ip`/`bridge` from iproute2.

import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import { AGENT_PORT } from '../../api/index.ts'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { AGENT_NODE_FLAGS, agentLaunch } from '../agent-launch.ts'
import { ClaimStore, type Claim } from '../claims.ts'
import { ProviderError } from '../errors.ts'
import { LocalContainers } from '../local-containers.ts'
import { checkSpec, checkToken } from '../validate.ts'
import type { AgentSettings, Container, ContainerBackend, ContainerRef, ContainerSpec, StopOptions } from '../types.ts'
import { run } from './commands.ts'
import {
  IN_CONTAINER,
  cgroupLimits,
  detectCgroupLayout,
  renderBlock,
  resourcesFromConfig,
  writeContainerConfig,
  writeInit,
  writeToken,
  type CgroupLayout,
} from './container-config.ts'
import { VMID_BASE, containerAddress, ensureBridge, hostAddress, maxVmid, parseSubnet, vethName, type Subnet } from './network.ts'

export interface LxcBackendOptions {
  lxcpath?: string
  template?: string
  bridge?: string
  subnet?: string
  /** The project bind-mounted read-only at /opt/zlh/project. Must hold no secrets. */
  projectDir: string
  /** The Node binary bind-mounted at /opt/zlh/node. Default: the one running us. */
  nodeBinary?: string
  agentPort?: number
}

const NAME_PREFIX = 'zlh-'

export class LxcBackend implements ContainerBackend {
  readonly type = 'lxc' as const
  readonly lxcpath: string
  readonly bridge: string
  readonly #template: string
  readonly #subnet: Subnet
  readonly #local: LocalContainers
  readonly #opts: LxcBackendOptions
  readonly #agentPort: number
  #cgroup: CgroupLayout | undefined

  constructor(options: LxcBackendOptions) {
    this.#opts = options
    this.lxcpath = options.lxcpath ?? '/var/lib/lxc'
    this.#template = options.template ?? 'busybox'
    this.bridge = options.bridge ?? 'zlhbr0'
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(this.bridge))
      throw new ProviderError('InvalidConfig', `spec.lxc.bridge ${this.bridge} is not an interface name`, {})
    // lxc-create -t also accepts a path to any script, which it runs as root: names only.
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(this.#template))
      throw new ProviderError(
        'InvalidConfig',
        `spec.lxc.template ${JSON.stringify(this.#template)} must be the name of an installed LXC template (e.g. busybox), not a path`,
        {},
      )
    if (!isAbsolute(this.lxcpath) || /\s/.test(this.lxcpath))
      throw new ProviderError(
        'InvalidConfig',
        `spec.lxc.lxcpath ${JSON.stringify(this.lxcpath)} must be an absolute path without whitespace`,
        {},
      )
    this.#subnet = parseSubnet(options.subnet ?? '10.213.0.0/24')
    const claimsDir = join(this.lxcpath, '.zlh-claims')
    this.#local = new LocalContainers({
      claims: new ClaimStore(claimsDir, VMID_BASE, maxVmid(this.#subnet)),
      claimsDir,
      kind: 'LXC container',
      nameOf: (vmid) => this.#name(vmid),
      dirOf: (vmid) => this.#dir(vmid),
      scanDir: this.lxcpath,
      vmidOfEntry: (entry) =>
        entry.startsWith(NAME_PREFIX) && /^\d+$/.test(entry.slice(NAME_PREFIX.length))
          ? Number(entry.slice(NAME_PREFIX.length))
          : undefined,
      observe: (claim) => this.#describe(claim),
    })
    this.#agentPort = options.agentPort ?? AGENT_PORT
  }

  #name(vmid: number): string {
    return `${NAME_PREFIX}${vmid}`
  }
  #dir(vmid: number): string {
    return join(this.lxcpath, this.#name(vmid))
  }
  #lxc(vmid: number): string[] {
    return ['-P', this.lxcpath, '-n', this.#name(vmid)]
  }

  async ensure(spec: ContainerSpec): Promise<Container> {
    checkSpec(spec)
    if (process.getuid?.() !== 0)
      throw new ProviderError(
        'HostUnsupported',
        'the lxc provider creates privileged containers and host bridges: run the controller as root',
        {},
      )
    const ownerUid = spec.identity.ownerUid
    const local = this.#local
    return local.serial(ownerUid, async () => {
      const claim = await local.claims.claim(spec.identity)
      return local.locked(claim.vmid, async () => {
        const dir = this.#dir(claim.vmid)
        const marked = await local.checkOwner(claim.vmid, ownerUid)
        if (!marked && existsSync(dir)) {
          // Left half-made by a crash during create: start over.
          await run('lxc-destroy', [...this.#lxc(claim.vmid), '-f'], { allowFailure: true })
          await rm(dir, { recursive: true, force: true })
        }
        if (!existsSync(join(dir, 'config'))) {
          await run('lxc-create', [...this.#lxc(claim.vmid), '-t', this.#template], { timeoutMs: 120_000 })
        }
        const before = resourcesFromConfig(await readFile(join(dir, 'config'), 'utf8'))
        const tokenChanged = await this.#configure(claim.vmid, spec)
        if (JSON.stringify(before) !== JSON.stringify(spec.resources)) await this.#applyLiveLimits(claim.vmid, spec)
        if (!marked) await local.markOwned(claim.vmid, ownerUid)
        if (tokenChanged) await this.#restartAgentIfRunning(claim.vmid)
        return this.#describe(claim)
      })
    })
  }

  /** Writes config, init and token; returns whether the token changed. */
  async #configure(vmid: number, spec: ContainerSpec): Promise<boolean> {
    await ensureBridge(this.bridge, this.#subnet)
    this.#cgroup ??= detectCgroupLayout()
    const dir = this.#dir(vmid)
    const netUpScript = join(dir, 'zlh-net-up')
    // LXC calls it with: <container> net up veth <bridge> <host-side veth> (also in LXC_NET_PEER)
    await writeFileDurable(netUpScript, '#!/bin/sh\nexec bridge link set dev "${LXC_NET_PEER:-$6}" isolated on\n', 0o700)
    await writeContainerConfig(
      join(dir, 'config'),
      renderBlock({
        bridge: this.bridge,
        address: containerAddress(this.#subnet, vmid),
        prefix: this.#subnet.prefix,
        gateway: hostAddress(this.#subnet),
        veth: vethName(this.lxcpath, vmid),
        netUpScript,
        resources: spec.resources,
        cgroup: this.#cgroup,
        projectDir: this.#opts.projectDir,
        nodeBinary: this.#opts.nodeBinary ?? process.execPath,
      }),
    )
    const rootfs = join(dir, 'rootfs')
    // The agent bundle is built on the host, inside the project the container bind-mounts.
    const launch = await agentLaunch(this.#opts.projectDir)
    await writeInit(rootfs, this.#agentPort, [
      ...AGENT_NODE_FLAGS,
      join(IN_CONTAINER.project, relative(this.#opts.projectDir, launch.agentScript)),
    ])
    return writeToken(rootfs, spec.agent.token)
  }

  /** A running container gets new limits at once (the config applies them at its next start). */
  async #applyLiveLimits(vmid: number, spec: ContainerSpec): Promise<void> {
    if ((await this.#state(vmid)) !== 'running') return
    for (const [key, value] of cgroupLimits(this.#cgroup!, spec.resources)) {
      await run('lxc-cgroup', [...this.#lxc(vmid), key, value])
    }
  }

  /** The agent reads its token at start; init's respawn restarts it with the new file. */
  async #restartAgentIfRunning(vmid: number): Promise<void> {
    if ((await this.#state(vmid)) !== 'running') return
    await run('lxc-attach', [...this.#lxc(vmid), '--', '/bin/sh', '-c', `kill $(cat ${IN_CONTAINER.pidFile}) 2>/dev/null; true`], {
      allowFailure: true,
    })
  }

  start(ref: ContainerRef): Promise<Container> {
    return this.#local.withContainer(ref, async (claim) => {
      if ((await this.#state(claim.vmid)) !== 'running') {
        await ensureBridge(this.bridge, this.#subnet)
        await run('lxc-start', [...this.#lxc(claim.vmid), '-l', 'WARN', '-o', join(this.#dir(claim.vmid), 'lxc-start.log')], {
          timeoutMs: 60_000,
        })
      }
      return this.#describe(claim)
    })
  }

  stop(ref: ContainerRef, options: StopOptions = {}): Promise<Container> {
    return this.#local.withContainer(ref, async (claim) => {
      if ((await this.#state(claim.vmid)) !== 'stopped') {
        const timeout = options.timeoutSeconds ?? 30
        // -t: send the halt signal, wait, then kill — graceful first, forced after the timeout.
        const res = await run('lxc-stop', [...this.#lxc(claim.vmid), '-t', String(timeout)], {
          timeoutMs: (timeout + 30) * 1000,
          allowFailure: true,
        })
        if (res.exitCode !== 0 && (await this.#state(claim.vmid)) !== 'stopped') {
          await run('lxc-stop', [...this.#lxc(claim.vmid), '-k'], { timeoutMs: 30_000 })
        }
      }
      return this.#describe(claim)
    })
  }

  delete(ref: ContainerRef): Promise<void> {
    return this.#local.delete(ref, async (vmid) => {
      const dir = this.#dir(vmid)
      if (existsSync(join(dir, 'config'))) {
        if ((await this.#state(vmid)) !== 'stopped')
          await run('lxc-stop', [...this.#lxc(vmid), '-k'], { allowFailure: true, timeoutMs: 30_000 })
        await run('lxc-destroy', [...this.#lxc(vmid), '-f'], { timeoutMs: 60_000 })
      }
      await rm(dir, { recursive: true, force: true })
    })
  }

  observe(ref: ContainerRef): Promise<Container | undefined> {
    return this.#local.observe(ref)
  }

  list(): Promise<Container[]> {
    return this.#local.list()
  }

  /** Rewrites the token file; when it changed and the agent runs, init respawns it with the new one. */
  async deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void> {
    checkToken(agent.token)
    return this.#local.withContainer(ref, async (claim) => {
      if (await writeToken(join(this.#dir(claim.vmid), 'rootfs'), agent.token)) await this.#restartAgentIfRunning(claim.vmid)
    })
  }

  async close(): Promise<void> {}

  async #state(vmid: number): Promise<Container['state']> {
    const res = await run('lxc-info', [...this.#lxc(vmid), '-s', '-H'], { allowFailure: true })
    const state = res.stdout.trim()
    if (state === 'RUNNING') return 'running'
    if (state === 'STOPPED' || res.exitCode !== 0) return 'stopped'
    return 'transitioning'
  }

  async #describe(claim: Claim): Promise<Container> {
    const dir = this.#dir(claim.vmid)
    const config = await readFile(join(dir, 'config'), 'utf8').catch(() => '')
    const address = containerAddress(this.#subnet, claim.vmid)
    return {
      provider: 'lxc',
      vmid: claim.vmid,
      ownerUid: claim.ownerUid,
      identity: claim.identity,
      state: await this.#state(claim.vmid),
      address,
      agentUrl: `http://${address}:${this.#agentPort}`,
      resources: resourcesFromConfig(config) ?? { cores: 0, memoryMiB: 0, diskGiB: 0 },
      node: 'localhost',
    }
  }
}

/** Test and tooling helper: names of this backend's containers as lxc-ls shows them. */
export async function listLxcNames(lxcpath: string): Promise<string[]> {
  const res = await run('lxc-ls', ['-P', lxcpath, '-1'], { allowFailure: true })
  return res.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith(NAME_PREFIX))
}
