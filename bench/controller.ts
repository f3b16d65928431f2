// Controller benchmark: N custom objects, one controller whose reconcile is a status write,
// measured from manager start to every object reconciled. The API server runs in its own
// process (`zlh apiserver`) so this process's RSS is the controller's alone.
//
//   node bench/controller.ts [--objects 10000] [--workers 16] [--transform strip|metadata|none] [--reconcile status|none]
//
// Runs two measured child processes (node --expose-gc), each with its own API server: one with
// --objects and one with a fifth of them. Reports create rate, cache sync time, time to converge,
// reconciles/s, and memory per cached object two ways: RSS growth from a baseline taken just
// before the manager started, divided by the objects cached (includes fixed costs such as V8's
// young generation growing under load), and the marginal RSS per object between the two runs
// (fixed costs cancel out). Both readings follow a GC that also returns V8's pooled pages (see
// settle()). Not part of npm test.

import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { getHeapSpaceStatistics } from 'node:v8'
import { KubeConfig } from '@kubernetes/client-node'
import { Client } from '../src/runtime/client/client.ts'
import { Manager } from '../src/runtime/manager/manager.ts'
import { generationChanged } from '../src/runtime/controller/predicates.ts'
import { metadataOnly, stripManagedFields } from '../src/runtime/reflector/reflector.ts'
import { patchStatus } from '../src/runtime/status.ts'
import { silentLogger } from '../src/runtime/log.ts'
import { RuntimeMetrics } from '../src/runtime/metrics.ts'
import type { KObject } from '../src/runtime/client/objects.ts'

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '16' },
    transform: { type: 'string', default: 'strip' },
    // none: the reconcile only counts, so the cache's cost is measured without the status writes'
    reconcile: { type: 'string', default: 'status' },
    measure: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
})

if (!args.measure) {
  // Orchestrator: two measured runs in fresh processes, then the marginal cost per object.
  const run = (objects: number): Record<string, unknown> => {
    const flags = ['--expose-gc', ...(args['node-flags'] ? (args['node-flags'] as string).split(' ') : [])]
    const out = execFileSync(
      process.execPath,
      [
        ...flags,
        import.meta.filename,
        '--measure',
        '--objects',
        String(objects),
        '--workers',
        args.workers as string,
        '--transform',
        args.transform as string,
        '--reconcile',
        args.reconcile as string,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
    )
    return JSON.parse(out) as Record<string, unknown>
  }
  const big = run(Number(args.objects))
  const small = run(Math.round(Number(args.objects) / 5))
  const marginal = Math.round(
    ((big.rssAfter as number) - (small.rssAfter as number)) / ((big.cachedObjects as number) - (small.cachedObjects as number)),
  )
  const marginalHeap = Math.round(
    ((big.heapAfter as number) - (small.heapAfter as number)) / ((big.cachedObjects as number) - (small.cachedObjects as number)),
  )
  console.log(
    JSON.stringify(
      {
        ...big,
        smallRun: { objects: small.objects, convergeSec: small.convergeSec, rssPerObjectBytes: small.rssPerObjectBytes },
        marginalRssPerObjectBytes: marginal,
        marginalHeapPerObjectBytes: marginalHeap,
        nodeFlags: args['node-flags'],
      },
      null,
      2,
    ),
  )
  process.exit(0)
}
const N = Number(args.objects)
const WORKERS = Number(args.workers)
const transform = (
  { strip: stripManagedFields, metadata: metadataOnly, none: (o: KObject) => o } as Record<string, (o: KObject) => KObject>
)[args.transform as string]
if (!transform) throw new Error(`--transform must be strip, metadata or none, got ${args.transform}`)
const gc = (globalThis as { gc?: (options?: object) => void }).gc
/**
 * Collects everything and lets V8 give back the pages it keeps for reuse: after a burst of
 * requests its page pool holds what the heap peaked at (≈130 MB after 20,000 status writes), which
 * a plain gc() keeps committed and RSS counts. Both readings are taken after it, so the difference
 * is what the cache holds; the RSS before it is reported too (`rssWithPoolMiB`).
 */
const settle = (): void => {
  gc?.()
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}
if (gc === undefined) console.error('warning: run with node --expose-gc for stable memory numbers')

/** RSS split into anonymous (heap, malloc) and file-backed (the node binary's code paged in). */
function procStatus(): Record<string, number> {
  try {
    const text = readFileSync('/proc/self/status', 'utf8')
    return Object.fromEntries(['VmRSS', 'RssAnon', 'RssFile'].map((k) => [k, Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN)]))
  } catch {
    return {}
  }
}

const KIND = { apiVersion: 'bench.example.dev/v1', kind: 'Gadget' }
const crd: KObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.bench.example.dev' },
  spec: {
    group: 'bench.example.dev',
    scope: 'Namespaced',
    names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' }, description: { type: 'string' } } },
              status: { type: 'object', properties: { observedGeneration: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
}

const dir = mkdtempSync(join(tmpdir(), 'bench-controller-'))
const server = spawn(
  process.execPath,
  ['src/cli/main.ts', 'apiserver', '--data-dir', dir, '--port', '0', '--kubeconfig', join(dir, 'kubeconfig')],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const serverExited = new Promise((resolve) => server.once('exit', resolve))
// Remove the data dir only once the server has exited: it writes its database while closing.
const cleanup = async (): Promise<void> => {
  server.kill('SIGTERM')
  await serverExited
  rmSync(dir, { recursive: true, force: true })
}
try {
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`apiserver exited with ${code}`)))
    createInterface({ input: server.stdout }).on('line', (l) => {
      if (l.includes('apiserver serving')) resolve()
    })
  })
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(join(dir, 'kubeconfig'))
  const client = new Client(kubeConfig)
  await client.create(crd)
  for (;;) {
    try {
      await client.resource(KIND)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } })

  const description = 'x'.repeat(300)
  let next = 0
  const c0 = performance.now()
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++
        await client.create({
          ...KIND,
          metadata: { name: `g${i}`, namespace: 'bench', labels: { app: 'bench', shard: String(i % 10) } },
          spec: { size: i, description },
        })
      }
    }),
  )
  const createSec = (performance.now() - c0) / 1000
  client.close()

  await new Promise((r) => setTimeout(r, 8000))
  settle()
  const base = process.memoryUsage()
  const procBase = procStatus()
  const spaces = (): Record<string, number> =>
    Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, +(x.space_size / 2 ** 20).toFixed(1)]))
  const baseSpaces = spaces()
  const mgr = new Manager({ kubeConfig, logger: silentLogger(), metrics: new RuntimeMetrics(), cache: { transform, pageSize: 500 } })
  const reconciled = new Set<string>()
  let reconciles = 0
  let done!: () => void
  const converged = new Promise<void>((resolve) => {
    done = resolve
  })
  mgr
    .controller('bench')
    .for(KIND, { predicates: [generationChanged] })
    .withOptions({ maxConcurrentReconciles: WORKERS })
    .complete(async (req, ctx) => {
      const obj = mgr.reflectorFor(KIND).store.getByName(req.name, req.namespace)
      if (obj === undefined) return
      if (args.reconcile === 'status')
        await patchStatus(
          mgr.client,
          KIND,
          req.name,
          req.namespace,
          { observedGeneration: obj.metadata?.generation },
          { signal: ctx.signal },
        )
      reconciles++
      reconciled.add(`${req.namespace}/${req.name}`)
      if (reconciled.size === N) done()
    })
  const t0 = performance.now()
  const run = mgr.start()
  await mgr.reflectorFor(KIND).waitForSync()
  const syncSec = (performance.now() - t0) / 1000
  await converged
  const convergeSec = (performance.now() - t0) / 1000
  // Measure at rest, as a long-running controller sits between bursts: V8's memory reducer
  // shrinks the young generation and returns pooled pages a few seconds after activity stops.
  await new Promise((r) => setTimeout(r, 8000))
  gc?.()
  gc?.()
  const rssWithPool = process.memoryUsage().rss
  settle()
  const after = process.memoryUsage()
  const procAfter = procStatus()
  const afterSpaces = spaces()
  const cached = mgr.reflectorFor(KIND).store.size
  mgr.stop()
  await run
  const result = {
    objects: N,
    workers: WORKERS,
    transform: args.transform,
    createPerSec: Math.round(N / createSec),
    cacheSyncSec: +syncSec.toFixed(2),
    convergeSec: +convergeSec.toFixed(2),
    reconcilesPerSec: Math.round(reconciles / convergeSec),
    cachedObjects: cached,
    rssPerObjectBytes: Math.round((after.rss - base.rss) / cached),
    heapPerObjectBytes: Math.round((after.heapUsed - base.heapUsed) / cached),
    baselineRssMiB: +(base.rss / 2 ** 20).toFixed(1),
    rssWithPoolMiB: +(rssWithPool / 2 ** 20).toFixed(1),
    rssAfter: after.rss,
    heapAfter: after.heapUsed,
    memoryMiB: Object.fromEntries(
      (['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const).map((k) => [
        k,
        `${(base[k] / 2 ** 20).toFixed(1)} → ${(after[k] / 2 ** 20).toFixed(1)}`,
      ]),
    ),
    procStatusKiB: Object.fromEntries(Object.keys(procAfter).map((k) => [k, `${procBase[k]} → ${procAfter[k]}`])),
    heapSpacesMiB: Object.fromEntries(Object.keys(afterSpaces).map((k) => [k, `${baseSpaces[k]} → ${afterSpaces[k]}`])),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
  }
  console.log(JSON.stringify(result))
} finally {
  await cleanup()
}
