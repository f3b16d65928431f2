// A Node program bundled into single CommonJS files (esbuild: types stripped, every dependency
// inlined but the native ones), built on demand from its sources and cached by a hash of them.
//
// Why: a bundled CommonJS file starts faster and smaller than the same code run from its
// TypeScript sources as ES modules (one file parsed, no module graph, no type stripping).
//
// Guarantees:
//  - A bundle is used only if every input it was built from still has the content it had: the
//    build directory is named by the sha256 of those inputs (and of the build options), and the
//    cache's index lists the inputs, which are re-hashed before a cached build is reused. Any
//    change to the sources (or node_modules) therefore builds a new directory.
//  - A cached build runs only if its output files still have the sha256 recorded when it was built;
//    otherwise it is rebuilt and replaced.
//  - A build directory is complete or absent: it is written beside and renamed into place, so
//    concurrent builders (two processes) each end with a complete directory; the loser's copy is
//    dropped. Directories of older builds are kept (the last KEEP_BUILDS, and all of the last day)
//    because running programs may still start files of theirs (a wrapper beside its agent).
//  - Nothing is committed: the cache lives where the caller says (node_modules/.cache by default).
//  - Native programs (C sources compiled with the machine's `cc`, statically linked) are built into
//    the same directory when a compiler is there; the compiler's identity is one of the inputs, so
//    installing one later builds them. Without one the bundle has no such file and says why.
// Assumptions: the external (native) packages resolve from the cache directory's ancestors, i.e.
// the cache lives inside the project's node_modules.
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { writeFileDurable } from './durable-file.ts'
import type { BuildOptions, BuildResult, Plugin } from 'esbuild'

export interface BundleSpec {
  /** output file name without extension → its entry module (absolute path) */
  entries: Record<string, string>
  /** where builds are kept: `<cacheDir>/<hash>/<name>.cjs` */
  cacheDir: string
  /** packages left to `require` at run time (native addons) */
  external?: string[]
  /** Node builtins loaded on first use instead of at module load (see lazyBuiltinsPlugin) */
  lazyBuiltins?: string[]
  /** output file name → a C source compiled, when the machine has a compiler, into a static executable */
  native?: Record<string, string>
  /** anything else the build directory depends on (what the caller keeps in it, such as a compile
   * cache valid only for given Node flags): a different value is a different build */
  extraKey?: string
}

export interface Bundle {
  /** the build directory */
  dir: string
  /** output name → absolute path of its `.cjs` file, or of its native executable when it was compiled */
  files: Record<string, string>
  /** whether this call built it (false: taken from the cache) */
  built: boolean
  /** native output name → why it was not compiled (no compiler, or the compiler's error) */
  nativeMissing: Record<string, string>
}

/** How many build directories the cache keeps (the newest), besides every build younger than a day:
 * agents started from an older build start their wrapper from it for as long as they run. */
export const KEEP_BUILDS = 4
export const KEEP_BUILDS_YOUNGER_THAN_MS = 24 * 60 * 60 * 1000
const INDEX_FILE = 'index.json'

interface CacheIndex {
  hash: string
  inputs: string[]
  /** sha256 of each output file: a cached build is used only while its files are these */
  outputs: Record<string, string>
  /** native outputs not compiled, and why */
  nativeMissing?: Record<string, string>
}

const LAZY_NAMESPACE = 'zlh-lazy-builtin'

/**
 * Packages such as fastify and ws `require` builtins at load that they use only on paths a given
 * program may never take (http2, https, tls, dns): each costs memory and start time in every
 * process. The listed builtins are replaced by a proxy that loads the real module on its first
 * property access. Code that destructures such a module at load still loads it then, with no
 * other difference; the proxy reports the module's own keys, so ES-module interop copies them.
 * Only modules that are not called as functions can be listed (the proxy is a plain object).
 */
function lazyBuiltinsPlugin(names: string[]): Plugin {
  const filter = new RegExp(`^(node:)?(${names.map((n) => n.replace(/[/]/g, '\\/')).join('|')})$`)
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.namespace === LAZY_NAMESPACE
          ? { path: args.path, external: true }
          : { path: args.path.replace(/^node:/, ''), namespace: LAZY_NAMESPACE },
      )
      build.onLoad({ filter: /.*/, namespace: LAZY_NAMESPACE }, (args) => ({
        loader: 'js',
        contents: `let real
const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}))
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key)
    return d && { ...d, configurable: true }
  },
})
`,
      }))
    },
  }
}

function options(spec: BundleSpec, outdir: string) {
  return {
    entryPoints: spec.entries,
    bundle: true,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    outdir,
    outExtension: { '.js': '.cjs' },
    external: spec.external ?? [],
    // ES module code that asks where it lives keeps working as CommonJS.
    define: { 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
    // Whitespace and syntax only: names stay (error classes, stack traces read as the sources).
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: 'silent' as const,
    legalComments: 'none' as const,
    plugins: spec.lazyBuiltins?.length ? [lazyBuiltinsPlugin(spec.lazyBuiltins)] : [],
  }
}

/** sha256 of the build options and of every input's path and content. */
async function hashInputs(spec: BundleSpec, inputs: string[], tools: Tools): Promise<string> {
  const hash = createHash('sha256')
  // Plugins are functions (not in the JSON): the spec names what they do.
  hash.update(
    JSON.stringify({
      ...tools,
      options: options(spec, ''),
      lazyBuiltins: spec.lazyBuiltins ?? [],
      native: spec.native ?? {},
      extraKey: spec.extraKey ?? '',
    }),
  )
  for (const file of [...inputs, ...Object.values(spec.native ?? {})].sort()) {
    hash.update(`\0${file}\0`)
    hash.update(await readFile(file))
  }
  return hash.digest('hex').slice(0, 32)
}

/** The output files in `dir`: every entry's `.cjs`, and each native program not in `missing`. */
function filesOf(spec: BundleSpec, dir: string, missing: Record<string, string>): Record<string, string> {
  return Object.fromEntries([
    ...Object.keys(spec.entries).map((name) => [name, path.join(dir, `${name}.cjs`)]),
    ...Object.keys(spec.native ?? {})
      .filter((name) => !(name in missing))
      .map((name) => [name, path.join(dir, name)]),
  ])
}

/** sha256 of each output file of the build in `dir`; undefined when one is missing. */
async function digests(files: Record<string, string>): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {}
  for (const [name, file] of Object.entries(files)) {
    const data = await readFile(file).catch(() => undefined)
    if (data === undefined) return undefined
    out[name] = createHash('sha256').update(data).digest('hex')
  }
  return out
}

const sameDigests = (a: Record<string, string> | undefined, b: Record<string, string>): boolean =>
  a !== undefined && Object.keys(b).every((name) => a[name] === b[name])

/** The cached build if its inputs are unchanged. */
async function cached(spec: BundleSpec, tools: Tools): Promise<Bundle | undefined> {
  const index = await readFile(path.join(spec.cacheDir, INDEX_FILE), 'utf8')
    .then((text) => JSON.parse(text) as CacheIndex)
    .catch(() => undefined)
  if (!index || !/^[0-9a-f]{32}$/.test(index.hash) || !Array.isArray(index.inputs)) return undefined
  const hash = await hashInputs(spec, index.inputs, tools).catch(() => undefined)
  if (hash !== index.hash) return undefined
  const dir = path.join(spec.cacheDir, hash)
  // A file changed or missing since the build (an interrupted copy, a hand edit) is rebuilt, not run.
  if (typeof index.outputs !== 'object' || index.outputs === null) return undefined
  const nativeMissing = index.nativeMissing ?? {}
  const files = filesOf(spec, dir, nativeMissing)
  return sameDigests(await digests(files), index.outputs) ? { dir, files, built: false, nativeMissing } : undefined
}

/** What a build's outputs depend on besides its inputs: the esbuild version and the C compiler. */
interface Tools {
  esbuildVersion: string
  /** the first line of `cc --version`, or why there is no compiler */
  compiler: string
  /** whether `compiler` names one that answered */
  compilerFound: boolean
}

const execFileAsync = promisify(execFile)

async function compiler(spec: BundleSpec): Promise<Pick<Tools, 'compiler' | 'compilerFound'>> {
  if (!spec.native || Object.keys(spec.native).length === 0) return { compiler: 'none needed', compilerFound: false }
  try {
    const { stdout } = await execFileAsync(cc(), ['--version'], { timeout: 10_000 })
    return { compiler: stdout.split('\n')[0] ?? '', compilerFound: true }
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    return { compiler: `no C compiler: ${cc()} --version failed (${why})`, compilerFound: false }
  }
}

/** The C compiler: $CC, else `cc`. */
const cc = (): string => process.env.CC || 'cc'
/** Static, so the program runs in any Linux container whatever its C library. */
const CFLAGS = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-static']

/** Compiles each native program into `dir`; returns the ones that could not be, and why. */
async function compileNative(spec: BundleSpec, dir: string, tools: Tools): Promise<Record<string, string>> {
  const missing: Record<string, string> = {}
  for (const [name, source] of Object.entries(spec.native ?? {})) {
    if (!tools.compilerFound) {
      missing[name] = tools.compiler
      continue
    }
    try {
      await execFileAsync(cc(), [...CFLAGS, '-o', path.join(dir, name), source], { timeout: 120_000 })
    } catch (err) {
      const e = err as Error & { stderr?: string }
      missing[name] = `${cc()} could not compile ${source}: ${(e.stderr || e.message).trim().slice(0, 2000)}`
      await rm(path.join(dir, name), { force: true })
    }
  }
  return missing
}

async function prune(cacheDir: string, keep: string): Promise<void> {
  const builds = await Promise.all(
    (await readdir(cacheDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && /^[0-9a-f]{32}$/.test(e.name) && e.name !== keep)
      .map(async (e) => ({ dir: path.join(cacheDir, e.name), mtime: (await stat(path.join(cacheDir, e.name))).mtimeMs })),
  )
  builds.sort((a, b) => b.mtime - a.mtime)
  const cutoff = Date.now() - KEEP_BUILDS_YOUNGER_THAN_MS
  for (const old of builds.slice(KEEP_BUILDS - 1)) {
    if (old.mtime < cutoff) await rm(old.dir, { recursive: true, force: true })
  }
}

/** Builds in flight in this process: esbuild's service process is stopped when the last one ends. */
let buildsInFlight = 0

/**
 * esbuild builds in a service process it keeps for later builds (≈100 MiB of RSS after one of
 * these); a bundle is built about once per process, so the service is stopped as soon as no build
 * is running (a later build starts it again).
 */
async function buildThenRelease(esbuild: typeof import('esbuild'), buildOptions: BuildOptions): Promise<BuildResult> {
  buildsInFlight++
  try {
    return await esbuild.build(buildOptions)
  } finally {
    if (--buildsInFlight === 0) await esbuild.stop()
  }
}

/** The bundle of `spec`: from the cache when its inputs are unchanged, else built now (≈1 s). */
export async function bundle(spec: BundleSpec): Promise<Bundle> {
  const esbuild = await import('esbuild')
  const tools: Tools = { esbuildVersion: esbuild.version, ...(await compiler(spec)) }
  const hit = await cached(spec, tools)
  if (hit) return hit
  await mkdir(spec.cacheDir, { recursive: true })
  const scratch = path.join(spec.cacheDir, `.build-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const result = await buildThenRelease(esbuild, options(spec, scratch))
    const cwd = process.cwd()
    // The metafile names inputs relative to the working directory.
    const inputs = Object.keys(result.metafile?.inputs ?? {})
      .filter((p) => !p.startsWith(`${LAZY_NAMESPACE}:`))
      .map((p) => path.resolve(cwd, p))
    const hash = await hashInputs(spec, inputs, tools)
    const dir = path.join(spec.cacheDir, hash)
    const nativeMissing = await compileNative(spec, scratch, tools)
    const outputs = await digests(filesOf(spec, scratch, nativeMissing))
    if (outputs === undefined) throw new Error(`esbuild wrote no ${Object.keys(spec.entries).join(', ')} into ${scratch}`)
    try {
      await rename(scratch, dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      // Another process finished the same build first: its directory is as good as ours if its
      // files are the same bytes (the build is deterministic); a directory that differs is replaced.
      if (!sameDigests(await digests(filesOf(spec, dir, nativeMissing)), outputs)) {
        await rm(dir, { recursive: true, force: true })
        await rename(scratch, dir)
      }
    }
    const index: CacheIndex = { hash, inputs, outputs, nativeMissing }
    await writeFileDurable(path.join(spec.cacheDir, INDEX_FILE), JSON.stringify(index), 0o644)
    await prune(spec.cacheDir, hash)
    return { dir, files: filesOf(spec, dir, nativeMissing), built: true, nativeMissing }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}
