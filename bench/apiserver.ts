// Benchmark of the embedded API server (run: node bench/apiserver.ts [N ...]; default 1000 10000).
// The server runs as a child process (`zlh apiserver`, HTTPS, sqlite) so its RSS is its own; the
// client drives it with 16 concurrent keep-alive connections, like the kube-apiserver+etcd numbers
// in bench/RESULTS.md. Phases: create N custom objects, list all (whole and by 500), label-selector
// list, status merge-patch all, watch create→event latency, delete all.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request as httpsRequest } from 'node:https'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parse } from 'yaml'

const REPO = join(import.meta.dirname, '..')
const CONCURRENCY = 16
const GROUP = 'zerolaghub.dev'
const BASE = `/apis/${GROUP}/v1alpha1/namespaces/default/gameservers`

interface Server {
  url: string
  token: string
  ca: string
  pid: number
  stop: () => void
}

async function startServer(dataDir: string): Promise<Server> {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof") go to the server process.
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const child = spawn(
    process.execPath,
    [...flags, join(REPO, 'src', 'cli', 'main.ts'), 'apiserver', '--data-dir', dataDir, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const line = await new Promise<string>((resolve, reject) => {
    createInterface(child.stdout!).once('line', resolve)
    child.once('exit', (c) => reject(new Error(`apiserver exited (${c})`)))
  })
  const { url, kubeconfig } = JSON.parse(line) as { url: string; kubeconfig: string }
  const kc = parse(readFileSync(kubeconfig, 'utf8'))
  return {
    url,
    pid: child.pid!,
    token: kc.users[0].user.token,
    ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
    stop: () => child.kill('SIGTERM'),
  }
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

class Client {
  agent: Agent
  s: Server
  constructor(s: Server) {
    this.s = s
    this.agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: s.ca })
  }
  req(method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body)
      const headers: Record<string, string | number> = { authorization: `Bearer ${this.s.token}`, accept: 'application/json' }
      if (data !== undefined) {
        headers['content-type'] = type
        headers['content-length'] = Buffer.byteLength(data)
      }
      const r = httpsRequest(new URL(path, this.s.url), { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
      })
      r.on('error', reject)
      r.end(data)
    })
  }
}

function gameServer(i: number) {
  return {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'GameServer',
    metadata: { name: `bench-${i}`, labels: { 'bench/group': `g${i % 10}` } },
    spec: {
      game: 'minecraft',
      runtime: { name: 'node', channel: 'stable' },
      server: { command: ['node', 'server.js'], args: ['--port', '25565'], port: 25565 },
      resources: { cores: 1, memoryMiB: 1024, diskGiB: 4 },
    },
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

interface Phase {
  name: string
  n: number
  seconds: number
  p50?: number
  p99?: number
}

async function run(n: number, what: string, op: (i: number) => Promise<{ status: number; text: string }>, ok: number): Promise<Phase> {
  const lat: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++
        const s = performance.now()
        const r = await op(i)
        lat.push(performance.now() - s)
        if (r.status !== ok) throw new Error(`${what} ${i}: HTTP ${r.status} ${r.text.slice(0, 300)}`)
      }
    }),
  )
  return { name: what, n, seconds: (performance.now() - t0) / 1000, p50: pct(lat, 50), p99: pct(lat, 99) }
}

async function timed(name: string, n: number, f: () => Promise<void>): Promise<Phase> {
  const t0 = performance.now()
  await f()
  return { name, n, seconds: (performance.now() - t0) / 1000 }
}

async function watchLatency(c: Client, count: number): Promise<Phase> {
  const list = JSON.parse((await c.req('GET', `${BASE}?limit=1`)).text)
  const sent = new Map<string, number>()
  const lat: number[] = []
  let done: () => void
  const all = new Promise<void>((r) => {
    done = r
  })
  const watchAgent = new Agent({ keepAlive: false, ca: c.s.ca })
  const w = httpsRequest(
    new URL(`${BASE}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, c.s.url),
    { agent: watchAgent, headers: { authorization: `Bearer ${c.s.token}` } },
    (res) => {
      res.on('error', () => {})
      createInterface(res)
        .on('error', () => {})
        .on('line', (line) => {
          const e = JSON.parse(line)
          const t = sent.get(e.object.metadata?.name)
          if (e.type === 'ADDED' && t !== undefined) {
            lat.push(performance.now() - t)
            if (lat.length === count) done()
          }
        })
    },
  )
  w.on('error', () => {})
  w.end()
  await new Promise((r) => setTimeout(r, 200))
  for (let i = 0; i < count; i++) {
    const name = `watch-${i}`
    sent.set(name, performance.now())
    await c.req('POST', BASE, { ...gameServer(i), metadata: { name } })
  }
  await all
  w.destroy()
  watchAgent.destroy()
  for (let i = 0; i < count; i++) await c.req('DELETE', `${BASE}/watch-${i}`)
  return { name: 'watch create→event', n: count, seconds: 0, p50: pct(lat, 50), p99: pct(lat, 99) }
}

async function bench(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-bench-'))
  const s = await startServer(join(dir, 'data'))
  const c = new Client(s)
  try {
    const crd = parse(readFileSync(join(REPO, 'crds', 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
    const r = await c.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)
    if (r.status !== 201) throw new Error(r.text)
    const objBytes = JSON.stringify(gameServer(0)).length
    // Warm-up (not measured): open the 16 TLS connections and let the JIT see every code path.
    await run(400, 'warm-up create', (i) => c.req('POST', BASE, { ...gameServer(i), metadata: { name: `warm-${i}` } }), 201)
    await run(
      400,
      'warm-up patch',
      (i) => c.req('PATCH', `${BASE}/warm-${i}/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json'),
      200,
    )
    await run(400, 'warm-up delete', (i) => c.req('DELETE', `${BASE}/warm-${i}`), 200)
    const phases: Phase[] = []
    phases.push(await run(n, 'create', (i) => c.req('POST', BASE, gameServer(i)), 201))
    const loaded = rssMiB(s.pid)
    phases.push(
      await timed('list all', n, async () => {
        const l = JSON.parse((await c.req('GET', BASE)).text)
        if (l.items.length !== n) throw new Error(`listed ${l.items.length}`)
      }),
    )
    phases.push(
      await timed('list paginated by 500', n, async () => {
        let cont = ''
        let count = 0
        do {
          const l = JSON.parse((await c.req('GET', `${BASE}?limit=500${cont ? `&continue=${cont}` : ''}`)).text)
          count += l.items.length
          cont = l.metadata.continue ?? ''
        } while (cont)
        if (count !== n) throw new Error(`paged ${count}`)
      }),
    )
    phases.push(
      await timed('label-selector list', n / 10, async () => {
        const l = JSON.parse((await c.req('GET', `${BASE}?labelSelector=bench%2Fgroup%3Dg3`)).text)
        if (l.items.length !== n / 10) throw new Error(`selected ${l.items.length}`)
      }),
    )
    phases.push(
      await run(
        n,
        'status merge-patch',
        (i) => c.req('PATCH', `${BASE}/bench-${i}/status`, { status: { phase: 'Running', vmid: 100 + i } }, 'application/merge-patch+json'),
        200,
      ),
    )
    phases.push(await watchLatency(c, 200))
    const afterPatch = rssMiB(s.pid)
    phases.push(await run(n, 'delete', (i) => c.req('DELETE', `${BASE}/bench-${i}`), 200))
    console.log(
      `\n### N = ${n.toLocaleString('en')} (object ≈ ${(objBytes / 1024).toFixed(2)} KiB as sent, concurrency ${CONCURRENCY}, HTTPS)\n`,
    )
    console.log('| phase | objects/s | total | p50 | p99 |')
    console.log('| --- | ---: | ---: | ---: | ---: |')
    for (const p of phases) {
      const rate = p.seconds > 0 ? Math.round(p.n / p.seconds).toLocaleString('en') : '—'
      const total = p.seconds > 0 ? `${(p.seconds * 1000).toFixed(0)} ms` : '—'
      const f = (x?: number) => (x === undefined ? '—' : `${x.toFixed(1)} ms`)
      console.log(`| ${p.name} (${p.n.toLocaleString('en')}) | ${rate} | ${total} | ${f(p.p50)} | ${f(p.p99)} |`)
    }
    console.log(
      `\nServer RSS: ${loaded.rss.toFixed(0)} MiB loaded with ${n.toLocaleString('en')} objects, ${afterPatch.rss.toFixed(0)} MiB after patches, peak ${rssMiB(s.pid).peak.toFixed(0)} MiB.`,
    )
  } finally {
    c.agent.destroy()
    s.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0)
console.log(
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`,
)
for (const n of sizes.length ? sizes : [1000, 10000]) await bench(n)
