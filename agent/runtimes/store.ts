// The on-disk runtime store: `<runtimes>/<name>/<version>/` trees, each carrying an install
// marker, and one `<runtimes>/<name>/current` symlink per runtime.
//
// Guarantees (crash safety):
//   - A version directory appears only by rename(2) of a fully extracted, verified tree that
//     already contains its marker, so a version dir without a marker is never produced by us;
//     `recover()` removes any it finds (foreign or pre-marker leftovers).
//   - `current` is replaced by rename(2) of a fresh symlink over it: readers see old or new.
//   - A removal first renames the version dir into staging (atomic), then deletes it there.
//   - `recover()` at startup deletes everything in staging and temp links, and repoints a
//     `current` whose target is gone to the newest remaining version (or removes it).
// Assumptions: staging and runtimes are on one filesystem; one agent process owns the root, so
// `list()` (read by every GET /status) is read from disk once and again only after this store
// changed it: every method that writes moves the generation the cached list was read at.
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import semver from 'semver'
import type { AgentPaths } from '../paths.ts'
import type { Logger } from '../log.ts'
import type { InstalledRuntime, InstalledRuntimeVersion } from '../../src/api/agent-types.ts'
import { AgentError } from '../errors.ts'
import { fsyncDir, writeFileDurable } from '../../src/platform/durable-file.ts'
import { readJson } from '../json-file.ts'

export const MARKER_FILE = '.zlh-install.json'
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$'
const nameRe = new RegExp(NAME_PATTERN)

export interface InstallMarker {
  name: string
  version: string
  sha256: string
  url: string
  installedAt: string
  verified: boolean
}

export function assertSafeName(kind: 'name' | 'version', value: string): void {
  if (!nameRe.test(value) || value === 'current' || value.includes('..')) {
    throw new AgentError('BAD_REQUEST', `runtime ${kind} ${JSON.stringify(value)} is not allowed (letters, digits, . _ + -; not "current")`)
  }
}

/** Newest first: semver order when both parse, else lexical. */
export function compareVersionsDesc(a: string, b: string): number {
  const va = semver.coerce(a, { loose: true })
  const vb = semver.coerce(b, { loose: true })
  if (va && vb) {
    const c = semver.rcompare(va, vb)
    if (c !== 0) return c
  }
  return b.localeCompare(a)
}

export class RuntimeStore {
  readonly #paths: AgentPaths
  readonly #log: Logger
  /** Moved by every write, before and after it: a list read across a write is not kept. */
  #generation = 0
  #listed: { generation: number; list: Promise<InstalledRuntime[]> } | null = null

  constructor(paths: AgentPaths, log: Logger) {
    this.#paths = paths
    this.#log = log
  }

  async init(): Promise<void> {
    await fs.mkdir(this.#paths.runtimes, { recursive: true })
    await fs.mkdir(this.#paths.staging, { recursive: true })
  }

  async marker(name: string, version: string): Promise<InstallMarker | null> {
    const m = await readJson<InstallMarker>(path.join(this.#paths.runtimeVersionDir(name, version), MARKER_FILE))
    return m?.verified && m.name === name && m.version === version ? m : null
  }

  async current(name: string): Promise<string | null> {
    try {
      const target = await fs.readlink(this.#paths.runtimeCurrentLink(name))
      return path.basename(target)
    } catch {
      return null
    }
  }

  async names(): Promise<string[]> {
    const entries = await fs.readdir(this.#paths.runtimes, { withFileTypes: true }).catch(() => [])
    return entries
      .filter((e) => e.isDirectory() && nameRe.test(e.name))
      .map((e) => e.name)
      .sort()
  }

  async versions(name: string): Promise<string[]> {
    const entries = await fs.readdir(this.#paths.runtimeDir(name), { withFileTypes: true }).catch(() => [])
    return entries
      .filter((e) => e.isDirectory() && nameRe.test(e.name) && e.name !== 'current')
      .map((e) => e.name)
      .sort(compareVersionsDesc)
  }

  /** The installed runtimes; from memory while nothing was written since they were read. */
  list(): Promise<InstalledRuntime[]> {
    if (this.#listed?.generation === this.#generation) return this.#listed.list
    const generation = this.#generation
    const list = this.#readList()
    this.#listed = { generation, list }
    list.catch(() => {
      if (this.#listed?.list === list) this.#listed = null
    })
    return list
  }

  /** Runs a write between two generation moves, so no list read during it is reused after it. */
  async #writing<T>(write: () => Promise<T>): Promise<T> {
    this.#generation++
    try {
      return await write()
    } finally {
      this.#generation++
    }
  }

  async #readList(): Promise<InstalledRuntime[]> {
    const out: InstalledRuntime[] = []
    for (const name of await this.names()) {
      const current = await this.current(name)
      const versions: InstalledRuntimeVersion[] = []
      for (const version of await this.versions(name)) {
        const m = await this.marker(name, version)
        if (m) versions.push({ version, sha256: m.sha256, installedAt: m.installedAt, current: version === current })
      }
      if (versions.length === 0) continue
      out.push({ name, current, binDir: path.join(this.#paths.runtimeCurrentLink(name), 'bin'), versions })
    }
    return out
  }

  /** A fresh private directory for one install; everything under staging is disposable. */
  async newStagingDir(name: string, version: string): Promise<string> {
    await fs.mkdir(this.#paths.staging, { recursive: true })
    return fs.mkdtemp(path.join(this.#paths.staging, `install-${name}-${version}-`))
  }

  /** Write the marker into the staged tree, then rename the tree into place. */
  commit(tree: string, marker: InstallMarker): Promise<void> {
    return this.#writing(() => this.#commit(tree, marker))
  }

  async #commit(tree: string, marker: InstallMarker): Promise<void> {
    await writeFileDurable(path.join(tree, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, 0o644)
    const dest = this.#paths.runtimeVersionDir(marker.name, marker.version)
    await fs.mkdir(path.dirname(dest), { recursive: true })
    // A leftover without a marker (never complete) is moved aside first.
    await this.#moveToTrash(dest)
    await fs.rename(tree, dest)
    await fsyncDir(path.dirname(dest))
  }

  /** Point `current` at `version` (or remove it for null), atomically. */
  switchCurrent(name: string, version: string | null, fault?: (point: string) => void): Promise<void> {
    return this.#writing(() => this.#switchCurrent(name, version, fault))
  }

  async #switchCurrent(name: string, version: string | null, fault?: (point: string) => void): Promise<void> {
    const link = this.#paths.runtimeCurrentLink(name)
    if (version === null) {
      await fs.rm(link, { force: true })
      await fsyncDir(path.dirname(link))
      return
    }
    const tmp = path.join(path.dirname(link), `.current.tmp-${randomBytes(6).toString('hex')}`)
    await fs.symlink(version, tmp)
    fault?.('after-link-tmp')
    await fs.rename(tmp, link)
    await fsyncDir(path.dirname(link))
  }

  remove(name: string, version: string): Promise<void> {
    return this.#writing(async () => {
      const moved = await this.#moveToTrash(this.#paths.runtimeVersionDir(name, version))
      if (moved) await fs.rm(moved, { recursive: true, force: true })
    })
  }

  /** Remove `<runtimes>/<name>` once it holds nothing (no versions, no link). */
  pruneEmpty(name: string): Promise<void> {
    return this.#writing(async () => {
      const left = await fs.readdir(this.#paths.runtimeDir(name)).catch(() => null)
      if (left && left.length === 0) await fs.rmdir(this.#paths.runtimeDir(name)).catch(() => {})
    })
  }

  async #moveToTrash(dir: string): Promise<string | null> {
    const trash = path.join(this.#paths.staging, `trash-${randomBytes(8).toString('hex')}`)
    try {
      await fs.rename(dir, trash)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
    await fsyncDir(path.dirname(dir))
    return trash
  }

  /** Startup repair after a crash at any point; see the module header. */
  recover(): Promise<{ removed: string[]; repointed: string[] }> {
    return this.#writing(() => this.#recover())
  }

  async #recover(): Promise<{ removed: string[]; repointed: string[] }> {
    await this.init()
    const removed: string[] = []
    const repointed: string[] = []
    for (const entry of await fs.readdir(this.#paths.staging)) {
      await fs.rm(path.join(this.#paths.staging, entry), { recursive: true, force: true })
      removed.push(path.join(this.#paths.staging, entry))
    }
    for (const name of await this.names()) {
      const dir = this.#paths.runtimeDir(name)
      for (const entry of await fs.readdir(dir)) {
        if (entry.startsWith('.current.tmp-')) {
          await fs.rm(path.join(dir, entry), { force: true })
          removed.push(path.join(dir, entry))
        }
      }
      for (const version of await this.versions(name)) {
        if (!(await this.marker(name, version))) {
          const moved = await this.#moveToTrash(this.#paths.runtimeVersionDir(name, version))
          if (moved) await fs.rm(moved, { recursive: true, force: true })
          removed.push(this.#paths.runtimeVersionDir(name, version))
        }
      }
      const current = await this.current(name)
      const valid = await this.versions(name)
      if (current !== null && !valid.includes(current)) {
        await this.switchCurrent(name, valid[0] ?? null)
        repointed.push(`${name}: ${current} → ${valid[0] ?? 'none'}`)
      }
      if (valid.length === 0) await fs.rmdir(dir).catch(() => {})
    }
    if (removed.length || repointed.length)
      this.#log.warn({ removed, repointed }, 'runtime store: cleaned up after an interrupted install or removal')
    return { removed, repointed }
  }
}
