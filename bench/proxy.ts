// IDE proxy benchmark: the same loopback upstream (1 KiB HTTP responses, a WebSocket echo) measured
// direct, through our gateway (with a valid session cookie, so auth and routing are included) and
// through nginx (Debian package, 1 worker, upstream keepalive) as the proxy one would pick instead.
// HTTP: autocannon, 50 connections, fixed duration → req/s, p50, p99. WS: 50 sockets echoing with a
// fixed window of messages in flight each (default 16), fixed duration → messages/s.
//
//   node bench/proxy.ts [--duration 10] [--ws-duration 5] [--ws-window 16] [--rounds 1] [--haproxy] [--json]
//
// `--haproxy` adds a reference point (bench/haproxy-reference.ts): HAProxy doing the gateway's
// per-request cookie check and routing natively, i.e. a native proxy in front of the gateway.
// Two more reference points always run: bare http-proxy-3 (no auth, no routing) and the floor, a
// Node byte pipe that parses nothing — the least any Node proxy can cost per request.
//
// Every server runs as its own child process on 127.0.0.1 and is stopped at the end. Not part of
// `npm test`; results go to bench/RESULTS.md by hand.
// Size: one benchmark's scenarios and report, read top to bottom.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createServer, type IncomingMessage } from 'node:http'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import { WebSocket, WebSocketServer } from 'ws'
import { DEFAULT_SESSION_TTL_SECONDS, IdeSessionCookie } from '../src/gateway/ide/session-cookie.ts'
import { startHaproxyReference } from './haproxy-reference.ts'

const SUFFIX = 'bench.zlh'
const VMID = 1
const BODY = Buffer.alloc(1024, 'x')

// ---- child roles ------------------------------------------------------------------------------

async function runUpstream(): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
    }),
  )
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`))
}

async function runGateway(upstreamPort: number): Promise<void> {
  const { createGateway, InMemoryRouteTable } = await import('../src/gateway/index.ts')
  const routes = new InMemoryRouteTable()
  routes.set(VMID, { address: `127.0.0.1:${upstreamPort}`, ready: true, name: 'bench', namespace: 'bench', uid: 'bench-uid' })
  const gw = await createGateway({
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    routes,
    signingKey: Buffer.from(process.env.ZLH_BENCH_SIGNING_KEY!, 'base64'),
    publicPort: 'listen',
  })
  // Sign in through the real token exchange, as a browser would.
  const { token } = gw.mintIdeToken(VMID, 'bench', { apiTokenId: null })
  const cookie = await new Promise<string>((resolve, reject) => {
    fetchRaw(gw.port, `dev-${VMID}.${SUFFIX}:${gw.port}`, `/?token=${token}`, (res) => {
      const c = res.headers['set-cookie']?.[0]?.split(';')[0]
      if (res.statusCode === 302 && c) resolve(c)
      else reject(new Error(`token exchange failed: ${res.statusCode}`))
    })
  })
  process.stdout.write(`${JSON.stringify({ port: gw.port, cookie })}\n`)
}

/** Reference point: http-proxy-3 alone with the same keep-alive agent, no auth, no routing. */
async function runBareProxy(upstreamPort: number): Promise<void> {
  const { Agent } = await import('node:http')
  const { ProxyServer } = await import('http-proxy-3')
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' })
  const proxy = new ProxyServer({ ws: true })
  proxy.on('error', () => {})
  const target = { protocol: 'http:', host: '127.0.0.1', port: upstreamPort }
  const server = createServer((req, res) => proxy.web(req, res, { target, agent }))
  server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head, { target }))
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`))
}

/**
 * Floor: the cheapest proxy Node can be — each client connection piped byte for byte to its own
 * upstream connection, nothing parsed, checked or rewritten. No Node proxy that reads HTTP can
 * cost less per request than this.
 */
async function runBytePipe(upstreamPort: number): Promise<void> {
  const { createServer: createTcpServer, connect } = await import('node:net')
  const server = createTcpServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true })
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`))
}

/** The reference must be doing the gateway's checks: a valid session passes, each kind of bad request gets 403. */
async function checksLikeTheGateway(port: number, host: string, cookie: string, signingKey: Buffer): Promise<void> {
  const mint = (vmid: number, key = signingKey, ago = 0) =>
    new IdeSessionCookie(key, { now: () => Date.now() - ago })
      .issue({ vmid, uid: 'bench-uid', apiTokenId: null, user: 'bench' })
      .split(';')[0]!
  const cases: [string, string, Record<string, string>, number, string?][] = [
    ['valid session', '/bench/asset.js', { cookie }, 200],
    ['forged cookie', '/bench/asset.js', { cookie: mint(VMID, randomBytes(32)) }, 403],
    ['other vmid', '/bench/asset.js', { cookie: mint(VMID + 1) }, 403],
    ['two cookies', '/bench/asset.js', { cookie: `${cookie}; ${cookie}` }, 403],
    ['expired', '/bench/asset.js', { cookie: mint(VMID, signingKey, (DEFAULT_SESSION_TTL_SECONDS + 60) * 1000) }, 403],
    ['token in query', '/bench/asset.js?token=x', { cookie }, 403],
    ['foreign Origin', '/bench/asset.js', { cookie, origin: 'https://evil.example' }, 403, 'POST'],
    ['look-alike host', '/bench/asset.js', { cookie, host: host.replace(SUFFIX, `${SUFFIX}.evil`) }, 403],
  ]
  for (const [name, path, headers, want, method] of cases) {
    const status = await new Promise<number>((resolve) =>
      fetchRaw(port, headers.host ?? host, path, (res) => resolve(res.statusCode!), headers, method),
    )
    if (status !== want) throw new Error(`haproxy reference: ${name} answered ${status}, expected ${want}`)
  }
}

function fetchRaw(
  port: number,
  host: string,
  path: string,
  cb: (res: IncomingMessage) => void,
  headers: Record<string, string> = {},
  method = 'GET',
): void {
  import('node:http').then(({ request }) =>
    request({ host: '127.0.0.1', port, path, method, headers: { ...headers, host } }, (res) => {
      res.resume()
      cb(res)
    }).end(),
  )
}

// ---- orchestration ----------------------------------------------------------------------------

interface Child {
  proc: ChildProcess
  info: { port: number; cookie?: string }
}

async function startRole(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, [import.meta.filename, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  let buf = ''
  const info = await new Promise<Child['info']>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl !== -1) resolve(JSON.parse(buf.slice(0, nl)))
    })
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)))
  })
  return { proc, info }
}

async function startNginx(
  upstreamPort: number,
): Promise<{ port: number; pids: () => number[]; stop: () => Promise<void>; version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-bench-nginx-'))
  chmodSync(dir, 0o755)
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, d))
    chmodSync(join(dir, d), 0o777)
  }
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream code_server { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://code_server;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_read_timeout 3600s;
    }
  }
}
`,
  )
  const version = execFileSync('nginx', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || '' // nginx -v prints to stderr
  const proc = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] })
  const until = Date.now() + 10_000
  while (!(await canConnect(port))) {
    if (Date.now() > until) throw new Error('nginx did not start listening within 10 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port,
    version,
    // master + its one worker
    pids: () => [
      proc.pid!,
      ...readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    ],
    stop: async () => {
      proc.kill('SIGQUIT')
      await once(proc, 'exit')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy()
      resolve(true)
    })
    c.on('error', () => resolve(false))
  })
}

interface HttpResult {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  cpuUsPerReq: number
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** CPU time (user + system, µs) the processes have used: what a proxy costs, whatever else shares the machine. */
function cpuMicros(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
  }
  return (ticks * 1e6) / CLOCK_TICKS
}

async function http(port: number, headers: Record<string, string>, duration: number, pids: number[]): Promise<HttpResult> {
  const cpu0 = cpuMicros(pids)
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench/asset.js`, connections: 50, duration, headers })
  const cpuUsPerReq = (cpuMicros(pids) - cpu0) / Math.max(1, r.requests.total)
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, cpuUsPerReq }
}

interface WsResult {
  rate: number
  clientCpuPct: number
  cpuUsPerMsg: number
}

/**
 * Echo throughput with a fixed window of messages in flight per socket. Below saturation the rate
 * is window / round-trip time, so it is reported with the measuring client's CPU share (100 % =
 * the client is the bound) and the serving processes' CPU per message.
 */
async function wsThroughput(
  port: number,
  headers: Record<string, string>,
  origin: string,
  seconds: number,
  window: number,
  pids: number[],
): Promise<WsResult> {
  const SOCKETS = 50
  const payload = Buffer.alloc(128, 'm').toString()
  const sockets = await Promise.all(
    Array.from({ length: SOCKETS }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/bench/ws`, { headers, origin })
      await once(ws, 'open')
      return ws
    }),
  )
  let received = 0
  let running = true
  for (const ws of sockets) {
    ws.on('message', () => {
      received++
      if (running) ws.send(payload)
    })
    for (let i = 0; i < window; i++) ws.send(payload)
  }
  await new Promise((r) => setTimeout(r, 1000)) // warm-up
  const start = received
  const t0 = performance.now()
  const client0 = process.cpuUsage()
  const server0 = cpuMicros(pids)
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const elapsedS = (performance.now() - t0) / 1000
  const client = process.cpuUsage(client0)
  const messages = received - start
  const result = {
    rate: messages / elapsedS,
    clientCpuPct: (client.user + client.system) / 1e4 / elapsedS,
    cpuUsPerMsg: (cpuMicros(pids) - server0) / messages,
  }
  running = false
  await Promise.all(
    sockets.map((ws) => {
      ws.close()
      return once(ws, 'close')
    }),
  )
  return result
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(process.argv[i + 1])
}

async function main(): Promise<void> {
  const duration = arg('duration', 10)
  const wsSeconds = arg('ws-duration', 5)
  const rounds = arg('rounds', 1)
  const wsWindow = arg('ws-window', 16)
  const signingKey = randomBytes(32)
  const upstream = await startRole(['upstream'])
  const gateway = await startRole(['gateway', String(upstream.info.port)], { ZLH_BENCH_SIGNING_KEY: signingKey.toString('base64') })
  const bare = await startRole(['bare', String(upstream.info.port)])
  const pipe = await startRole(['pipe', String(upstream.info.port)])
  const nginx = await startNginx(upstream.info.port)
  const haproxy = process.argv.includes('--haproxy')
    ? await startHaproxyReference({
        port: await freePort(),
        signingKey,
        suffix: SUFFIX,
        routes: { [VMID]: `127.0.0.1:${upstream.info.port}` },
        sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS,
        canConnect,
      })
    : undefined
  const loadAtStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  const host = `dev-${VMID}.${SUFFIX}`
  const targets = [
    { name: 'direct', port: upstream.info.port, headers: {} as Record<string, string>, pids: () => [upstream.proc.pid!] },
    {
      name: 'gateway',
      port: gateway.info.port,
      headers: { host: `${host}:${gateway.info.port}`, cookie: gateway.info.cookie! },
      pids: () => [gateway.proc.pid!],
    },
    ...(haproxy
      ? [
          {
            name: 'haproxy + IDE checks',
            port: haproxy.port,
            headers: { host: `${host}:${haproxy.port}`, cookie: gateway.info.cookie! },
            pids: haproxy.pids,
          },
        ]
      : []),
    { name: 'nginx', port: nginx.port, headers: { host: `${host}:${nginx.port}` }, pids: nginx.pids },
    { name: 'bare http-proxy-3', port: bare.info.port, headers: { host: `${host}:${bare.info.port}` }, pids: () => [bare.proc.pid!] },
    { name: 'node byte pipe (floor)', port: pipe.info.port, headers: { host: `${host}:${pipe.info.port}` }, pids: () => [pipe.proc.pid!] },
  ]
  const results: Record<string, { http: HttpResult[]; ws: WsResult[] }> = {}
  try {
    if (haproxy) await checksLikeTheGateway(haproxy.port, `${host}:${haproxy.port}`, gateway.info.cookie!, signingKey)
    for (const t of targets) {
      results[t.name] = { http: [], ws: [] }
      await http(t.port, t.headers, 2, t.pids()) // warm-up: JIT, keep-alive pools
    }
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) {
        const h = await http(t.port, t.headers, duration, t.pids())
        // A proxy that answers wrongly is not measured; a stray timeout on a loaded machine is reported.
        if (h.non2xx) throw new Error(`${t.name}: ${h.non2xx} non-2xx responses`)
        if (h.errors) process.stderr.write(`${t.name}: ${h.errors} socket errors/timeouts\n`)
        results[t.name]!.http.push(h)
        process.stderr.write(
          `${t.name} http: ${h.rps.toFixed(0)} req/s p50 ${h.p50} ms p99 ${h.p99} ms, ${h.cpuUsPerReq.toFixed(1)} µs CPU/req\n`,
        )
      }
      // On a shared machine only same-round ratios compare like with like.
      const rps = (n: string) => results[n]!.http[round]!.rps
      process.stderr.write(
        `round ${round + 1}: gateway / nginx ${(rps('gateway') / rps('nginx')).toFixed(2)}×, floor / nginx ${(rps('node byte pipe (floor)') / rps('nginx')).toFixed(2)}×\n`,
      )
      for (const t of targets) {
        const origin = `https://${t.headers.host ?? host}`
        const w = await wsThroughput(t.port, t.headers, origin, wsSeconds, wsWindow, t.pids())
        results[t.name]!.ws.push(w)
        process.stderr.write(
          `${t.name} ws: ${w.rate.toFixed(0)} msg/s, client CPU ${w.clientCpuPct.toFixed(0)} %, ${w.cpuUsPerMsg.toFixed(2)} µs CPU/msg\n`,
        )
      }
    }
  } finally {
    await nginx.stop()
    await haproxy?.stop()
    for (const c of [gateway, bare, pipe, upstream]) {
      c.proc.kill()
      await once(c.proc, 'exit').catch(() => {})
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        cpu: median(r.http.map((h) => h.cpuUsPerReq)),
        rps: median(r.http.map((h) => h.rps)),
        p50: median(r.http.map((h) => h.p50)),
        p99: median(r.http.map((h) => h.p99)),
        wsMsgs: median(r.ws.map((w) => w.rate)),
        wsClientCpu: median(r.ws.map((w) => w.clientCpuPct)),
        wsCpu: median(r.ws.map((w) => w.cpuUsPerMsg)),
      },
    ]),
  )
  type Name = 'direct' | 'gateway' | 'haproxy + IDE checks' | 'nginx' | 'bare http-proxy-3' | 'node byte pipe (floor)'
  const s = summary as Record<
    Name,
    { cpu: number; rps: number; p50: number; p99: number; wsMsgs: number; wsClientCpu: number; wsCpu: number }
  >
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, ${execFileSync('sh', ['-c', 'nginx -v 2>&1'], { encoding: 'utf8' }).trim()}`
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ machine, duration, wsSeconds, wsWindow, rounds, summary }, null, 2))
    return
  }
  const row = (n: Name) =>
    `| ${n} | ${s[n].rps.toFixed(0)} | ${s[n].p50} | ${s[n].p99} | ${s[n].cpu.toFixed(1)} | ${s[n].wsMsgs.toFixed(0)} | ${s[n].wsClientCpu.toFixed(0)} | ${s[n].wsCpu.toFixed(2)} |`
  console.log(
    [
      `machine: ${machine}; load average at start ${loadAtStart}`,
      `command: node bench/proxy.ts --duration ${duration} --ws-duration ${wsSeconds} --ws-window ${wsWindow} --rounds ${rounds}`,
      '',
      '| target | HTTP req/s | p50 ms | p99 ms | CPU µs/req (server process) | WS msg/s | WS client CPU % | WS CPU µs/msg (server process) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...(['direct', 'gateway', 'haproxy + IDE checks', 'nginx', 'bare http-proxy-3', 'node byte pipe (floor)'] as const)
        .filter((n) => s[n])
        .map(row),
      '',
      `gateway / nginx: req/s ${(s.gateway.rps / s.nginx.rps).toFixed(2)}×, p99 ${s.gateway.p99} vs ${s.nginx.p99} ms; ` +
        `WS gateway / direct ${((100 * s.gateway.wsMsgs) / s.direct.wsMsgs).toFixed(0)} %, nginx / direct ${((100 * s.nginx.wsMsgs) / s.direct.wsMsgs).toFixed(0)} %; ` +
        `HTTP gateway / direct ${((100 * s.gateway.rps) / s.direct.rps).toFixed(0)} %; ` +
        `CPU per request gateway / nginx ${(s.gateway.cpu / s.nginx.cpu).toFixed(1)}×, gateway / bare http-proxy-3 ${(s.gateway.cpu / s['bare http-proxy-3'].cpu).toFixed(2)}×; ` +
        `floor (node byte pipe) / nginx: req/s ${(s['node byte pipe (floor)'].rps / s.nginx.rps).toFixed(2)}×, CPU per request ${(s['node byte pipe (floor)'].cpu / s.nginx.cpu).toFixed(1)}×` +
        (s['haproxy + IDE checks']
          ? `; haproxy + IDE checks / nginx: req/s ${(s['haproxy + IDE checks'].rps / s.nginx.rps).toFixed(2)}×, CPU per request ${(s['haproxy + IDE checks'].cpu / s.nginx.cpu).toFixed(1)}×`
          : ''),
    ].join('\n'),
  )
}

const role = process.argv[2]
// Exit cleanly on a signal so `--cpu-prof` can write its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0))
if (role === 'upstream') await runUpstream()
else if (role === 'gateway') await runGateway(Number(process.argv[3]))
else if (role === 'bare') await runBareProxy(Number(process.argv[3]))
else if (role === 'pipe') await runBytePipe(Number(process.argv[3]))
else await main()
