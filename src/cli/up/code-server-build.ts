// The code-server artifact in the per-user cache: real code-server 4.x from its npm package plus
// the pinned Node binary, packed like code-server's release tarball (bin/code-server, lib/node,
// lib/node_modules). One build serves every state dir and test run of this user.
//
// Cache layout (<cache>/code-server/, see resolveCacheDir)
//   build.lock            held (O_EXCL, pid inside) by the one process building
//   current/              a complete build: pkg/ (the npm tree), code-server-<v>-x64.tar.gz, built.json
//   tmp-<pid>-<time>/     a build in progress; renamed to current/ only once complete
//
// Expected flow
//  1. current/ valid (marker, same pinned Node, tarball's size and sha256 as recorded)? Use it.
//  2. Else take build.lock (waiting while a live process holds it; a dead holder's lock is
//     removed), look again (the holder may just have built it), remove leftovers, npm install
//     into tmp-…/pkg/lib, pack, write the marker, rename tmp-… to current/.
// Guarantees: current/ is never partial (built elsewhere, renamed into place); a stale or damaged
// current/ is detected and rebuilt; npm runs in a clean environment — PATH with the pinned Node
// first, HOME and a few locale/proxy variables, never the outer npm's npm_* variables (code-server's
// install script reads the Node version from npm_config_user_agent) — so the system Node's
// version does not matter. A failure says what npm said (last lines, secrets redacted) and, when
// npm's output shows it, which system package is missing.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { delimiter, dirname, join } from 'node:path'
import { create as tarCreate } from 'tar'
import { fileDigest, pinnedNodeVersion, type BuiltArtifact } from '../artifacts/build.ts'
import { alive } from '../state-dir.ts'

const projectDir = join(import.meta.dirname, '..', '..', '..')
export const CODE_SERVER_SPEC = 'code-server@4'
/** Rough size of the installed tree, for progress. */
const EXPECTED_MB = 740

export interface NpmCommand {
  cmd: string
  args: string[]
}

export interface BuildOptions {
  /** <cache>/code-server */
  cacheDir: string
  /** Progress text: "312 MB installed, 2m10s", "waiting for …", "packing". */
  detail: (text: string) => void
  /** The npm to run (default: the npm that started us, else `npm` on the clean PATH). */
  npm?: NpmCommand
  /** The environment the clean one is derived from (default process.env). */
  parentEnv?: NodeJS.ProcessEnv
  signal?: AbortSignal
}

export interface CachedBuild extends BuiltArtifact {
  dir: string
}

interface Marker {
  version: string
  file: string
  sha256: string
  sizeBytes: number
  node: string
  spec: string
}

const pinnedNodeBin = (): string => join(projectDir, 'node_modules', 'node', 'bin')
const KEPT_VARS = [
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]

/** The build's environment: PATH with the pinned Node first (minus what `npm run` prepended), the
 * kept variables, nothing else (no npm_config_*, npm_*, NODE_OPTIONS, FORCE_NODE_VERSION). */
export function cleanBuildEnv(parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const inherited = (parent.PATH ?? '/usr/local/bin:/usr/bin:/bin')
    .split(delimiter)
    .filter((d) => d !== '' && !d.includes(`node_modules${'/'}.bin`) && !d.includes('node-gyp-bin'))
  const env: NodeJS.ProcessEnv = { PATH: [pinnedNodeBin(), ...inherited].join(delimiter) }
  for (const k of KEPT_VARS) if (parent[k] !== undefined) env[k] = parent[k]
  env.HOME ??= '/tmp'
  return env
}

function defaultNpm(parent: NodeJS.ProcessEnv): NpmCommand {
  // Under `npm start`, the npm that started us (run on the pinned Node); otherwise the one on PATH.
  const execpath = parent.npm_execpath
  return execpath?.endsWith('.js') && existsSync(execpath)
    ? { cmd: join(pinnedNodeBin(), 'node'), args: [execpath] }
    : { cmd: 'npm', args: [] }
}

// --- what npm said -----------------------------------------------------------------------------

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g
const SECRETS: Array<[RegExp, string]> = [
  [/(_authToken|_auth|_password|password|token|secret)(\s*[=:]\s*)\S+/gi, '$1$2***'],
  [/(\/\/)[^\s/@:]+:[^\s/@]+@/g, '$1***@'],
  [/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***'],
  [/\bnpm_[A-Za-z0-9]{20,}\b/g, '***'],
]
/** What npm's output reveals about a missing prerequisite, as the fix. */
const HINTS: Array<[RegExp, string]> = [
  [
    /krb5-config[^\n]*not found|gssapi\/gssapi\.h|gssapi\.h: No such file|krb5\.h: No such file/i,
    'the Kerberos headers are missing: install libkrb5-dev (Debian/Ubuntu) or krb5-devel (Fedora/RHEL)',
  ],
  // node-gyp logs "gyp info find Python using …" on success too: only its errors count.
  [/gyp ERR! find Python|python3?: not found|Could not find any Python/i, 'Python is missing: install python3'],
  [
    /gyp ERR! stack[^\n]*network connectivity|gyp ERR![^\n]*(getNodeDir|Could not download|headers tarball)/i,
    "node-gyp could not download the Node headers it compiles code-server's native modules against: allow it to reach https://nodejs.org (or a mirror in npm's `disturl`), or set npm's `nodedir` to a directory holding the headers of Node 24",
  ],
  [/\bmake: not found|not found: make|make: No such file/i, 'make is missing: install make (build-essential on Debian/Ubuntu)'],
  [
    /\b[gc]\+\+: not found|not found: [gc]\+\+|g\+\+: No such file/i,
    'a C++ compiler is missing: install g++ (build-essential on Debian/Ubuntu)',
  ],
  [/ENOSPC/, 'the disk is full: free space under the cache directory'],
  [
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET/,
    "npm could not reach its registry: check the network, or npm's registry and proxy settings",
  ],
]

/** npm's last `n` non-empty lines (preceded by its `npm error code …` line when that is earlier),
 * ANSI and secrets removed. */
export function lastLines(output: string, n = 8): string[] {
  const lines = output
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
  const code = lines.findIndex((l) => /^npm (error|ERR!) code /.test(l))
  const picked = code >= 0 && code < lines.length - n ? [lines[code] as string, '…', ...lines.slice(-n)] : lines.slice(-n)
  return picked.map((l) => SECRETS.reduce((s, [re, by]) => s.replace(re, by), l).slice(0, 300))
}

/** The fix for a missing prerequisite npm's output shows, if any. */
export function missingPrerequisite(output: string): string | undefined {
  return HINTS.find(([re]) => re.test(output))?.[1]
}

export class CodeServerBuildError extends Error {
  readonly npmLines: string[]
  readonly hint: string | undefined
  constructor(exit: number | null, signal: string | null, output: string) {
    const lines = lastLines(output)
    const hint = missingPrerequisite(output)
    super(
      `npm install ${CODE_SERVER_SPEC} failed (${signal ? `signal ${signal}` : `exit ${exit}`})${hint ? `: ${hint}` : ''}; npm said: ${lines.join(' | ') || '(nothing)'}`,
    )
    this.npmLines = lines
    this.hint = hint
  }
}

// --- the build ---------------------------------------------------------------------------------

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

async function duBytes(dir: string): Promise<number> {
  let total = 0
  const walk = async (d: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size
    }
  }
  await walk(dir)
  return total
}

/** npm install code-server@4 into dir (clean env); rejects with a CodeServerBuildError. */
async function npmInstall(dir: string, o: BuildOptions): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'package.json'), '{"name":"zlh-code-server-build","private":true}\n')
  const parent = o.parentEnv ?? process.env
  const { cmd, args } = o.npm ?? defaultNpm(parent)
  const child = spawn(cmd, [...args, 'install', '--no-audit', '--no-fund', '--no-save', '--no-update-notifier', CODE_SERVER_SPEC], {
    cwd: dir,
    env: cleanBuildEnv(parent),
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: o.signal,
  })
  let output = ''
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-64_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const started = Date.now()
  const report = (): void => {
    void duBytes(join(dir, 'node_modules')).then((n) =>
      o.detail(`${(n / 1e6).toFixed(0)} MB of ≈${EXPECTED_MB} MB installed, ${elapsed(Date.now() - started)}`),
    )
  }
  report()
  const ticker = setInterval(report, 2000)
  try {
    const [code, sig] = await new Promise<[number | null, string | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => resolve([c, s]))
    })
    if (code !== 0) throw new CodeServerBuildError(code, sig, output)
  } finally {
    clearInterval(ticker)
  }
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'built.json'), 'utf8')) as Marker
  } catch {
    return undefined
  }
}

/** The complete build in `current`, or undefined when it is missing, partial, stale or damaged. */
export async function validBuild(cacheDir: string): Promise<CachedBuild | undefined> {
  const dir = join(cacheDir, 'current')
  const m = await readMarker(dir)
  if (m === undefined || m.node !== pinnedNodeVersion() || m.spec !== CODE_SERVER_SPEC || m.file.includes('/')) return undefined
  const file = join(dir, m.file)
  const st = await stat(file).catch(() => undefined)
  if (st?.isFile() !== true || st.size !== m.sizeBytes) return undefined
  const digest = await fileDigest(file)
  if (digest.sha256 !== m.sha256) return undefined
  return { name: 'code-server', version: m.version, file, dir, ...digest }
}

/** Holds <cacheDir>/build.lock until release(); waits while a live process holds it. */
async function lock(cacheDir: string, o: BuildOptions): Promise<() => Promise<void>> {
  const file = join(cacheDir, 'build.lock')
  for (;;) {
    o.signal?.throwIfAborted()
    try {
      const fh = await open(file, 'wx', 0o600)
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      return () => unlink(file).catch(() => {})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(holder) && alive(holder)) {
      // (our own pid: another build in this process)
      o.detail(`waiting for another build of code-server (pid ${holder}, lock ${file})`)
      await new Promise((resolve) => setTimeout(resolve, 2000))
      continue
    }
    // Its holder is gone (or it is empty and older than a few seconds: a crash between open and write).
    const st = await stat(file).catch(() => undefined)
    if (st !== undefined && (Number.isInteger(holder) || Date.now() - st.mtimeMs > 5000)) await unlink(file).catch(() => {})
    else await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** The cached build, building it first when there is none (or it is stale or partial). */
export async function ensureCodeServerBuild(o: BuildOptions): Promise<CachedBuild> {
  const cached = await validBuild(o.cacheDir)
  if (cached) return cached
  await mkdir(o.cacheDir, { recursive: true, mode: 0o700 })
  const release = await lock(o.cacheDir, o)
  try {
    const again = await validBuild(o.cacheDir) // built by the holder we waited for
    if (again) return again
    // Leftovers: a stale/partial current/ and other builders' abandoned temp dirs (we hold the lock).
    for (const e of await readdir(o.cacheDir)) {
      if (e === 'current' || e.startsWith('tmp-') || e.startsWith('old-')) await rm(join(o.cacheDir, e), { recursive: true, force: true })
    }
    const tmp = join(o.cacheDir, `tmp-${process.pid}-${Date.now()}`)
    try {
      // The npm tree is installed where the tarball wants it (lib/node_modules), so packing follows
      // no links: code-server's own tree has dangling ones (.bin entries of dev tools).
      const root = join(tmp, 'pkg')
      const npmDir = join(root, 'lib')
      await npmInstall(npmDir, o)
      const pkgJson = join(npmDir, 'node_modules', 'code-server', 'package.json')
      if (!existsSync(pkgJson))
        throw new Error(`npm install ${CODE_SERVER_SPEC} exited 0 but left no ${pkgJson}; the npm tree is incomplete`)
      const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version
      const fileName = `code-server-${version}-x64.tar.gz`
      await mkdir(join(root, 'bin'), { recursive: true })
      await writeFile(
        join(root, 'bin', 'code-server'),
        '#!/bin/sh\n# code-server with the Node it was packed with (like the release tarballs).\nd="$(dirname "$0")/.."\nexec "$d/lib/node" "$d/lib/node_modules/code-server/out/node/entry.js" "$@"\n',
        { mode: 0o755 },
      )
      await copyFile(join(pinnedNodeBin(), 'node'), join(npmDir, 'node'))
      await chmod(join(npmDir, 'node'), 0o755)
      o.detail('packing')
      await tarCreate({ gzip: { level: 1 }, cwd: root, file: join(tmp, fileName), portable: true }, ['bin', 'lib/node', 'lib/node_modules'])
      const digest = await fileDigest(join(tmp, fileName))
      const marker: Marker = {
        version,
        file: fileName,
        sha256: digest.sha256,
        sizeBytes: digest.sizeBytes,
        node: pinnedNodeVersion(),
        spec: CODE_SERVER_SPEC,
      }
      await writeFile(join(tmp, 'built.json'), `${JSON.stringify(marker, null, 2)}\n`)
      await rename(tmp, join(o.cacheDir, 'current'))
    } catch (err) {
      await rm(tmp, { recursive: true, force: true })
      throw err
    }
    const built = await validBuild(o.cacheDir)
    if (!built)
      throw new Error(
        `the code-server build in ${join(o.cacheDir, 'current')} does not match its marker right after building; remove that directory and start again`,
      )
    return built
  } finally {
    await release()
  }
}

/** Puts the cached tarball into `dir` (hard link, else copy) under its own name, atomically. */
export async function linkInto(build: CachedBuild, dir: string): Promise<string> {
  const name = build.file.slice(build.file.lastIndexOf('/') + 1)
  const target = join(dir, name)
  const [src, existing] = await Promise.all([stat(build.file), stat(target).catch(() => undefined)])
  if (existing !== undefined && existing.ino === src.ino && existing.dev === src.dev) return target // already this very file
  const tmp = `${target}.${process.pid}.tmp`
  await mkdir(dirname(target), { recursive: true })
  await rm(tmp, { force: true })
  try {
    await link(build.file, tmp)
  } catch {
    await copyFile(build.file, tmp)
  }
  await rename(tmp, target)
  return target
}
