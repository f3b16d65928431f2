// The code-server artifact, built the first time a DevServer needs it: real code-server 4.x from
// its npm package (≈ 750 MB installed) plus the pinned Node binary, packed like code-server's
// release tarball (bin/code-server, lib/node, lib/node_modules), cached in the state dir and
// entered in the `code-server` RuntimeCatalog with its real sha256.
//
// Expected flow
//  1. Every few seconds: does a DevServer want code-server while no `code-server` catalog exists?
//  2. If so (once per process): npm install code-server@4 into <dir>/npm (progress: MB installed),
//     pack it, hash it, record <dir>/built.json, apply the catalog. A cached build is reused.
// Guarantees: a failed build leaves no catalog (the DevServer stays not-Ready with the
// controller's condition saying the runtime is missing) and is logged with npm's own error; it
// is retried on the next start, never replaced by a stand-in.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, copyFile, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { create as tarCreate } from 'tar'
import { fileDigest, runtimeCatalog, type ArtifactServer, type BuiltArtifact } from '../../../controller/artifacts/index.ts'
import { Client, isNotFound, serverSideApply, type KObject } from '../../runtime/index.ts'
import type { Progress } from '../progress.ts'

const projectDir = join(import.meta.dirname, '..', '..', '..')
const DEVSERVER = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' }
const RUNTIMECATALOG = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'RuntimeCatalog' }
export const CODE_SERVER_SPEC = 'code-server@4'

async function duBytes(dir: string): Promise<number> {
  let total = 0
  const walk = async (d: string): Promise<void> => {
    let entries
    try { entries = await readdir(d, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size
    }
  }
  await walk(dir)
  return total
}

function npmCommand(): { cmd: string, args: string[] } {
  // Under `npm start` npm tells us which npm it is; otherwise the one on PATH.
  const execpath = process.env.npm_execpath
  return execpath && execpath.endsWith('.js') ? { cmd: process.execPath, args: [execpath] } : { cmd: 'npm', args: [] }
}

/** npm install code-server@4 into dir/npm; rejects with npm's last output lines. */
async function npmInstall(dir: string, detail: (s: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true })
  if (!existsSync(join(dir, 'package.json'))) await writeFile(join(dir, 'package.json'), '{"name":"zlh-code-server-build","private":true}\n')
  const { cmd, args } = npmCommand()
  const child = spawn(cmd, [...args, 'install', '--no-audit', '--no-fund', '--no-save', CODE_SERVER_SPEC], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (b: Buffer): void => { tail = (tail + b.toString()).slice(-4000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const ticker = setInterval(() => { void duBytes(join(dir, 'node_modules')).then((n) => detail(`${(n / 1e6).toFixed(0)} MB installed of ≈750 MB`)) }, 2000)
  try {
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('exit', resolve) })
    if (code !== 0) throw new Error(`npm install ${CODE_SERVER_SPEC} failed (exit ${code}): ${tail.trim().split('\n').slice(-5).join(' | ')}`)
  } finally { clearInterval(ticker) }
}

/** Builds (or reuses) the artifact: npm tree and marker in workDir, the tarball in outDir. */
export async function buildCodeServer(dir: string, outDir: string, detail: (s: string) => void): Promise<BuiltArtifact> {
  const marker = join(dir, 'built.json')
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { version: string, file: string }
    if (existsSync(m.file)) return { name: 'code-server', version: m.version, file: m.file, ...(await fileDigest(m.file)) }
  }
  // The npm tree is installed where the tarball wants it (lib/node_modules), so packing follows
  // no links: code-server's own tree has dangling ones (.bin entries of dev tools).
  const root = join(dir, 'pkg')
  const npmDir = join(root, 'lib')
  const pkgJson = join(npmDir, 'node_modules', 'code-server', 'package.json')
  if (!existsSync(pkgJson)) await npmInstall(npmDir, detail)
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version
  const file = join(outDir, `code-server-${version}-x64.tar.gz`)
  await mkdir(join(root, 'bin'), { recursive: true })
  await writeFile(join(root, 'bin', 'code-server'), '#!/bin/sh\n# code-server with the Node it was packed with (like the release tarballs).\nd="$(dirname "$0")/.."\nexec "$d/lib/node" "$d/lib/node_modules/code-server/out/node/entry.js" "$@"\n', { mode: 0o755 })
  await copyFile(join(projectDir, 'node_modules', 'node', 'bin', 'node'), join(npmDir, 'node'))
  await chmod(join(npmDir, 'node'), 0o755)
  detail('packing')
  await tarCreate({ gzip: { level: 1 }, cwd: root, file: `${file}.part`, portable: true }, ['bin', 'lib/node', 'lib/node_modules'])
  await rename(`${file}.part`, file)
  await writeFile(marker, JSON.stringify({ version, file }))
  return { name: 'code-server', version, file, ...(await fileDigest(file)) }
}

export interface OnDemandOptions { client: Client, artifacts: ArtifactServer, dir: string, outDir: string, progress: Progress, log: Logger, intervalMs?: number }

export class CodeServerOnDemand {
  readonly #o: OnDemandOptions
  #timer: NodeJS.Timeout | undefined
  #building: Promise<void> | undefined
  #stopped = false

  constructor(o: OnDemandOptions) { this.#o = o }

  start(): void {
    const tick = (): void => {
      if (this.#stopped) return
      void this.#check().catch((err) => this.#o.log.warn({ err: (err as Error).message }, 'code-server check failed'))
        .finally(() => { if (!this.#stopped && this.#building === undefined) this.#timer = setTimeout(tick, this.#o.intervalMs ?? 3000) })
    }
    tick()
  }

  async #check(): Promise<void> {
    const list = await this.#o.client.list<KObject & { spec?: { codeServer?: { enabled?: boolean } } }>(DEVSERVER)
    if (!list.items.some((d) => d.spec?.codeServer?.enabled !== false)) return
    const fileName = (a: BuiltArtifact): string => a.file.slice(a.file.lastIndexOf('/') + 1)
    try {
      await this.#o.client.get(RUNTIMECATALOG, 'code-server')
      if (!existsSync(join(this.#o.dir, 'built.json'))) return // someone else's catalog: leave it
    } catch (err) { if (!isNotFound(err)) throw err }
    // Built (or cached) once per process; the catalog is (re)applied with this start's URL.
    this.#building = this.#o.progress.step(`building code-server (${CODE_SERVER_SPEC}) for DevServers`, (detail) => buildCodeServer(this.#o.dir, this.#o.outDir, detail))
      .then(async (a) => {
        if (this.#stopped) return
        const url = this.#o.artifacts.url(fileName(a))
        await serverSideApply(this.#o.client, runtimeCatalog('code-server', [{ artifact: a, url, verify: { command: ['bin/code-server', '--version'], expectOutput: a.version } }], { stable: a.version }) as KObject, { fieldManager: 'zlh-up' })
        this.#o.log.info({ version: a.version, sha256: a.sha256 }, 'code-server catalog applied')
      })
      .catch((err) => { this.#o.log.error({ err: (err as Error).message }, 'code-server build failed'); this.#o.progress.info(`code-server could not be built: ${(err as Error).message}`) })
    await this.#building
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }
}
