// The process backend, the zero-setup default: a "container" is a directory root plus the real
// agent (`zlh agent --root <dir>`) as a detached process on a loopback port; code-server, which
// the agent starts on demand, gets a second loopback port of its own.
//
// Stop and delete end every process of the container (agent, game, code-server), found by their
// working directory inside the root. IT ISOLATES NOTHING. Every "container" runs as the controller's user on the controller's host,
// shares its network, CPU and memory (resources are recorded, not enforced) and can read any
// file that user can — including other containers' roots and tokens. It is for development and
// the embedded all-in-one mode; use lxc or proxmox for anything shared.
//
// Layout under rootDir: `claims/` (vmid + agent and code-server ports per owner, durable), and per vmid
// `containers/<vmid>/{root/, agent-token (0600), agent.pid, agent.log, zlh-owner}`.
// Expected flow of ensure: claim (vmid, port) → create root and token → owner marker last.
// Guarantees: the agent survives a controller restart (own session) and is found again through
// its pid file (pid + kernel start time); per-owner/per-vmid operations are serialized
// in-process, and the claim store keeps two processes from making two containers for one owner.

import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.ts'
import { ClaimStore, type Claim } from '../claims.ts'
import { ProviderError } from '../errors.ts'
import { withHostLock } from '../host-lock.ts'
import { KeyedMutex } from '../keyed-mutex.ts'
import { checkRef, checkSpec, checkToken } from '../validate.ts'
import type { AgentSettings, Container, ContainerBackend, ContainerRef, ContainerResources, ContainerSpec, StopOptions } from '../types.ts'
import { runningAgentPid, startAgentProcess, stopAgentProcess, stopContainer, type AgentProcessFiles } from './agent-process.ts'

export interface ProcessBackendOptions {
  /** Where claims and container roots live (the controller's state directory). */
  rootDir: string
  /** First loopback port; container vmid N's agent listens on portRangeStart + 2(N - 100), its
   * code-server on the port after that. Default 17100. */
  portRangeStart?: number
  /** The `zlh` entry point (bin/zlh.js) that runs `zlh agent`. */
  cliPath: string
}

interface ProcessClaimExtra { port: number; codeServerPort?: number; resources?: ContainerResources }

const VMID_MIN = 100

export class ProcessBackend implements ContainerBackend {
  readonly type = 'process' as const
  readonly #opts: ProcessBackendOptions
  readonly #claims: ClaimStore
  readonly #mutex = new KeyedMutex()
  readonly #portStart: number

  constructor(options: ProcessBackendOptions) {
    this.#opts = options
    this.#portStart = options.portRangeStart ?? 17100
    if (!(this.#portStart >= 1024 && this.#portStart <= 65000)) throw new ProviderError('InvalidConfig', `spec.process.portRangeStart ${this.#portStart} must be 1024..65000`, {})
    // Two ports per container (agent, code-server).
    this.#claims = new ClaimStore(join(options.rootDir, 'claims'), VMID_MIN, VMID_MIN + Math.floor((65534 - this.#portStart) / 2))
  }

  #dir(vmid: number): string { return join(this.#opts.rootDir, 'containers', String(vmid)) }

  #files(vmid: number): AgentProcessFiles {
    const dir = this.#dir(vmid)
    return { root: join(dir, 'root'), tokenFile: join(dir, 'agent-token'), pidFile: join(dir, 'agent.pid'), logFile: join(dir, 'agent.log') }
  }

  #port(claim: Claim): number {
    return (claim.extra as ProcessClaimExtra | undefined)?.port ?? this.#portStart + 2 * (claim.vmid - VMID_MIN)
  }

  /** code-server's loopback port: per container, so two DevServers on one host never share one. */
  #codeServerPort(claim: Claim): number {
    return (claim.extra as ProcessClaimExtra | undefined)?.codeServerPort ?? this.#portStart + 2 * (claim.vmid - VMID_MIN) + 1
  }

  #agentOptions(claim: Claim): { cliPath: string; listen: string; codeServerBind: string; vmid: number } {
    return { cliPath: this.#opts.cliPath, listen: `127.0.0.1:${this.#port(claim)}`, codeServerBind: `127.0.0.1:${this.#codeServerPort(claim)}`, vmid: claim.vmid }
  }

  /** Serializes work on one vmid: in this object (mutex) and across processes (lock file). */
  #locked<T>(vmid: number, section: () => Promise<T>): Promise<T> {
    return this.#mutex.run(`vmid:${vmid}`, async () => {
      const dir = join(this.#opts.rootDir, 'claims', 'locks')
      await mkdir(dir, { recursive: true, mode: 0o700 })
      return withHostLock(join(dir, `${vmid}.lock`), section)
    })
  }

  async ensure(spec: ContainerSpec): Promise<Container> {
    checkSpec(spec)
    const ownerUid = spec.identity.ownerUid
    return this.#mutex.run(`owner:${ownerUid}`, async () => {
      const claim = await this.#claims.claim(spec.identity, (vmid) => ({ port: this.#portStart + 2 * (vmid - VMID_MIN), codeServerPort: this.#portStart + 2 * (vmid - VMID_MIN) + 1, resources: spec.resources }))
      return this.#locked(claim.vmid, async () => {
        const dir = this.#dir(claim.vmid)
        const marker = join(dir, 'zlh-owner')
        const owner = await readFile(marker, 'utf8').catch(() => undefined)
        if (owner !== undefined && owner !== ownerUid) {
          throw new ProviderError('Conflict', `container ${claim.vmid} is marked for owner ${owner}, not ${ownerUid}; nothing was changed`, { vmid: claim.vmid, ownerUid })
        }
        const files = this.#files(claim.vmid)
        await mkdir(files.root, { recursive: true, mode: 0o700 })
        const tokenChanged = await this.#writeToken(files, spec.agent.token)
        const extra = claim.extra as ProcessClaimExtra | undefined
        // A claim from before code-server had its own port gets one (and its agent a restart to use it).
        const codeServerPortNew = extra?.codeServerPort === undefined
        if (codeServerPortNew || JSON.stringify(extra?.resources) !== JSON.stringify(spec.resources)) {
          await this.#claims.update({ ...claim, extra: { port: this.#port(claim), codeServerPort: this.#codeServerPort(claim), resources: spec.resources } })
        }
        if (owner === undefined) await writeFileAtomic(marker, ownerUid, 0o600)
        if (tokenChanged || codeServerPortNew) await this.#restartAgentIfRunning((await this.#claims.find(ownerUid))!)
        return (await this.#observeClaim((await this.#claims.find(ownerUid))!))!
      })
    })
  }

  async #writeToken(files: AgentProcessFiles, token: string): Promise<boolean> {
    const current = await readFile(files.tokenFile, 'utf8').catch(() => undefined)
    if (current === token) return false
    await writeFileAtomic(files.tokenFile, token, 0o600)
    return true
  }

  start(ref: ContainerRef): Promise<Container> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      const claim = await this.#require(ref)
      return this.#locked(claim.vmid, async () => {
        const files = this.#files(claim.vmid)
        if ((await runningAgentPid(files)) === undefined) {
          await startAgentProcess(files, this.#agentOptions(claim))
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
        await stopContainer(this.#files(claim.vmid), (options.timeoutSeconds ?? 30) * 1000)
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
          await stopContainer(this.#files(vmid), 10_000)
          await rm(this.#dir(vmid), { recursive: true, force: true })
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

  /** Containers with an owner marker — from the claims, and from the containers directory so
   * that a lost claim cannot hide an orphan. */
  async list(): Promise<Container[]> {
    const claims = new Map((await this.#claims.list()).map((c) => [c.vmid, c]))
    for (const entry of await readdir(join(this.#opts.rootDir, 'containers')).catch(() => [] as string[])) {
      const vmid = Number(entry)
      if (!Number.isInteger(vmid) || claims.has(vmid)) continue
      const ownerUid = await readFile(join(this.#dir(vmid), 'zlh-owner'), 'utf8').catch(() => undefined)
      if (ownerUid) claims.set(vmid, { vmid, ownerUid })
    }
    const out: Container[] = []
    for (const claim of [...claims.values()].sort((a, b) => a.vmid - b.vmid)) {
      const container = await this.#observeClaim(claim)
      if (container) out.push(container)
    }
    return out
  }

  /** Rewrites the token file; a running agent is restarted to pick up a changed token. */
  deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      checkToken(agent.token)
      const claim = await this.#require(ref)
      await this.#locked(claim.vmid, async () => {
        if (await this.#writeToken(this.#files(claim.vmid), agent.token)) await this.#restartAgentIfRunning(claim)
      })
    })
  }

  /** The agent reads its token at start: a changed token needs a restart. */
  async #restartAgentIfRunning(claim: Claim): Promise<void> {
    const files = this.#files(claim.vmid)
    if ((await runningAgentPid(files)) === undefined) return
    await stopAgentProcess(files, 10_000)
    await startAgentProcess(files, this.#agentOptions(claim))
  }

  async close(): Promise<void> {}

  async #require(ref: ContainerRef): Promise<Claim> {
    checkRef(ref)
    const claim = await this.#claims.find(ref.ownerUid)
    if (!claim || (ref.vmid !== undefined && ref.vmid !== claim.vmid) || !existsSync(join(this.#dir(claim.vmid), 'zlh-owner'))) {
      throw new ProviderError('NotFound', `no process container for owner ${ref.ownerUid}${ref.vmid ? ` (vmid ${ref.vmid})` : ''}; ensure it first`, { ...ref })
    }
    return claim
  }

  async #observeClaim(claim: Claim): Promise<Container | undefined> {
    const owner = await readFile(join(this.#dir(claim.vmid), 'zlh-owner'), 'utf8').catch(() => undefined)
    if (owner !== claim.ownerUid) return undefined
    const port = this.#port(claim)
    const running = (await runningAgentPid(this.#files(claim.vmid))) !== undefined
    return {
      provider: 'process',
      vmid: claim.vmid,
      ownerUid: claim.ownerUid,
      identity: claim.identity,
      state: running ? 'running' : 'stopped',
      address: '127.0.0.1',
      agentUrl: `http://127.0.0.1:${port}`,
      codeServerAddress: `127.0.0.1:${this.#codeServerPort(claim)}`,
      resources: (claim.extra as ProcessClaimExtra | undefined)?.resources ?? { cores: 0, memoryMiB: 0, diskGiB: 0 },
      node: 'localhost',
    }
  }
}
