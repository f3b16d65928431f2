// Mods and plugins of the game server: hash-checked downloads (the runtime installer's streaming
// fetcher) placed into the server's mods folder, restart-policy aware.
//
// Expected flow:
//  1. install/remove/setAll download into a cache keyed by sha256 (outside the server root), only
//     from the sources the request's outbound policy allows (none given → no download).
//  2. While the game runs, changes are recorded as pending and applied by applyPending(), which
//     the supervisor runs before every start (so a restart applies them); while it is stopped
//     they are applied at once.
// Guarantees: a file lands in the mods folder only after its sha256 matched; placement goes
// through the confined file API (temp file + rename, no links followed). The manifest is
// written atomically, so after a crash pending changes are still applied on the next start.
// Operations are serialized.
import { createReadStream } from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { ModEntry, ModSpec, ModsListing } from '../../src/api/agent-game-types.ts'
import type { OutboundPolicy } from '../../src/api/outbound.ts'
import { fetchArtifact, type FetchArtifactOptions, type FetchArtifactResult } from '../runtimes/fetcher.ts'
import type { ConfinedRoot } from '../files/confined-fs.ts'
import { FileError } from '../files/errors.ts'
import { readJson } from '../game/wrapper-protocol.ts'
import { writeFileDurableSync } from '../../src/platform/durable-file.ts'

export const MOD_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/

interface InstalledMod {
  sha256: string
  url: string
  size: number
}
interface Manifest {
  installed: Record<string, InstalledMod>
  pendingInstall: Record<string, ModSpec>
  pendingRemoval: string[]
}

export interface ModsManagerOptions {
  root: ConfinedRoot
  /** Folder inside the server root (default "mods"). */
  modsDir?: string
  /** Manifest and download cache (outside the server root). */
  stateDir: string
  isRunning: () => boolean
  onPending: () => void
  maxModBytes?: number
  fetch?: (opts: FetchArtifactOptions) => Promise<FetchArtifactResult>
}

export function checkModName(name: string): void {
  if (typeof name !== 'string' || name.length > 255 || !MOD_NAME.test(name))
    throw new FileError('MOD_NAME_INVALID', JSON.stringify(String(name).slice(0, 80)))
}

export class ModsManager {
  private readonly opts: ModsManagerOptions
  private readonly modsDir: string
  private readonly manifestFile: string
  private readonly cacheDir: string
  private chain: Promise<unknown> = Promise.resolve()

  constructor(opts: ModsManagerOptions) {
    this.opts = opts
    this.modsDir = opts.modsDir ?? 'mods'
    this.manifestFile = path.join(opts.stateDir, 'mods.json')
    this.cacheDir = path.join(opts.stateDir, 'cache')
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn)
    this.chain = next.catch(() => undefined)
    return next
  }

  private manifest(): Manifest {
    const m = readJson<Manifest>(this.manifestFile)
    return { installed: m?.installed ?? {}, pendingInstall: m?.pendingInstall ?? {}, pendingRemoval: m?.pendingRemoval ?? [] }
  }

  private async save(m: Manifest): Promise<void> {
    await fsp.mkdir(this.opts.stateDir, { recursive: true })
    writeFileDurableSync(this.manifestFile, JSON.stringify(m))
  }

  private async download(spec: ModSpec, outbound: OutboundPolicy | undefined): Promise<string> {
    const dest = path.join(this.cacheDir, spec.sha256)
    if (
      await fsp.access(dest).then(
        () => true,
        () => false,
      )
    )
      return dest
    await (this.opts.fetch ?? fetchArtifact)({
      url: spec.url,
      sha256: spec.sha256,
      dest,
      maxBytes: this.opts.maxModBytes ?? 512 * 1024 * 1024,
      label: `mod ${JSON.stringify(spec.name)}`,
      ...(outbound !== undefined ? { outbound } : {}),
    })
    return dest
  }

  /** Places a mod whose download is cached (pending installs were downloaded when requested). */
  private async place(m: Manifest, spec: ModSpec, outbound?: OutboundPolicy): Promise<void> {
    const cached = await this.download(spec, outbound)
    const size = await this.opts.root.writeFile(`${this.modsDir}/${spec.name}`, createReadStream(cached), Number.MAX_SAFE_INTEGER)
    m.installed[spec.name] = { sha256: spec.sha256, url: spec.url, size }
  }

  private async unplace(m: Manifest, name: string): Promise<void> {
    await this.opts.root.remove(`${this.modsDir}/${name}`, false).catch((err: unknown) => {
      if (!(err instanceof FileError && err.code === 'FILE_NOT_FOUND')) throw err
    })
    delete m.installed[name]
  }

  private async installLocked(m: Manifest, spec: ModSpec, outbound: OutboundPolicy | undefined): Promise<void> {
    checkModName(spec.name)
    const current = m.installed[spec.name]
    m.pendingRemoval = m.pendingRemoval.filter((n) => n !== spec.name)
    if (current?.sha256 === spec.sha256 && (await this.present()).has(spec.name)) {
      delete m.pendingInstall[spec.name]
      return
    }
    await this.download(spec, outbound)
    if (this.opts.isRunning()) {
      m.pendingInstall[spec.name] = { name: spec.name, url: spec.url, sha256: spec.sha256 }
      this.opts.onPending()
    } else {
      delete m.pendingInstall[spec.name]
      await this.place(m, spec, outbound)
    }
  }

  private async removeLocked(m: Manifest, name: string): Promise<void> {
    checkModName(name)
    const known = m.installed[name] || m.pendingInstall[name] || (await this.present()).has(name)
    if (!known) throw new FileError('MOD_NOT_FOUND', name)
    delete m.pendingInstall[name]
    if (this.opts.isRunning()) {
      if (!m.pendingRemoval.includes(name)) m.pendingRemoval.push(name)
      this.opts.onPending()
    } else {
      await this.unplace(m, name)
    }
  }

  /** Installs (or replaces) one mod. */
  async install(spec: ModSpec, outbound?: OutboundPolicy): Promise<ModsListing> {
    return await this.serial(async () => {
      const m = this.manifest()
      await this.installLocked(m, spec, outbound)
      await this.save(m)
      return await this.listLocked(m)
    })
  }

  async remove(name: string): Promise<ModsListing> {
    return await this.serial(async () => {
      const m = this.manifest()
      await this.removeLocked(m, name)
      await this.save(m)
      return await this.listLocked(m)
    })
  }

  /** The desired list (spec.mods): installs what is missing or changed, removes managed mods not listed. Files put there by hand are left alone. */
  async setAll(mods: ModSpec[], outbound?: OutboundPolicy): Promise<ModsListing> {
    return await this.serial(async () => {
      const m = this.manifest()
      for (const spec of mods) await this.installLocked(m, spec, outbound)
      const wanted = new Set(mods.map((s) => s.name))
      for (const name of new Set([...Object.keys(m.installed), ...Object.keys(m.pendingInstall)])) {
        if (!wanted.has(name)) await this.removeLocked(m, name)
      }
      await this.save(m)
      return await this.listLocked(m)
    })
  }

  /** Applies pending changes; the supervisor runs this before every start. */
  async applyPending(): Promise<void> {
    await this.serial(async () => {
      const m = this.manifest()
      if (m.pendingRemoval.length === 0 && Object.keys(m.pendingInstall).length === 0) return
      for (const name of m.pendingRemoval) await this.unplace(m, name)
      m.pendingRemoval = []
      for (const spec of Object.values(m.pendingInstall)) await this.place(m, spec)
      m.pendingInstall = {}
      await this.save(m)
    })
  }

  async list(): Promise<ModsListing> {
    return await this.serial(async () => await this.listLocked(this.manifest()))
  }

  private async present(): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    try {
      const r = await this.opts.root.open(this.modsDir)
      if (r.kind === 'file') {
        await r.handle.close()
        return out
      }
      for (const e of r.listing.entries) if (e.type === 'file') out.set(e.name, e.size)
    } catch (err) {
      if (!(err instanceof FileError && err.code === 'FILE_NOT_FOUND')) throw err
    }
    return out
  }

  private async listLocked(m: Manifest): Promise<ModsListing> {
    const present = await this.present()
    const mods: ModEntry[] = []
    for (const [name, size] of present) {
      const managed = m.installed[name]
      const state = m.pendingRemoval.includes(name) ? 'pendingRemoval' : 'present'
      mods.push({ name, state, size, managed: managed !== undefined, ...(managed ? { sha256: managed.sha256 } : {}) })
    }
    for (const spec of Object.values(m.pendingInstall)) {
      const i = mods.findIndex((x) => x.name === spec.name)
      const entry: ModEntry = { name: spec.name, state: 'pendingInstall', sha256: spec.sha256, managed: true }
      if (i >= 0) mods[i] = entry
      else mods.push(entry)
    }
    mods.sort((a, b) => a.name.localeCompare(b.name))
    const restartPending = m.pendingRemoval.length > 0 || Object.keys(m.pendingInstall).length > 0
    return { directory: this.modsDir, mods, restartPending }
  }
}
