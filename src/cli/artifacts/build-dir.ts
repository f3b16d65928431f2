// `zlh artifacts build`: packs the built-in runtimes (node, flying-squid, and — only when asked —
// real code-server from the per-user cached build) and operator trees into one directory, with
// its index.json.
//
// Expected flow
//  1. Check everything asked for before writing anything: --only names, each --pack's name,
//     version and tree (its root must hold bin/). A refusal leaves the directory untouched.
//  2. For each artifact: reuse the file named in the index when its source fingerprint is the
//     same and the file still hashes to the recorded sha256 (never trusted by name alone); else
//     build it (temporary name, fsync, rename).
//  3. Write the index: this run's entries replace the same name/version/arch; earlier entries
//     whose file is still there stay.
// Guarantees: every file the index names was hashed in this run or re-hashed before reuse.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { lstat, mkdir, readdir, readlink, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Progress } from '../progress.ts'
import {
  buildFlyingSquidPackage,
  buildNodeRuntime,
  fileDigest,
  flyingSquidVersion,
  packTree,
  pinnedNodeVersion,
  treeProblem,
  FLYING_SQUID_GAME_VERSION,
  RUNTIME_NAME,
  RUNTIME_VERSION,
  TreeRefusedError,
  type BuiltArtifact,
} from './build.ts'
import { readIndex, writeIndex, type IndexEntry } from './index-file.ts'
import { ensureCodeServerBuild, linkInto } from '../up/code-server-build.ts'

export const BUILTIN_RUNTIMES = ['node', 'flying-squid', 'code-server'] as const
export type BuiltinRuntime = (typeof BUILTIN_RUNTIMES)[number]
/** What `build` packs without --only: code-server takes minutes the first time, so only on request. */
export const DEFAULT_BUILTINS: BuiltinRuntime[] = ['node', 'flying-squid']

export interface TreePack {
  name: string
  version: string
  tree: string
}

export interface BuildDirOptions {
  outDir: string
  builtins: BuiltinRuntime[]
  packs: TreePack[]
  progress: Progress
  /** <cache>/code-server, for --only code-server. */
  codeServerCacheDir: string
}

export interface BuildDirResult {
  entries: IndexEntry[]
  built: string[]
  reused: string[]
}

const projectDir = join(import.meta.dirname, '..', '..', '..')

/** `NAME@VERSION=TREE` → a TreePack; throws TreeRefusedError with what is wrong. */
export function parsePackSpec(spec: string): TreePack {
  const m = /^([^@=]+)@([^=]+)=(.+)$/.exec(spec)
  if (m === null) throw new TreeRefusedError(`--pack ${JSON.stringify(spec)} is not NAME@VERSION=TREE, e.g. --pack java@21.0.5=/opt/jdk-21`)
  return { name: m[1]!, version: m[2]!, tree: m[3]! }
}

/** `--only a,b` → built-ins; `none` → none (only --pack trees). */
export function parseOnly(list: string): BuiltinRuntime[] {
  if (list.trim() === 'none') return []
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const n of names) {
    if (!(BUILTIN_RUNTIMES as readonly string[]).includes(n))
      throw new TreeRefusedError(
        `--only ${JSON.stringify(n)} is not a built-in runtime: choose from ${BUILTIN_RUNTIMES.join(', ')} or none (operator trees go in --pack)`,
      )
  }
  return [...new Set(names)] as BuiltinRuntime[]
}

/** Step 1: everything that can be refused, before anything is written. */
async function checkRequest(o: BuildDirOptions): Promise<void> {
  const seen = new Set<string>()
  for (const p of o.packs) {
    if (!RUNTIME_NAME.test(p.name))
      throw new TreeRefusedError(
        `--pack ${p.name}@${p.version}: the name is not a DNS-1123 label (lower-case letters, digits, -; at most 63): it names the RuntimeCatalog`,
      )
    if (!RUNTIME_VERSION.test(p.version))
      throw new TreeRefusedError(
        `--pack ${p.name}@${p.version}: the version may hold letters, digits, . + _ - (at most 64, starting with a letter or digit)`,
      )
    if ((BUILTIN_RUNTIMES as readonly string[]).includes(p.name) && o.builtins.includes(p.name as BuiltinRuntime)) {
      throw new TreeRefusedError(
        `--pack ${p.name}@${p.version} collides with the built-in ${p.name} this run also builds: leave it out of --only`,
      )
    }
    const key = `${p.name}@${p.version}`
    if (seen.has(key)) throw new TreeRefusedError(`--pack ${key} is given twice: pass each NAME@VERSION once`)
    seen.add(key)
    const problem = await treeProblem(p.tree)
    if (problem !== undefined) throw new TreeRefusedError(`--pack ${key}: ${problem}`)
  }
}

/** A fingerprint of a tree: every entry's path, type, size, mode, mtime and link target. */
export async function treeFingerprint(tree: string): Promise<string> {
  const hash = createHash('sha256')
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name)
      const st = await lstat(path)
      hash.update(`${relative(tree, path)}\0${st.mode}\0${st.size}\0${st.mtimeMs}\0`)
      if (st.isSymbolicLink()) hash.update(`${await readlink(path)}\0`)
      else if (st.isDirectory()) await walk(path)
    }
  }
  await walk(tree)
  return `tree:${hash.digest('hex')}`
}

async function nodeSource(): Promise<string> {
  const st = await stat(join(projectDir, 'node_modules', 'node', 'bin', 'node'))
  return `node:${pinnedNodeVersion()}:${st.size}:${st.mtimeMs}`
}

async function reusable(
  outDir: string,
  prior: IndexEntry[],
  name: string,
  version: string,
  source: string,
): Promise<IndexEntry | undefined> {
  const entry = prior.find((e) => e.name === name && e.version === version && e.arch === 'x64' && e.source === source)
  if (entry === undefined || !existsSync(join(outDir, entry.file))) return undefined
  const digest = await fileDigest(join(outDir, entry.file))
  return digest.sha256 === entry.sha256 ? { ...entry, sizeBytes: digest.sizeBytes } : undefined
}

function entryOf(a: BuiltArtifact, source: string): IndexEntry {
  return {
    name: a.name,
    version: a.version,
    arch: 'x64',
    file: a.file.slice(a.file.lastIndexOf('/') + 1),
    sha256: a.sha256,
    sizeBytes: a.sizeBytes,
    source,
  }
}

export async function buildDirectory(o: BuildDirOptions): Promise<BuildDirResult> {
  await checkRequest(o)
  await mkdir(o.outDir, { recursive: true })
  const prior = await readIndex(o.outDir)
  const result: BuildDirResult = { entries: [], built: [], reused: [] }
  const one = async (
    label: string,
    name: string,
    version: string,
    source: string,
    build: (detail: (t: string) => void) => Promise<BuiltArtifact>,
  ): Promise<void> => {
    const kept = await reusable(o.outDir, prior, name, version, source)
    if (kept !== undefined) {
      o.progress.info(`= ${label}: ${kept.file} unchanged (sha256 ${kept.sha256.slice(0, 12)}…), reused`, {
        event: 'artifact reused',
        name,
        version,
        file: kept.file,
      })
      result.entries.push(kept)
      result.reused.push(kept.file)
      return
    }
    const built = await o.progress.step(`packing ${label}`, build)
    const entry = entryOf(built, source)
    result.entries.push(entry)
    result.built.push(entry.file)
  }
  for (const b of o.builtins) {
    if (b === 'node') {
      const version = pinnedNodeVersion()
      await one(`node ${version}`, 'node', version, await nodeSource(), () => buildNodeRuntime(o.outDir))
    } else if (b === 'flying-squid') {
      const squid = flyingSquidVersion()
      await one(`flying-squid ${squid}`, 'flying-squid', squid, `flying-squid:${squid}:${FLYING_SQUID_GAME_VERSION}`, () =>
        buildFlyingSquidPackage(o.outDir),
      )
    } else {
      // The per-user cache decides whether code-server must be built (minutes) or is ready.
      const cached = await o.progress.step('building code-server (per-user cache; minutes the first time)', (detail) =>
        ensureCodeServerBuild({ cacheDir: o.codeServerCacheDir, detail }),
      )
      await one(`code-server ${cached.version}`, 'code-server', cached.version, `code-server:${cached.sha256}`, async () => {
        const file = await linkInto(cached, o.outDir)
        return { name: 'code-server', version: cached.version, file, ...(await fileDigest(file)) }
      })
    }
  }
  for (const p of o.packs) {
    await one(`${p.name} ${p.version} from ${p.tree}`, p.name, p.version, await treeFingerprint(p.tree), () =>
      packTree(p.tree, o.outDir, p.name, p.version),
    )
  }
  const replaced = new Set(result.entries.map((e) => `${e.name}@${e.version}@${e.arch}`))
  const kept = prior.filter((e) => !replaced.has(`${e.name}@${e.version}@${e.arch}`) && existsSync(join(o.outDir, e.file)))
  await writeIndex(o.outDir, [...kept, ...result.entries])
  result.entries = [...kept, ...result.entries]
  return result
}
