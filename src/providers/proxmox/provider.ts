// The Proxmox VE backend: CTs through the PVE REST API.
//
// Expected flow of ensure (each step safe to repeat after a crash anywhere):
// 1. Look for a CT tagged `zlh-owner-<uid>` on the configured nodes; if found, go to 5.
// 2. vmid = /cluster/nextid (raised to vmidRange.min, checked with ?vmid=).
// 3. POST /nodes/{node}/lxc (unprivileged, tags, description, net0 with firewall=1); when a
//    concurrent create took the vmid ("already exists"), take the next one and try again.
// 4. Poll the create task's UPID to `stopped`; a failed task surfaces with its log.
// 5. If two CTs now carry the owner tag (two controllers raced), keep the lowest vmid and destroy
//    the other — both racers reach the same verdict, so they converge on one CT.
// 6. Firewall: control plane only, on the agent and code-server ports.
//
// Guarantees: operations naming a vmid check its owner tag first (Conflict, nothing touched, on a
// mismatch); "CT is locked" and config-lock timeouts are retried with backoff; "already running",
// "not running" and "does not exist" are the idempotent outcomes they are.
// Assumptions: the ostemplate contains the agent, started at boot in enrollment mode; the agent
// receives its token once through `deliverCredentials` (docs/agent-token-delivery.md).
// Size: kept whole on purpose: ensure, delete and list share the task polling, locking and tagging
// helpers below; the HTTP client, TLS pinning, firewall and tags are their own modules.

import { AGENT_PORT, CODE_SERVER_PORT } from '../../api/index.ts'
import { ProviderError, isProviderError } from '../errors.ts'
import { KeyedMutex } from '../keyed-mutex.ts'
import { checkRef, checkSpec, checkToken } from '../validate.ts'
import type { AgentSettings, Container, ContainerBackend, ContainerRef, ContainerSpec, StopOptions } from '../types.ts'
import { PveApiError, PveClient, type PveClientOptions } from './client.ts'
import { ensureCtFirewall } from './firewall.ts'
import { MANAGED_TAG, descriptionFor, identityFromDescription, ownerFromTags, tagsFor } from './tags.ts'

export interface ProxmoxBackendOptions extends PveClientOptions {
  nodes: string[]
  storage?: string
  bridge?: string
  ostemplate: string
  vmidRange?: { min?: number; max?: number }
  /** Control-plane addresses/CIDRs allowed to reach the agent and code-server ports. */
  controlPlaneSources: string[]
  agentPort?: number
  codeServerPort?: number
  /** Seconds a locked CT is retried for before `Locked`. Default 30. */
  lockWaitSeconds?: number
  taskTimeoutMs?: number
}

interface PveCtListEntry {
  vmid: number | string
  status: string
  name?: string
  tags?: string
  lock?: string
  cpus?: number
  maxmem?: number
  maxdisk?: number
}

interface Located {
  node: string
  entry: PveCtListEntry
  ownerUid: string
}

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const isLockError = (err: unknown) => err instanceof PveApiError && /is locked|can't lock file|got timeout/.test(err.pveMessage)
const isMissing = (err: unknown) => err instanceof PveApiError && /does not exist|no such (?:VM|CT)/i.test(err.pveMessage)
const isExists = (err: unknown) => err instanceof PveApiError && /already exists/.test(err.pveMessage)

export class ProxmoxBackend implements ContainerBackend {
  readonly type = 'proxmox' as const
  readonly client: PveClient
  readonly #opts: ProxmoxBackendOptions
  readonly #mutex = new KeyedMutex()
  readonly #agentPort: number
  readonly #codeServerPort: number

  constructor(options: ProxmoxBackendOptions) {
    if (!options.nodes.length) throw new ProviderError('InvalidConfig', 'spec.proxmox.nodes must name at least one node', {})
    if (!options.ostemplate)
      throw new ProviderError(
        'InvalidConfig',
        'spec.proxmox.ostemplate is required to create CTs (a template volume with the zlh agent)',
        {},
      )
    // These are spliced into PVE property strings (net0, rootfs): a ',' would smuggle in options
    // such as firewall=0.
    if (options.bridge !== undefined && !/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(options.bridge))
      throw new ProviderError('InvalidConfig', `spec.proxmox.bridge ${JSON.stringify(options.bridge)} is not a bridge name`, {})
    if (options.storage !== undefined && !/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(options.storage))
      throw new ProviderError('InvalidConfig', `spec.proxmox.storage ${JSON.stringify(options.storage)} is not a storage id`, {})
    for (const node of options.nodes)
      if (!/^[a-zA-Z0-9][a-zA-Z0-9.-]*$/.test(node))
        throw new ProviderError('InvalidConfig', `spec.proxmox.nodes entry ${JSON.stringify(node)} is not a node name`, {})
    for (const source of options.controlPlaneSources)
      if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(source))
        throw new ProviderError('InvalidConfig', `control-plane source ${JSON.stringify(source)} is not an IP address or CIDR`, {})
    this.#opts = options
    this.client = new PveClient(options)
    this.#agentPort = options.agentPort ?? AGENT_PORT
    this.#codeServerPort = options.codeServerPort ?? CODE_SERVER_PORT
  }

  async ensure(spec: ContainerSpec): Promise<Container> {
    checkSpec(spec)
    const ownerUid = spec.identity.ownerUid
    return this.#mutex.run(`owner:${ownerUid}`, async () => {
      let found = await this.#findOwned(ownerUid)
      if (!found.length) {
        await this.#create(spec)
        found = await this.#findOwned(ownerUid)
      }
      const [keep, ...extra] = found.sort((a, b) => Number(a.entry.vmid) - Number(b.entry.vmid))
      if (!keep)
        throw new ProviderError('BackendFailed', `CT for owner ${ownerUid} was created but is not listed; will retry`, { ownerUid })
      for (const duplicate of extra) await this.#destroy(duplicate.node, Number(duplicate.entry.vmid), ownerUid)
      await this.#mutex.run(`vmid:${keep.entry.vmid}`, () => this.#applyResources(keep, spec))
      await this.#withLockRetry(() =>
        ensureCtFirewall(this.client, keep.node, Number(keep.entry.vmid), {
          sources: this.#opts.controlPlaneSources,
          ports: [this.#agentPort, spec.agent.codeServerPort ?? this.#codeServerPort],
        }),
      )
      return this.#observeLocated(keep)
    })
  }

  start(ref: ContainerRef): Promise<Container> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      const ct = await this.#require(ref)
      return this.#mutex.run(`vmid:${ct.entry.vmid}`, async () => {
        const path = this.#ctPath(ct)
        // Never boot an agent that is waiting for enrollment without the firewall in front of it
        // (a crash between create and the firewall setup leaves a CT without one).
        const firewall = await this.client.get<{ enable?: number | string }>(`${path}/firewall/options`)
        if (Number(firewall.enable) !== 1) {
          throw new ProviderError(
            'BackendFailed',
            `CT ${ct.entry.vmid} has no firewall yet; ensure the container (which sets it up) before starting it — will retry`,
            { vmid: Number(ct.entry.vmid) },
          )
        }
        try {
          await this.#task(ct.node, () => this.client.post<string>(`${path}/status/start`))
        } catch (err) {
          if (!(err instanceof PveApiError && /already running/.test(err.pveMessage))) throw err
        }
        return this.#observeLocated(ct)
      })
    })
  }

  stop(ref: ContainerRef, options: StopOptions = {}): Promise<Container> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      const ct = await this.#require(ref)
      return this.#mutex.run(`vmid:${ct.entry.vmid}`, async () => {
        const timeout = options.timeoutSeconds ?? 30
        try {
          // forceStop: PVE stops the CT hard once the graceful timeout has passed.
          await this.#task(
            ct.node,
            () => this.client.post<string>(`${this.#ctPath(ct)}/status/shutdown`, { timeout, forceStop: 1 }),
            timeout * 1000 + 60_000,
          )
        } catch (err) {
          if (!(err instanceof PveApiError && /not running/.test(err.pveMessage))) throw err
        }
        return this.#observeLocated(ct)
      })
    })
  }

  delete(ref: ContainerRef): Promise<void> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      checkRef(ref)
      const owned = await this.#locate(ref)
      for (const ct of owned) await this.#destroy(ct.node, Number(ct.entry.vmid), ref.ownerUid)
    })
  }

  async observe(ref: ContainerRef): Promise<Container | undefined> {
    checkRef(ref)
    const [ct] = await this.#locate(ref)
    return ct ? this.#observeLocated(ct) : undefined
  }

  async list(): Promise<Container[]> {
    const all = await this.#listManaged()
    return Promise.all(all.map((ct) => this.#observeLocated(ct)))
  }

  /**
   * Hands the running agent its token: one POST /enroll to the agent, which the CT firewall lets
   * through from the control plane only. 409 means it is enrolled already: fine when our token
   * works, a Conflict when the CT holds another one.
   */
  deliverCredentials(ref: ContainerRef, agent: AgentSettings): Promise<void> {
    // Taken at call time, so calls for one container run in the order they were made.
    return this.#mutex.run(`owner:${ref.ownerUid}`, async () => {
      checkToken(agent.token)
      const ct = await this.#observeLocated(await this.#require(ref))
      if (ct.state !== 'running' || !ct.agentUrl) {
        throw new ProviderError(
          'BackendFailed',
          `CT ${ct.vmid} is ${ct.state}${ct.agentUrl ? '' : ' without an address'}; its agent can be enrolled once it runs — start it and retry`,
          { vmid: ct.vmid },
        )
      }
      let res: Response
      try {
        res = await fetch(new URL('/enroll', ct.agentUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: agent.token }),
          signal: AbortSignal.timeout(5000),
        })
      } catch (err) {
        throw new ProviderError(
          'BackendFailed',
          `agent of CT ${ct.vmid} at ${ct.agentUrl} is not reachable yet (${(err as Error).message}); retry once it has booted`,
          { vmid: ct.vmid },
        )
      }
      await res.body?.cancel()
      if (res.status === 204 || res.status === 200) return
      // Already enrolled (409), or an agent booted with its token file (401 on every route but its
      // own): delivered when our token is the one it accepts.
      const check = await fetch(new URL('/status', ct.agentUrl), {
        headers: { authorization: `Bearer ${agent.token}` },
        signal: AbortSignal.timeout(5000),
      }).catch((err: Error) => {
        throw new ProviderError('BackendFailed', `agent of CT ${ct.vmid} stopped answering (${err.message}); will retry`, { vmid: ct.vmid })
      })
      await check.body?.cancel()
      if (check.ok) return
      if (res.status === 409 || check.status === 401) {
        // A running agent always has a token; refusing ours means it holds another one.
        throw new ProviderError(
          'Conflict',
          `agent of CT ${ct.vmid} holds a different token (enrollment answered HTTP ${res.status}); delete and recreate the container to rotate it, and check the template's agent runs with --enroll`,
          { vmid: ct.vmid },
        )
      }
      throw new ProviderError(
        'BackendFailed',
        `agent of CT ${ct.vmid} answered enrollment with HTTP ${res.status} and /status with HTTP ${check.status}; will retry`,
        { vmid: ct.vmid },
      )
    })
  }

  async close(): Promise<void> {
    this.client.close()
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  #ctPath(ct: Located | { node: string; vmid: number }): string {
    const vmid = 'entry' in ct ? ct.entry.vmid : ct.vmid
    return `/nodes/${encodeURIComponent(ct.node)}/lxc/${vmid}`
  }

  async #listManaged(): Promise<Located[]> {
    const out: Located[] = []
    for (const node of this.#opts.nodes) {
      const entries = await this.client.get<PveCtListEntry[]>(`/nodes/${encodeURIComponent(node)}/lxc`)
      for (const entry of entries) {
        const ownerUid = ownerFromTags(entry.tags)
        if (ownerUid && (entry.tags ?? '').split(/[;, ]+/).includes(MANAGED_TAG)) out.push({ node, entry, ownerUid })
      }
    }
    return out
  }

  async #findOwned(ownerUid: string): Promise<Located[]> {
    return (await this.#listManaged()).filter((ct) => ct.ownerUid === ownerUid)
  }

  /** The owner's CTs; with a vmid, that CT only, after checking it is the owner's. */
  async #locate(ref: ContainerRef): Promise<Located[]> {
    const all = await this.#listManaged()
    if (ref.vmid === undefined) return all.filter((ct) => ct.ownerUid === ref.ownerUid)
    const byVmid = all.find((ct) => Number(ct.entry.vmid) === ref.vmid)
    if (byVmid && byVmid.ownerUid !== ref.ownerUid) {
      throw new ProviderError('Conflict', `CT ${ref.vmid} belongs to owner ${byVmid.ownerUid}, not ${ref.ownerUid}; nothing was changed`, {
        vmid: ref.vmid,
        ownerUid: ref.ownerUid,
      })
    }
    return byVmid ? [byVmid] : []
  }

  async #require(ref: ContainerRef): Promise<Located> {
    checkRef(ref)
    const [ct] = await this.#locate(ref)
    if (!ct)
      throw new ProviderError('NotFound', `no CT for owner ${ref.ownerUid}${ref.vmid ? ` (vmid ${ref.vmid})` : ''}; ensure it first`, {
        ...ref,
      })
    return ct
  }

  async #nextVmid(): Promise<number> {
    const { min = 100, max = 999_999_999 } = this.#opts.vmidRange ?? {}
    const next = Number(await this.client.get<string | number>('/cluster/nextid'))
    if (next >= min && next <= max) return next
    // The cluster's next id is outside our range: probe our range with ?vmid= (PVE answers a
    // parameter error "VM <n> already exists" for a taken one).
    for (let candidate = min; candidate <= Math.min(max, min + 10_000); candidate++) {
      try {
        return Number(await this.client.get<string | number>('/cluster/nextid', { vmid: candidate }))
      } catch (err) {
        if (!isExists(err)) throw err
      }
    }
    throw new ProviderError('Exhausted', `no free vmid in spec.proxmox.vmidRange ${min}..${max}; widen the range or delete containers`, {})
  }

  /** The configured node holding the fewest of our CTs (ties: the first listed). */
  async #pickNode(): Promise<string> {
    const counts = new Map(this.#opts.nodes.map((n) => [n, 0]))
    for (const ct of await this.#listManaged()) counts.set(ct.node, (counts.get(ct.node) ?? 0) + 1)
    return [...counts.entries()].reduce((best, next) => (next[1] < best[1] ? next : best))[0]
  }

  async #create(spec: ContainerSpec): Promise<void> {
    const node = await this.#pickNode()
    const { cores, memoryMiB, diskGiB } = spec.resources
    for (let attempt = 1; attempt <= 8; attempt++) {
      const vmid = await this.#nextVmid()
      try {
        await this.#task(
          node,
          () =>
            this.client.post<string>(`/nodes/${encodeURIComponent(node)}/lxc`, {
              vmid,
              ostemplate: this.#opts.ostemplate,
              hostname: `zlh-${vmid}`,
              description: descriptionFor(spec.identity),
              tags: tagsFor(spec.identity.ownerUid),
              cores,
              memory: memoryMiB,
              swap: 0,
              rootfs: `${this.#opts.storage ?? 'local-lvm'}:${diskGiB}`,
              net0: `name=eth0,bridge=${this.#opts.bridge ?? 'vmbr0'},ip=dhcp,firewall=1`,
              unprivileged: 1,
              start: 0,
            }),
          this.#opts.taskTimeoutMs,
        )
        return
      } catch (err) {
        if (isExists(err)) continue // a concurrent create took this vmid between nextid and POST
        throw err
      }
    }
    throw new ProviderError('Conflict', 'vmid allocation kept racing with concurrent creates (8 attempts); will retry', {
      ownerUid: spec.identity.ownerUid,
    })
  }

  async #destroy(node: string, vmid: number, ownerUid: string): Promise<void> {
    await this.#mutex.run(`vmid:${vmid}`, async () => {
      const path = this.#ctPath({ node, vmid })
      // Re-check ownership right before acting: the vmid could have been reused since listing.
      let config: { tags?: string }
      try {
        config = await this.client.get(`${path}/config`)
      } catch (err) {
        if (isMissing(err)) return
        throw err
      }
      if (ownerFromTags(config.tags) !== ownerUid) {
        throw new ProviderError('Conflict', `CT ${vmid} does not carry owner tag ${ownerUid}; refusing to destroy it`, { vmid, ownerUid })
      }
      try {
        await this.#task(node, () => this.client.post<string>(`${path}/status/stop`))
      } catch (err) {
        if (!(err instanceof PveApiError && /not running|does not exist/.test(err.pveMessage))) throw err
      }
      try {
        await this.#task(node, () => this.client.delete<string>(path, { purge: 1, 'destroy-unreferenced-disks': 1 }))
      } catch (err) {
        if (!isMissing(err)) throw err
      }
    })
  }

  /**
   * Brings an existing CT to the spec's size: cores and memory are hot-pluggable config changes;
   * the root disk only grows (PVE cannot shrink it; a smaller request is left as is).
   */
  async #applyResources(ct: Located, spec: ContainerSpec): Promise<void> {
    const path = this.#ctPath(ct)
    const config = await this.client.get<{ cores?: number; memory?: number; rootfs?: string; lock?: string; description?: string }>(
      `${path}/config`,
    )
    if (config.lock === 'create') return // the create task is still running with the spec's values
    const { cores, memoryMiB, diskGiB } = spec.resources
    const description = descriptionFor(spec.identity)
    if (Number(config.cores) !== cores || Number(config.memory) !== memoryMiB || (config.description ?? '').trim() !== description) {
      await this.#withLockRetry(() => this.client.put(`${path}/config`, { cores, memory: memoryMiB, description }))
    }
    const size = Number(/size=(\d+)G/.exec(config.rootfs ?? '')?.[1] ?? 0)
    if (size && size < diskGiB) {
      await this.#task(ct.node, () => this.client.put<string>(`${path}/resize`, { disk: 'rootfs', size: `${diskGiB}G` }))
    }
  }

  /** Starts an async PVE call (retrying while the CT is locked) and waits for its task. */
  async #task(node: string, call: () => Promise<string>, timeoutMs?: number): Promise<void> {
    const upid = await this.#withLockRetry(call)
    await this.client.waitTask(node, upid, timeoutMs ?? this.#opts.taskTimeoutMs)
  }

  async #withLockRetry<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.#opts.lockWaitSeconds ?? 30) * 1000
    let delay = 100
    for (;;) {
      try {
        return await call()
      } catch (err) {
        if (!isLockError(err)) throw err
        if (Date.now() > deadline) {
          throw new ProviderError(
            'Locked',
            `${(err as PveApiError).pveMessage} — still locked after ${this.#opts.lockWaitSeconds ?? 30} s; another operation holds it, will retry`,
            {},
            { cause: err },
          )
        }
        await sleep(delay)
        delay = Math.min(delay * 2, 2000)
      }
    }
  }

  async #observeLocated(ct: Located): Promise<Container> {
    const path = this.#ctPath(ct)
    const [status, config] = await Promise.all([
      this.client.get<PveCtListEntry & { lock?: string }>(`${path}/status/current`),
      this.client.get<{ description?: string; cores?: number; memory?: number; rootfs?: string }>(`${path}/config`),
    ])
    let address: string | undefined
    if (status.status === 'running') {
      const ifaces = await this.client.get<Array<{ name: string; inet?: string }> | null>(`${path}/interfaces`).catch((err) => {
        if (isProviderError(err, 'ProviderUnreachable')) throw err
        return null
      })
      address = ifaces?.find((i) => i.name === 'eth0')?.inet?.split('/')[0]
    }
    const diskGiB = Number(/size=(\d+)G/.exec(config.rootfs ?? '')?.[1] ?? Math.round((status.maxdisk ?? 0) / GiB))
    return {
      provider: 'proxmox',
      vmid: Number(ct.entry.vmid),
      ownerUid: ct.ownerUid,
      identity: identityFromDescription(config.description, ct.ownerUid),
      state: status.lock ? 'transitioning' : status.status === 'running' ? 'running' : 'stopped',
      address,
      agentUrl: address ? `http://${address}:${this.#agentPort}` : undefined,
      resources: {
        cores: config.cores ?? status.cpus ?? 0,
        memoryMiB: config.memory ?? Math.round((status.maxmem ?? 0) / MiB),
        diskGiB,
      },
      node: ct.node,
    }
  }
}
