// bench/e2e.ts — time from `kubectl apply` of N GameServers (process provider) to all Ready,
// and where the time goes: per server, when it first showed a vmid (container created), when
// Provisioned turned True (agent answering), RuntimeReady True (runtime installed) and Ready
// (game up, port answering). Whole system: embedded API server in-process, the controller as a
// child process (`zlh controller`), real agents, real kubectl, a loopback artifact server.
//
//   node bench/e2e.ts [--n 1,10,100] [--runtime launcher|real] [--concurrency 8]
//
// --runtime real: the node runtime tarball built from node_modules/node (50 MB download, 126 MB
// extracted per container). --runtime launcher (default): a runtime whose bin/node is a 2-line
// script exec-ing this machine's Node — same install path (download, sha256, extract, verify,
// switch) with a tiny artifact, so N=100 measures the control plane rather than disk bandwidth.
// The game is a small TCP program (one per server, own port). Not part of npm test.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { create as tarCreate } from 'tar'
import { stringify } from 'yaml'
import { createApiServer } from '../src/apiserver/index.ts'
import {
  buildNodeRuntime,
  fileDigest,
  pinnedNodeVersion,
  runtimeCatalog,
  startArtifactServer,
  type BuiltArtifact,
} from '../src/cli/artifacts/index.ts'
import { ProcessBackend, randomPortBaseBelowEphemeral } from '../src/providers/index.ts'

const REPO = resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1,10,100' },
    runtime: { type: 'string', default: 'launcher' },
    concurrency: { type: 'string', default: '8' },
  },
})
const sizes = String(values.n).split(',').map(Number)

async function launcherRuntime(dir: string): Promise<BuiltArtifact> {
  const version = pinnedNodeVersion()
  const staging = join(dir, 'launcher-staging')
  mkdirSync(join(staging, 'bin'), { recursive: true })
  writeFileSync(join(staging, 'bin', 'node'), `#!/bin/sh\nexec "${process.execPath}" "$@"\n`, { mode: 0o755 })
  const file = join(dir, `node-launcher-${version}.tar.gz`)
  await tarCreate({ gzip: true, cwd: staging, file, portable: true }, ['bin'])
  return { name: 'node', version, file, ...(await fileDigest(file)) }
}

function kubectl(env: Record<string, string>, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const c = execFile(
      'kubectl',
      [`--cache-dir=${env.CACHE}`, ...args],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: env.HOME as string, KUBECONFIG: env.KUBECONFIG as string },
        maxBuffer: 256 * 1024 * 1024,
      },
      (err, stdout, stderr) => (err ? rej(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : res(stdout)),
    )
    if (input !== undefined) c.stdin?.end(input)
  })
}

const program =
  "const s=require('net').createServer((c)=>{c.on('error',()=>{});c.end('hi\\n')}).listen(Number(process.env.SERVER_PORT));process.stdin.on('data',(d)=>{if(String(d).trim()==='stop')s.close(()=>process.exit(0))})"

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? NaN
}

async function runOnce(n: number, art: BuiltArtifact, artUrl: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-bench-e2e-'))
  const server = await createApiServer({ dataDir: join(dir, 'data'), port: 0 })
  const env = { HOME: join(dir, 'home'), CACHE: join(dir, 'cache'), KUBECONFIG: server.kubeconfigPath }
  const stateDir = join(dir, 'state')
  const portBase = randomPortBaseBelowEphemeral(5000 + n)
  const controller = spawn(
    process.execPath,
    [
      join(REPO, 'src/cli/main.ts'),
      'controller',
      '--kubeconfig',
      server.kubeconfigPath,
      '--state-dir',
      stateDir,
      '--concurrency',
      String(values.concurrency),
      '--orphan-interval-seconds',
      '600',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  )
  try {
    await kubectl(env, ['apply', '-f', join(REPO, 'crds')])
    await kubectl(
      env,
      ['apply', '-f', '-'],
      [
        runtimeCatalog(
          'node',
          [{ artifact: art, url: artUrl, verify: { command: ['bin/node', '--version'], expectOutput: `v${art.version}` } }],
          { stable: art.version },
        ),
        {
          apiVersion: 'zerolaghub.dev/v1alpha1',
          kind: 'ContainerProvider',
          metadata: { name: 'local' },
          spec: {
            type: 'process',
            default: true,
            process: { portRangeStart: portBase },
            outbound: { allowedSources: [`${new URL(artUrl).origin}/`] },
          },
        },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    )
    // Wait for the catalog to be verified so the measurement starts from a ready control plane.
    for (;;) {
      const rc = JSON.parse(await kubectl(env, ['get', 'runtimecatalog', 'node', '-o', 'json']))
      if (rc.status?.verifiedCount === 1) break
      await new Promise((r) => setTimeout(r, 200))
    }
    const manifests = Array.from({ length: n }, (_, i) =>
      stringify({
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'GameServer',
        metadata: { name: `gs-${i}`, namespace: 'default' },
        spec: {
          game: 'tcp-echo',
          runtime: { name: 'node', channel: 'stable' },
          server: { command: ['node', '-e', program], port: portBase + 5000 + i, gracePeriodSeconds: 2 },
          resources: { memoryMiB: 256 },
        },
      }),
    ).join('---\n')
    const t0 = performance.now()
    await kubectl(env, ['apply', '-f', '-'], manifests)
    const applied = performance.now() - t0
    const seen: Record<string, Record<string, number>> = {}
    for (;;) {
      const items = JSON.parse(await kubectl(env, ['get', 'gameservers', '-o', 'json'])).items as any[]
      const now = performance.now() - t0
      for (const o of items) {
        const s = (seen[o.metadata.name] ??= {})
        const cond = (type: string): boolean => o.status?.conditions?.some((c: any) => c.type === type && c.status === 'True')
        if (o.status?.vmid !== undefined) s.container ??= now
        if (cond('Provisioned')) s.agent ??= now
        if (cond('RuntimeReady')) s.installed ??= now
        if (cond('Ready')) s.ready ??= now
      }
      if (items.length === n && Object.values(seen).filter((s) => s.ready !== undefined).length === n) break
      if (now > 30 * 60_000) throw new Error('not all Ready within 30 min')
      await new Promise((r) => setTimeout(r, 250))
    }
    const all = Object.values(seen)
    const stage = (k: string): number[] => all.map((s) => s[k] as number)
    const delta = (a: string, b: string): number[] => all.map((s) => (s[b] as number) - (s[a] as number))
    const ms = (x: number): number => Math.round(x)
    return {
      n,
      applyMs: ms(applied),
      allReadyMs: ms(Math.max(...stage('ready'))),
      readyP50: ms(pct(stage('ready'), 0.5)),
      readyP95: ms(pct(stage('ready'), 0.95)),
      toContainerP50: ms(pct(stage('container'), 0.5)),
      containerToAgentP50: ms(pct(delta('container', 'agent'), 0.5)),
      agentToInstalledP50: ms(pct(delta('agent', 'installed'), 0.5)),
      installedToReadyP50: ms(pct(delta('installed', 'ready'), 0.5)),
    }
  } finally {
    // Tear down: delete through the controller would take as long again; stop everything directly.
    controller.kill('SIGKILL')
    const backend = new ProcessBackend({
      rootDir: join(stateDir, 'containers', 'local'),
      portRangeStart: portBase,
      cliPath: join(REPO, 'bin/zlh.js'),
    })
    for (const c of await backend.list().catch(() => [])) await backend.delete({ ownerUid: c.ownerUid, vmid: c.vmid }).catch(() => {})
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry)
      if (!Number.isInteger(pid)) continue
      try {
        if (readlinkSync(`/proc/${pid}/cwd`).startsWith(stateDir) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateDir))
          process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const artDir = mkdtempSync(join(tmpdir(), 'zlh-bench-art-'))
const art = values.runtime === 'real' ? await buildNodeRuntime(artDir) : await launcherRuntime(artDir)
const artServer = await startArtifactServer(artDir)
try {
  const url = artServer.url(art.file.split('/').pop() as string)
  console.log(`runtime=${values.runtime} (${art.sizeBytes} bytes) concurrency=${values.concurrency} node=${process.version}`)
  for (const n of sizes) console.log(JSON.stringify(await runOnce(n, art, url)))
} finally {
  await artServer.close()
  rmSync(artDir, { recursive: true, force: true })
}
