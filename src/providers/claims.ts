// Durable vmid allocation and ownership records on a local directory, for the backends that have
// no cluster API of their own (lxc, process).
//
// Layout: `<dir>/vmids/<vmid>` (content: owner uid) reserves a number; `<dir>/owners/<uid>.json`
// ({vmid, identity}) is the owner's claim.
//
// Expected flow of claim(owner):
// 1. An existing owners/<uid>.json wins: return it.
// 2. Reserve the lowest free vmid by creating vmids/<n> exclusively (O_EXCL): two processes can
//    never hold the same number.
// 3. Publish owners/<uid>.json with link(2) from a synced temp file (createFileDurable): exactly
//    one of two concurrent claimers for the same owner succeeds; the loser releases its vmid and
//    returns the winner's.
//
// Guarantees: one claim per owner and one owner per vmid, across processes and crashes.
// Caveats: a crash between 2 and 3 leaks one vmid reservation naming the owner; `claim` for that
// owner adopts it instead of taking a new number, and `release` removes it.

import { mkdir, open, readFile, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createFileDurable, writeFileDurable } from '../platform/durable-file.ts'
import { ProviderError } from './errors.ts'
import type { ContainerIdentity } from './types.ts'

export interface Claim {
  vmid: number
  ownerUid: string
  identity?: ContainerIdentity
  /** Backend-specific data recorded at claim time (e.g. the allocated port). */
  extra?: Record<string, unknown>
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code

export class ClaimStore {
  readonly dir: string
  readonly #min: number
  readonly #max: number

  constructor(dir: string, vmidMin = 100, vmidMax = 999_999) {
    this.dir = dir
    this.#min = vmidMin
    this.#max = vmidMax
  }

  async #init(): Promise<void> {
    await mkdir(join(this.dir, 'vmids'), { recursive: true, mode: 0o700 })
    await mkdir(join(this.dir, 'owners'), { recursive: true, mode: 0o700 })
  }

  #ownerFile(ownerUid: string): string {
    return join(this.dir, 'owners', `${ownerUid}.json`)
  }

  async find(ownerUid: string): Promise<Claim | undefined> {
    try {
      return JSON.parse(await readFile(this.#ownerFile(ownerUid), 'utf8')) as Claim
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined
      throw err
    }
  }

  async list(): Promise<Claim[]> {
    await this.#init()
    const out: Claim[] = []
    for (const name of await readdir(join(this.dir, 'owners'))) {
      if (!name.endsWith('.json')) continue
      const claim = await this.find(name.slice(0, -5))
      if (claim) out.push(claim)
    }
    return out.sort((a, b) => a.vmid - b.vmid)
  }

  async claim(identity: ContainerIdentity, extra?: (vmid: number) => Record<string, unknown>): Promise<Claim> {
    await this.#init()
    const existing = await this.find(identity.ownerUid)
    if (existing) return existing
    const vmid = await this.#reserve(identity.ownerUid)
    const claim: Claim = { vmid, ownerUid: identity.ownerUid, identity, extra: extra?.(vmid) }
    try {
      await createFileDurable(this.#ownerFile(identity.ownerUid), JSON.stringify(claim), 0o600)
      return claim
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err
      const winner = (await this.find(identity.ownerUid))!
      if (winner.vmid !== vmid) await unlink(join(this.dir, 'vmids', String(vmid))).catch(() => undefined)
      return winner
    }
  }

  /** Replaces the claim's `extra` (atomically). */
  async update(claim: Claim): Promise<void> {
    await writeFileDurable(this.#ownerFile(claim.ownerUid), JSON.stringify(claim), 0o600)
  }

  async #reserve(ownerUid: string): Promise<number> {
    const dir = join(this.dir, 'vmids')
    const taken = new Set<number>()
    for (const name of await readdir(dir)) {
      const vmid = Number(name)
      if (!Number.isInteger(vmid)) continue
      // Adopt a reservation this owner leaked in a crash before publishing its claim.
      if ((await readFile(join(dir, name), 'utf8').catch(() => '')) === ownerUid) return vmid
      taken.add(vmid)
    }
    for (let vmid = this.#min; vmid <= this.#max; vmid++) {
      if (taken.has(vmid)) continue
      try {
        const handle = await open(join(dir, String(vmid)), 'wx', 0o600)
        await handle.writeFile(ownerUid)
        await handle.close()
        return vmid
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err
      }
    }
    throw new ProviderError(
      'Exhausted',
      `no free vmid in ${this.#min}..${this.#max} under ${this.dir}; delete containers or widen the range`,
      { ownerUid },
    )
  }

  /** Removes a vmid reservation if it names this owner (cleanup when the claim itself was lost). */
  async releaseVmid(vmid: number, ownerUid: string): Promise<void> {
    const path = join(this.dir, 'vmids', String(vmid))
    if ((await readFile(path, 'utf8').catch(() => undefined)) === ownerUid) await unlink(path).catch(() => undefined)
  }

  /** Removes the owner's claim and its vmid reservation; missing is fine. */
  async release(ownerUid: string): Promise<void> {
    const claim = await this.find(ownerUid)
    await unlink(this.#ownerFile(ownerUid)).catch((err) => {
      if (errno(err) !== 'ENOENT') throw err
    })
    if (claim)
      await unlink(join(this.dir, 'vmids', String(claim.vmid))).catch((err) => {
        if (errno(err) !== 'ENOENT') throw err
      })
  }
}
