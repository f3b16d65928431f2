// Builds REAL runtime artifacts from what this checkout already has installed, so a machine with
// no internet can run the whole system (tests, the all-in-one start):
//  - `node`: a runtime tarball whose bin/node is node_modules/node's binary (the pinned Node 24);
//  - `flying-squid`: the Minecraft server package — node_modules/flying-squid plus its dependency
//    closure, with a bin/flying-squid launcher that listens on $SERVER_PORT and reads console
//    commands (`stop`) from stdin; minecraft-data is trimmed to the one game version it serves;
//  - any operator tree (`packTree`): a directory whose root holds bin/ (a JDK, a game package).
// Every artifact is a .tar.gz whose root holds bin/, as the RuntimeCatalog contract says.
// Guarantees: the returned sha256/sizeBytes are of the file as written; files are written to a
// temporary name in the same directory, fsynced and renamed, so a reader never sees a
// half-written artifact and two builders into one directory never share a temporary file.

import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, open, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path'
import { create as tarCreate } from 'tar'

export interface BuiltArtifact {
  name: string
  version: string
  file: string
  sha256: string
  sizeBytes: number
}

const projectDir = resolve(import.meta.dirname, '../../..')
const nodeModules = join(projectDir, 'node_modules')

/** The Minecraft version the flying-squid package serves (its data is all it carries). */
export const FLYING_SQUID_GAME_VERSION = '1.21.4'

export async function fileDigest(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return { sha256: hash.digest('hex'), sizeBytes: (await stat(file)).size }
}

/** Packs `entries` of `staging` into `outFile` (temp name, fsync, rename). `follow`: store what
 * symlinks point at (our staging trees link into node_modules) instead of the links. */
export async function pack(
  staging: string,
  entries: string[],
  outFile: string,
  opts: { filter?: (path: string) => boolean; follow?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(outFile), { recursive: true })
  const part = `${outFile}.${process.pid}-${randomBytes(4).toString('hex')}.part`
  try {
    const filter = opts.filter
    await tarCreate(
      {
        gzip: { level: 1 },
        cwd: staging,
        file: part,
        follow: opts.follow ?? true,
        portable: true,
        filter: filter ? (p) => filter(p) : undefined,
      },
      entries,
    )
    const fh = await open(part, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(part, outFile)
  } catch (err) {
    await rm(part, { force: true })
    throw err
  }
}

export async function withStaging<T>(outDir: string, fn: (staging: string) => Promise<T>): Promise<T> {
  await mkdir(outDir, { recursive: true })
  const staging = await mkdtemp(join(outDir, '.staging-'))
  try {
    return await fn(staging)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

export async function finish(name: string, version: string, file: string): Promise<BuiltArtifact> {
  return { name, version, file, ...(await fileDigest(file)) }
}

/** The version of Node in node_modules/node (what bin/node --version prints, without the v). */
export function pinnedNodeVersion(): string {
  return (JSON.parse(readFileSync(join(nodeModules, 'node', 'package.json'), 'utf8')) as { version: string }).version
}

/** node-<version>.tar.gz with bin/node = node_modules/node/bin/node. */
export async function buildNodeRuntime(outDir: string): Promise<BuiltArtifact> {
  const version = pinnedNodeVersion()
  const file = join(outDir, `node-${version}-x64.tar.gz`)
  await withStaging(outDir, async (staging) => {
    await mkdir(join(staging, 'bin'))
    await symlink(join(nodeModules, 'node', 'bin', 'node'), join(staging, 'bin', 'node'))
    await pack(staging, ['bin'], file)
  })
  return finish('node', version, file)
}

/** The version of node_modules/flying-squid (the game package's version). */
export function flyingSquidVersion(): string {
  return readPackage(join(nodeModules, 'flying-squid')).version
}

interface PackageJson {
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson
}

/** Where Node would find `dep` from `fromDir`: the nearest node_modules/<dep> going up. */
function resolvePackageDir(dep: string, fromDir: string): string | undefined {
  for (let dir = fromDir; dir.startsWith(projectDir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', dep)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dir === projectDir) break
  }
  return undefined
}

/** Top-level node_modules packages `root` needs at run time (nested ones travel inside their parent). */
export function dependencyClosure(root: string): string[] {
  const top = new Set<string>()
  const seen = new Set<string>()
  const queue = [root]
  while (queue.length > 0) {
    const dir = queue.pop() as string
    if (seen.has(dir)) continue
    seen.add(dir)
    const pkg = readPackage(dir)
    const deps = { ...pkg.optionalDependencies, ...pkg.dependencies }
    for (const dep of Object.keys(deps)) {
      const found = resolvePackageDir(dep, dir)
      if (found === undefined) {
        if (pkg.optionalDependencies?.[dep] !== undefined) continue
        throw new Error(`${relative(projectDir, dir)} needs ${dep}, which is not installed: run npm install`)
      }
      if (dirname(found) === nodeModules || dirname(dirname(found)) === nodeModules) top.add(relative(nodeModules, found))
      queue.push(found)
    }
  }
  top.delete(relative(nodeModules, root))
  return [...top].sort()
}

const launcher = `'use strict'
// flying-squid launcher: port from $SERVER_PORT, offline with --offline, console commands on stdin.
const path = require('node:path')
const defaults = require('flying-squid/config/default-settings.json')
const args = process.argv.slice(2)
const port = Number(process.env.SERVER_PORT || defaults.port)
const settings = {
  ...defaults,
  port,
  'online-mode': args.includes('--offline') ? false : defaults['online-mode'],
  logging: false,
  version: '${FLYING_SQUID_GAME_VERSION}',
  'view-distance': 2,
  worldFolder: undefined,
  plugins: {},
  debug: () => {},
}
const mcServer = require('flying-squid')
const serv = mcServer.createMCServer(settings)
serv.on('error', (err) => { console.error('server error: ' + (err && err.stack || err)); process.exit(1) })
process.on('SIGTERM', () => { Promise.resolve(serv.quit && serv.quit('stopping')).finally(() => process.exit(0)) })
`

/** flying-squid-<version>.tar.gz: bin/flying-squid + lib/launch.cjs + node_modules/. */
export async function buildFlyingSquidPackage(outDir: string): Promise<BuiltArtifact> {
  const root = join(nodeModules, 'flying-squid')
  const version = readPackage(root).version
  const file = join(outDir, `flying-squid-${version}.tar.gz`)
  const deps = dependencyClosure(root)
  const dataPaths = JSON.parse(readFileSync(join(nodeModules, 'minecraft-data', 'minecraft-data', 'data', 'dataPaths.json'), 'utf8')) as {
    pc: Record<string, Record<string, string>>
  }
  const keep = new Set(['pc/common', 'bedrock/common', ...Object.values(dataPaths.pc[FLYING_SQUID_GAME_VERSION] ?? {})])
  const dataPrefix = `node_modules${sep}minecraft-data${sep}minecraft-data${sep}data${sep}`
  // minecraft-data carries every game version (500 MB); the launcher serves one.
  const filter = (p: string): boolean => {
    const norm = p.replace(/^\.\//, '')
    if (!norm.startsWith(dataPrefix)) return true
    const rest = norm.slice(dataPrefix.length).split(sep)
    if (rest.length < 2 || rest[1] === '') return true
    return keep.has(`${rest[0]}/${rest[1]}`)
  }
  await withStaging(outDir, async (staging) => {
    await mkdir(join(staging, 'bin'))
    await mkdir(join(staging, 'lib'))
    await mkdir(join(staging, 'node_modules'))
    await writeFile(
      join(staging, 'bin', 'flying-squid'),
      '#!/bin/sh\n# Runs the flying-squid Minecraft server with the node runtime on PATH.\nexec node "$(dirname "$0")/../lib/launch.cjs" "$@"\n',
      { mode: 0o755 },
    )
    await writeFile(join(staging, 'lib', 'launch.cjs'), launcher)
    await symlink(root, join(staging, 'node_modules', 'flying-squid'))
    for (const dep of deps) {
      await mkdir(dirname(join(staging, 'node_modules', dep)), { recursive: true })
      await symlink(join(nodeModules, dep), join(staging, 'node_modules', dep))
    }
    await pack(staging, ['bin', 'lib', 'node_modules'], file, { filter })
  })
  return finish('flying-squid', version, file)
}

/** Runtime names are RuntimeCatalog names (DNS-1123 labels); versions as the CRD allows them. */
export const RUNTIME_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
export const RUNTIME_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/

export class TreeRefusedError extends Error {}

/** Why `tree` cannot be packed as a runtime (its root must hold a bin/ directory), or undefined. */
export async function treeProblem(tree: string): Promise<string | undefined> {
  const root = await stat(tree).catch(() => undefined)
  if (root === undefined) return `${tree} does not exist: pass the directory that holds the runtime's bin/`
  if (!root.isDirectory()) return `${tree} is not a directory: pass the directory that holds the runtime's bin/`
  const bin = await lstat(join(tree, 'bin')).catch(() => undefined)
  if (bin === undefined || !bin.isDirectory())
    return `${tree} has no bin/ directory at its root: a runtime tree's root must hold bin/ (the RuntimeCatalog contract), e.g. /opt/jdk-21 whose bin/java exists`
  return entryProblem(tree, tree)
}

/** What the agent's extractor would refuse, found before packing: a link that is absolute or
 * leads outside the tree, or an entry that is not a file, directory or link (device, FIFO, socket). */
async function entryProblem(tree: string, dir: string): Promise<string | undefined> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name)
    const st = await lstat(path)
    const rel = relative(tree, path)
    if (st.isSymbolicLink()) {
      const target = await readlink(path)
      if (isAbsolute(target))
        return `${tree}: ${rel} links to the absolute path ${target}; containers refuse such links: make it relative or copy the file in`
      const resolved = posix.normalize(posix.join(posix.dirname(rel.split(sep).join('/')), target))
      if (resolved === '..' || resolved.startsWith('../'))
        return `${tree}: ${rel} links to ${target}, outside the tree; containers refuse such links: copy the file in`
    } else if (st.isDirectory()) {
      const inner = await entryProblem(tree, path)
      if (inner !== undefined) return inner
    } else if (!st.isFile()) {
      return `${tree}: ${rel} is not a regular file, directory or link (a device, FIFO or socket): remove it from the tree`
    }
  }
  return undefined
}

/** <name>-<version>.tar.gz of an operator's tree (its root holds bin/); symlinks are kept as links. */
export async function packTree(tree: string, outDir: string, name: string, version: string): Promise<BuiltArtifact> {
  if (!RUNTIME_NAME.test(name))
    throw new TreeRefusedError(
      `runtime name ${JSON.stringify(name)} is not a DNS-1123 label (lower-case letters, digits, -; at most 63): it names the RuntimeCatalog`,
    )
  if (!RUNTIME_VERSION.test(version))
    throw new TreeRefusedError(
      `version ${JSON.stringify(version)} of ${name} is not allowed: letters, digits, . + _ - (at most 64, starting with a letter or digit)`,
    )
  const problem = await treeProblem(tree)
  if (problem !== undefined) throw new TreeRefusedError(problem)
  const file = join(outDir, `${name}-${version}.tar.gz`)
  // tar reads an entry starting with @ as an archive to include: name such entries ./@…
  const entries = (await readdir(tree)).sort().map((e) => (e.startsWith('@') ? `./${e}` : e))
  await pack(resolve(tree), entries, file, { follow: false })
  return finish(name, version, file)
}
