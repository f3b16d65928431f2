// What the backends that keep containers on this host (process, lxc) share: the claim store
// (vmid ↔ owner), the owner marker `<container dir>/zlh-owner` that marks a container complete
// and owned (written last by ensure, outside anything the container can write), and the locking.
//
// Guarantees: calls for one owner run in the order they were made (the owner mutex is taken at
// call time); work on one vmid is serialized in this process (mutex) and across processes (lock
// file under the claims directory). A claim whose marker is missing or names another owner is
// never reported as a container, and nothing is done to a container marked for another owner.

import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurable } from '../platform/durable-file.ts'
import type { Claim, ClaimStore } from './claims.ts'
import { ProviderError } from './errors.ts'
import { withHostLock } from './host-lock.ts'
import { KeyedMutex } from './keyed-mutex.ts'
import { checkRef } from './validate.ts'
import type { Container, ContainerRef } from './types.ts'

export interface LocalContainersOptions {
  claims: ClaimStore
  /** Directory of the claim store (lock files go in its `locks/`). */
  claimsDir: string
  /** For messages: "process container", "LXC container". */
  kind: string
  /** The container's name in messages: "101", "zlh-101". */
  nameOf: (vmid: number) => string
  /** A container's directory: it holds the owner marker. */
  dirOf: (vmid: number) => string
  /** The directory whose entries list() scans for containers whose claim was lost. */
  scanDir: string
  /** The vmid an entry of `scanDir` names, or undefined when it is not a container. */
  vmidOfEntry: (entry: string) => number | undefined
  /** The container of an owned claim, as the backend observes it. */
  observe: (claim: Claim) => Promise<Container>
}

export class LocalContainers {
  readonly claims: ClaimStore
  readonly #o: LocalContainersOptions
  readonly #mutex = new KeyedMutex()

  constructor(options: LocalContainersOptions) {
    this.#o = options
    this.claims = options.claims
  }

  /** Runs `section` after every earlier call for this owner. */
  serial<T>(ownerUid: string, section: () => Promise<T>): Promise<T> {
    return this.#mutex.run(`owner:${ownerUid}`, section)
  }

  /** Serializes work on one vmid: in this process (mutex) and across processes (lock file). */
  locked<T>(vmid: number, section: () => Promise<T>): Promise<T> {
    return this.#mutex.run(`vmid:${vmid}`, async () => {
      const dir = join(this.#o.claimsDir, 'locks')
      await mkdir(dir, { recursive: true, mode: 0o700 })
      return withHostLock(join(dir, `${vmid}.lock`), section)
    })
  }

  /** `section` on the owner's existing container, in call order and under its vmid lock. */
  withContainer<T>(ref: ContainerRef, section: (claim: Claim) => Promise<T>): Promise<T> {
    return this.serial(ref.ownerUid, async () => {
      const claim = await this.#require(ref)
      return this.locked(claim.vmid, () => section(claim))
    })
  }

  /** The owner a container is marked for; undefined when it is not (or not yet) complete. */
  markedOwner(vmid: number): Promise<string | undefined> {
    return readFile(this.#marker(vmid), 'utf8').catch(() => undefined)
  }

  /** Throws Conflict when `vmid` is marked for another owner; returns whether it is marked for `ownerUid`. */
  async checkOwner(vmid: number, ownerUid: string): Promise<boolean> {
    const owner = await this.markedOwner(vmid)
    if (owner !== undefined && owner !== ownerUid) {
      throw new ProviderError('Conflict', `${this.#describe(vmid)} is marked for owner ${owner}, not ${ownerUid}; nothing was changed`, {
        vmid,
        ownerUid,
      })
    }
    return owner !== undefined
  }

  /** The last step of creating a container. */
  markOwned(vmid: number, ownerUid: string): Promise<void> {
    return writeFileDurable(this.#marker(vmid), ownerUid, 0o600)
  }

  /** The container of a claim, when its marker names the claim's owner. */
  async observeClaim(claim: Claim): Promise<Container | undefined> {
    if ((await this.markedOwner(claim.vmid)) !== claim.ownerUid) return undefined
    return this.#o.observe(claim)
  }

  async observe(ref: ContainerRef): Promise<Container | undefined> {
    checkRef(ref)
    const claim = await this.claims.find(ref.ownerUid)
    if (!claim || (ref.vmid !== undefined && ref.vmid !== claim.vmid)) return undefined
    return this.observeClaim(claim)
  }

  /** Containers with an owner marker: from the claims, and from the directory scan, so that a
   * lost claim cannot hide an orphan. */
  async list(): Promise<Container[]> {
    const claims = new Map((await this.claims.list()).map((c) => [c.vmid, c]))
    for (const entry of await readdir(this.#o.scanDir).catch(() => [] as string[])) {
      const vmid = this.#o.vmidOfEntry(entry)
      if (vmid === undefined || claims.has(vmid)) continue
      const ownerUid = await this.markedOwner(vmid)
      if (ownerUid) claims.set(vmid, { vmid, ownerUid })
    }
    const out: Container[] = []
    for (const claim of [...claims.values()].sort((a, b) => a.vmid - b.vmid)) {
      const container = await this.observeClaim(claim)
      if (container) out.push(container)
    }
    return out
  }

  /**
   * Deletes the owner's container (or the one `ref.vmid` names, when its claim was lost) with
   * `destroy`, under its vmid lock, then releases the claim and the vmid. A container marked for
   * another owner is refused (Conflict); one that is neither marked nor claimed is not ours.
   */
  delete(ref: ContainerRef, destroy: (vmid: number) => Promise<void>): Promise<void> {
    return this.serial(ref.ownerUid, async () => {
      checkRef(ref)
      const claim = await this.claims.find(ref.ownerUid)
      if (claim && ref.vmid !== undefined && ref.vmid !== claim.vmid) {
        throw new ProviderError('Conflict', `owner ${ref.ownerUid} has container ${claim.vmid}, not ${ref.vmid}; nothing was changed`, {
          vmid: ref.vmid,
          ownerUid: ref.ownerUid,
        })
      }
      const vmid = claim?.vmid ?? ref.vmid
      if (vmid === undefined) return
      await this.locked(vmid, async () => {
        const owner = await this.markedOwner(vmid)
        if (owner !== undefined && owner !== ref.ownerUid)
          throw new ProviderError('Conflict', `${this.#describe(vmid)} belongs to ${owner}; refusing to delete it`, { vmid })
        if (owner === undefined && !claim) return
        await destroy(vmid)
        await this.claims.release(ref.ownerUid)
        await this.claims.releaseVmid(vmid, ref.ownerUid)
      })
    })
  }

  #describe(vmid: number): string {
    return `${this.#o.kind} ${this.#o.nameOf(vmid)}`
  }

  #marker(vmid: number): string {
    return join(this.#o.dirOf(vmid), 'zlh-owner')
  }

  async #require(ref: ContainerRef): Promise<Claim> {
    checkRef(ref)
    const claim = await this.claims.find(ref.ownerUid)
    if (!claim || (ref.vmid !== undefined && ref.vmid !== claim.vmid) || !existsSync(this.#marker(claim.vmid))) {
      throw new ProviderError(
        'NotFound',
        `no ${this.#o.kind} for owner ${ref.ownerUid}${ref.vmid ? ` (vmid ${ref.vmid})` : ''}; ensure it first`,
        { ...ref },
      )
    }
    return claim
  }
}
