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
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.ts'
import { ClaimStore, type Claim } from '../claims.ts'
import { ProviderError } from '../errors.ts'
import { withHostLock } from '../host-lock.ts'
import { KeyedMutex } from '../keyed-mutex.ts'
import { checkRef, checkSpec, checkToken } from '../validate.ts'
import type { AgentSettings, Container, ContainerBackend, ContainerRef, ContainerSpec, StopOptions } from '../types.ts'
import { run } from './commands.ts'
import { IN_CONTAINER, cgroupLimits, detectCgroupLayout, renderBlock, resourcesFromConfig, writeContainerConfig, writeInit, writeToken, type CgroupLayout } from './container-config.ts'
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
  readonly #claims: ClaimStore
  readonly #mutex = new KeyedMutex()
  readonly #opts: LxcBackendOptions
  readonly #agentPort: number
  #cgroup: CgroupLayout | undefined

  constructor(options: LxcBackendOptions) {
    this.#opts = options
    this.lxcpath = options.lxcpath ?? '/var/lib/lxc'
    this.#template = options.template ?? 'busybox'
    this.bridge = options.bridge ?? 'zlhbr0'
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(this.bridge)) throw new ProviderError('InvalidConfig', `spec.lxc.bridge ${this.bridge} is not an interface name`, {})
    // lxc-create -t also accepts a path to any script, which it runs as root: names only.
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(this.#template)) throw new ProviderError('InvalidConfig', `spec.lxc.template ${JSON.stringify(this.#template)} must be the name of an installed LXC template (e.g. busybox), not a path`, {})
    if (!isAbsolute(this.lxcpath) || /\s/.test(this.lxcpath)) throw new ProviderError('InvalidConfig', `spec.lxc.lxcpath ${JSON.stringify(this.lxcpath)} must be an absolute path without whitespace`, {})
    this.#subnet = parseSubnet(options.subnet ?? '10.213.0.0/24')
    this.#claims = new ClaimStore(join(this.lxcpath, '.zlh-claims'), VMID_BASE, maxVmid(this.#subnet))
    this.#agentPort = options.agentPort ?? 7100
  }

  #name(vmid: number): string { return `${NAME_PREFIX}${vmid}` }
  #dir(vmid: number): string { return join(this.lxcpath, this.#name(vmid)) }
  #lxc(vmid: number): string[] { return ['-P', this.lxcpath, '-n', this.#name(vmid)] }

  /** Serializes work on one vmid: in this object (mutex) and across processes (lock file). */
  #locked<T>(vmid: number, section: () => Promise<T>): Promise<T> {
    return this.#mutex.run(`vmid:${vmid}`, async () => {
      const dir = join(this.lxcpath, '.zlh-claims', 'locks')
      await mkdir(dir, { recursive: true, mode: 0o700 })
      return withHostLock(join(dir, `${vmid}.lock`), section)
    })
  }

  async ensure(spec: ContainerSpec): Promise<Container> {
    checkSpec(spec)
    if (process.getuid?.() !== 0) throw new ProviderError('HostUnsupported', 'the lxc provider creates privileged containers and host bridges: run the controller as root', {})
    const ownerUid = spec.identity.ownerUid
    return this.#mutex.run(`owner:${ownerUid}`, async () => {
      const claim = await this.#claims.claim(spec.identity)
      return this.#locked(claim.vmid, async () => {
        const dir = this.#dir(claim.vmid)
        const marker = join(dir, 'zlh-owner')
        const owner = await readFile(marker, 'utf8').catch(() => undefined)
        if (owner !== undefined && owner !== ownerUid) {
          throw new ProviderError('Conflict', `container ${this.#name(claim.vmid)} is marked for owner ${owner}, not ${ownerUid}; nothing was changed`, { vmid: claim.vmid, ownerUid })
        }
        if (owner === undefined && existsSync(dir)) {
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
        if (owner === undefined) await writeFileAtomic(marker, ownerUid, 0o600)
        if (tokenChanged) await this.#restartAgentIfRunning(claim.vmid)
        return (await this.#observeClaim(claim))!
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
    await writeFileAtomic(netUpScript, '#!/bin/sh\nexec bridge link set dev "${LXC_NET_PEER:-$6}" isolated on\n', 0o700)
    await writeContainerConfig(join(dir, 'config'), renderBlock({
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
    }))
    const rootfs = join(dir, 'rootfs')
    await writeInit(rootfs, this.#agentPort)
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
    await run('lxc-attach', [...this.#lxc(vmid), '--', '/bin/sh', '-c', `kill $(cat ${IN_CONTAINER.pidFile}) 2>/dev/null; true`], { allowFailure: true })
  }

  start(ref: ContainerRef): Promise<Container> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      const claim = await this.#require(ref)
      return this.#locked(claim.vmid, async () => {
        if ((await this.#state(claim.vmid)) !== 'running') {
          await ensureBridge(this.bridge, this.#subnet)
          await run('lxc-start', [...this.#lxc(claim.vmid), '-l', 'WARN', '-o', join(this.#dir(claim.vmid), 'lxc-start.log')], { timeoutMs: 60_000 })
        }
        return (await this.#observeClaim(claim))!
      })
    })
  }

  stop(ref: ContainerRef, options: StopOptions = {}): Promise<Container> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      const claim = await this.#require(ref)
      return this.#locked(claim.vmid, async () => {
        if ((await this.#state(claim.vmid)) !== 'stopped') {
          const timeout = options.timeoutSeconds ?? 30
          // -t: send the halt signal, wait, then kill — graceful first, forced after the timeout.
          const res = await run('lxc-stop', [...this.#lxc(claim.vmid), '-t', String(timeout)], { timeoutMs: (timeout + 30) * 1000, allowFailure: true })
          if (res.exitCode !== 0 && (await this.#state(claim.vmid)) !== 'stopped') {
            await run('lxc-stop', [...this.#lxc(claim.vmid), '-k'], { timeoutMs: 30_000 })
          }
        }
        return (await this.#observeClaim(claim))!
      })
    })
  }

  delete(ref: ContainerRef): Promise<void> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      checkRef(ref)
      await this.#claims.deleteOwned(ref, {
        lock: (vmid, fn) => this.#locked(vmid, fn),
        markerFile: (vmid) => join(this.#dir(vmid), 'zlh-owner'),
        destroy: async (vmid) => {
          const dir = this.#dir(vmid)
          if (existsSync(join(dir, 'config'))) {
            if ((await this.#state(vmid)) !== 'stopped') await run('lxc-stop', [...this.#lxc(vmid), '-k'], { allowFailure: true, timeoutMs: 30_000 })
            await run('lxc-destroy', [...this.#lxc(vmid), '-f'], { timeoutMs: 60_000 })
          }
          await rm(dir, { recursive: true, force: true })
        },
      })
    })
  }

  async observe(ref: ContainerRef): Promise<Container | undefined> {
    checkRef(ref)
    const claim = await this.#claims.find(ref.ownerUid)
    if (!claim || (ref.vmid !== undefined && ref.vmid !== claim.vmid)) return undefined
    return this.#observeClaim(claim)
  }

  /** Containers with an owner marker — from the claims, and from lxcpath itself so that a lost
   * claims directory cannot hide an orphan. */
  async list(): Promise<Container[]> {
    const claims = new Map((await this.#claims.list()).map((c) => [c.vmid, c]))
    for (const entry of await readdir(this.lxcpath).catch(() => [] as string[])) {
      const vmid = Number(entry.slice(NAME_PREFIX.length))
      if (!entry.startsWith(NAME_PREFIX) || !Number.isInteger(vmid) || claims.has(vmid)) continue
      const ownerUid = await readFile(join(this.lxcpath, entry, 'zlh-owner'), 'utf8').catch(() => undefined)
      if (ownerUid) claims.set(vmid, { vmid, ownerUid })
    }
    const out: Container[] = []
    for (const claim of [...claims.values()].sort((a, b) => a.vmid - b.vmid)) {
      const container = await this.#observeClaim(claim)
      if (container) out.push(container)
    }
    return out
  }

  /** Rewrites the token file; when it changed and the agent runs, init respawns it with the new one. */
  deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      checkToken(agent.token)
      const claim = await this.#require(ref)
      await this.#locked(claim.vmid, async () => {
        if (await writeToken(join(this.#dir(claim.vmid), 'rootfs'), agent.token)) await this.#restartAgentIfRunning(claim.vmid)
      })
    })
  }

  async close(): Promise<void> {}

  async #require(ref: ContainerRef): Promise<Claim> {
    checkRef(ref)
    const claim = await this.#claims.find(ref.ownerUid)
    if (!claim || (ref.vmid !== undefined && ref.vmid !== claim.vmid) || !existsSync(join(this.#dir(claim.vmid), 'zlh-owner'))) {
      throw new ProviderError('NotFound', `no LXC container for owner ${ref.ownerUid}${ref.vmid ? ` (vmid ${ref.vmid})` : ''}; ensure it first`, { ...ref })
    }
    return claim
  }

  async #state(vmid: number): Promise<Container['state']> {
    const res = await run('lxc-info', [...this.#lxc(vmid), '-s', '-H'], { allowFailure: true })
    const state = res.stdout.trim()
    if (state === 'RUNNING') return 'running'
    if (state === 'STOPPED' || res.exitCode !== 0) return 'stopped'
    return 'transitioning'
  }

  async #observeClaim(claim: Claim): Promise<Container | undefined> {
    const dir = this.#dir(claim.vmid)
    const owner = await readFile(join(dir, 'zlh-owner'), 'utf8').catch(() => undefined)
    if (owner !== claim.ownerUid) return undefined
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
  return res.stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(NAME_PREFIX))
}

