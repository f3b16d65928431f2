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
// An agent is only started on a port that is free: when something else holds the claimed one
// (another program, or an outgoing connection that drew it as its ephemeral port, which can last
// as long as that connection), the agent moves to a free port of the range (outside the kernel's
// ephemeral range where it can), the claim records it, and the container's agentUrl says where.

import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { ClaimStore, type Claim } from '../claims.ts'
import { ProviderError } from '../errors.ts'
import { LocalContainers } from '../local-containers.ts'
import { checkSpec, checkToken } from '../validate.ts'
import type { AgentSettings, Container, ContainerBackend, ContainerRef, ContainerResources, ContainerSpec, StopOptions } from '../types.ts'
import { runningAgentPid, startAgentProcess, stopAgentProcess, stopContainer, type AgentProcessFiles } from './agent-process.ts'
import { canListen, ephemeralPortRange } from './ports.ts'

export interface ProcessBackendOptions {
  /** Where claims and container roots live (the controller's state directory). */
  rootDir: string
  /** First loopback port; container vmid N's agent listens on portRangeStart + 2(N - 100), its
   * code-server on the port after that. Default 17100. */
  portRangeStart?: number
  /** The `zlh` entry point (bin/zlh.js) of the project whose agent runs in the containers. */
  cliPath: string
  /** Run `zlh agent` from the TypeScript sources (development) instead of the project's agent bundle (src/providers/agent-launch.ts). */
  agentFromSources?: boolean
}

interface ProcessClaimExtra {
  port: number
  codeServerPort?: number
  resources?: ContainerResources
}

const VMID_MIN = 100

export class ProcessBackend implements ContainerBackend {
  readonly type = 'process' as const
  readonly #opts: ProcessBackendOptions
  readonly #local: LocalContainers
  readonly #portStart: number
  readonly #vmidMax: number

  constructor(options: ProcessBackendOptions) {
    this.#opts = options
    this.#portStart = options.portRangeStart ?? 17100
    if (!(this.#portStart >= 1024 && this.#portStart <= 65000))
      throw new ProviderError('InvalidConfig', `spec.process.portRangeStart ${this.#portStart} must be 1024..65000`, {})
    // Two ports per container (agent, code-server).
    this.#vmidMax = VMID_MIN + Math.floor((65534 - this.#portStart) / 2)
    const claimsDir = join(options.rootDir, 'claims')
    this.#local = new LocalContainers({
      claims: new ClaimStore(claimsDir, VMID_MIN, this.#vmidMax),
      claimsDir,
      kind: 'process container',
      nameOf: String,
      dirOf: (vmid) => this.#dir(vmid),
      scanDir: join(options.rootDir, 'containers'),
      vmidOfEntry: (entry) => (/^\d+$/.test(entry) ? Number(entry) : undefined),
      observe: (claim) => this.#describe(claim),
    })
  }

  #dir(vmid: number): string {
    return join(this.#opts.rootDir, 'containers', String(vmid))
  }

  #files(vmid: number): AgentProcessFiles {
    const dir = this.#dir(vmid)
    return {
      root: join(dir, 'root'),
      tokenFile: join(dir, 'agent-token'),
      pidFile: join(dir, 'agent.pid'),
      logFile: join(dir, 'agent.log'),
    }
  }

  /** The default port pair of a vmid: the agent's, and code-server's right after it. */
  #slotPort(vmid: number): number {
    return this.#portStart + 2 * (vmid - VMID_MIN)
  }

  #port(claim: Claim): number {
    return (claim.extra as ProcessClaimExtra | undefined)?.port ?? this.#slotPort(claim.vmid)
  }

  /** code-server's loopback port: per container, so two DevServers on one host never share one. */
  #codeServerPort(claim: Claim): number {
    return (claim.extra as ProcessClaimExtra | undefined)?.codeServerPort ?? this.#slotPort(claim.vmid) + 1
  }

  #agentOptions(claim: Claim): { cliPath: string; listen: string; codeServerBind: string; vmid: number; agentFromSources?: boolean } {
    return {
      cliPath: this.#opts.cliPath,
      agentFromSources: this.#opts.agentFromSources,
      listen: `127.0.0.1:${this.#port(claim)}`,
      codeServerBind: `127.0.0.1:${this.#codeServerPort(claim)}`,
      vmid: claim.vmid,
    }
  }

  async ensure(spec: ContainerSpec): Promise<Container> {
    checkSpec(spec)
    const ownerUid = spec.identity.ownerUid
    const local = this.#local
    return local.serial(ownerUid, async () => {
      const claim = await local.claims.claim(spec.identity, (vmid) => ({
        port: this.#slotPort(vmid),
        codeServerPort: this.#slotPort(vmid) + 1,
        resources: spec.resources,
      }))
      return local.locked(claim.vmid, async () => {
        const marked = await local.checkOwner(claim.vmid, ownerUid)
        const files = this.#files(claim.vmid)
        await mkdir(files.root, { recursive: true, mode: 0o700 })
        const tokenChanged = await this.#writeToken(files, spec.agent.token)
        const extra = claim.extra as ProcessClaimExtra | undefined
        // A claim from before code-server had its own port gets one (and its agent a restart to use it).
        const codeServerPortNew = extra?.codeServerPort === undefined
        if (codeServerPortNew || JSON.stringify(extra?.resources) !== JSON.stringify(spec.resources)) {
          await local.claims.update({
            ...claim,
            extra: { port: this.#port(claim), codeServerPort: this.#codeServerPort(claim), resources: spec.resources },
          })
        }
        if (!marked) await local.markOwned(claim.vmid, ownerUid)
        let current = (await local.claims.find(ownerUid))!
        if (tokenChanged || codeServerPortNew) current = await this.#restartAgentIfRunning(current)
        return (await local.observeClaim(current))!
      })
    })
  }

  async #writeToken(files: AgentProcessFiles, token: string): Promise<boolean> {
    const current = await readFile(files.tokenFile, 'utf8').catch(() => undefined)
    if (current === token) return false
    await writeFileDurable(files.tokenFile, token, 0o600)
    return true
  }

  start(ref: ContainerRef): Promise<Container> {
    return this.#local.withContainer(ref, async (claim) => {
      if ((await runningAgentPid(this.#files(claim.vmid))) === undefined) claim = await this.#startAgent(claim)
      return this.#describe(claim)
    })
  }

  stop(ref: ContainerRef, options: StopOptions = {}): Promise<Container> {
    return this.#local.withContainer(ref, async (claim) => {
      await stopContainer(this.#files(claim.vmid), (options.timeoutSeconds ?? 30) * 1000)
      return this.#describe(claim)
    })
  }

  delete(ref: ContainerRef): Promise<void> {
    return this.#local.delete(ref, async (vmid) => {
      await stopContainer(this.#files(vmid), 10_000)
      await rm(this.#dir(vmid), { recursive: true, force: true })
    })
  }

  observe(ref: ContainerRef): Promise<Container | undefined> {
    return this.#local.observe(ref)
  }

  list(): Promise<Container[]> {
    return this.#local.list()
  }

  /** Rewrites the token file; a running agent is restarted to pick up a changed token. */
  async deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void> {
    checkToken(agent.token)
    return this.#local.withContainer(ref, async (claim) => {
      if (await this.#writeToken(this.#files(claim.vmid), agent.token)) await this.#restartAgentIfRunning(claim)
    })
  }

  /** The agent reads its token at start: a changed token needs a restart. Returns the claim as it now stands. */
  async #restartAgentIfRunning(claim: Claim): Promise<Claim> {
    const files = this.#files(claim.vmid)
    if ((await runningAgentPid(files)) === undefined) return claim
    await stopAgentProcess(files, 10_000)
    return this.#startAgent(claim)
  }

  /** Starts the agent on its claimed port, or on a free one when that is taken; returns the claim as it now stands. */
  async #startAgent(claim: Claim): Promise<Claim> {
    if (!(await canListen(this.#port(claim)))) claim = await this.#moveAgentPort(claim)
    await startAgentProcess(this.#files(claim.vmid), this.#agentOptions(claim))
    return claim
  }

  async #moveAgentPort(claim: Claim): Promise<Claim> {
    const claimed = new Set((await this.#local.claims.list()).flatMap((c) => [this.#port(c), this.#codeServerPort(c)]))
    const ephemeral = ephemeralPortRange()
    const isEphemeral = (port: number) => port >= ephemeral.low && port <= ephemeral.high
    // From the top down (new vmids take their default ports from the bottom of the range), ports
    // outside the ephemeral range first.
    const top = this.#slotPort(this.#vmidMax) + 1
    for (const wantEphemeral of [false, true])
      for (let port = top; port >= this.#portStart; port--) {
        if (isEphemeral(port) !== wantEphemeral || claimed.has(port) || !(await canListen(port))) continue
        const moved = {
          ...claim,
          extra: { ...(claim.extra as ProcessClaimExtra | undefined), port, codeServerPort: this.#codeServerPort(claim) },
        }
        await this.#local.claims.update(moved)
        return moved
      }
    throw new ProviderError(
      'Exhausted',
      `port ${this.#port(claim)} of process container ${claim.vmid} is in use and no port from ${this.#portStart} up is free; free one or set another spec.process.portRangeStart`,
      { vmid: claim.vmid },
    )
  }

  async close(): Promise<void> {}

  async #describe(claim: Claim): Promise<Container> {
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
