// Footprint benchmark: RSS and CPU of every long-lived process of zlh, against a bare-Node http
// server (.cjs) and a fastify hello world with a bearer check measured in the same run.
//
//   node bench/footprint.ts [--requests 1000] [--install-mib 100 | --install-files N] [--idle-sec 20] [--agent bundle|source]
//                           [--objects 5000] [--skip controller,plane,install] [--write]
//
// Measured, each in its own process started the way zlh starts it:
//  - baselines: idle RSS, RSS after N requests and CPU per request (bearer-checked GET);
//  - the agent (`--agent bundle`: the bundle providers start; `source`: `zlh agent` from the
//    sources): time from spawn to its first answered GET /status, RSS 1 s later and idle RSS
//    (--idle-sec after the first answer, with no request in between), RSS and CPU per
//    request after N authenticated GET /status, peak RSS (VmHWM) during a runtime install of an
//    --install-mib artifact served on loopback (4 MiB files of random bytes), or with --install-files
//    one of N small files (1–8 KiB of text, 100 per directory), the shape of a game package such
//    as flying-squid (7,384 entries);
//  - the game wrapper holding `sleep` (started by the agent's launcher, as the supervisor does);
//  - the controller's cache cost per object (bench/controller.ts: marginal RSS between two runs);
//  - the control plane (`zlh up`, process provider) idle CPU over --idle-sec.
// RSS is /proc/<pid>/status VmRSS (VmHWM for peaks); CPU is utime+stime from /proc/<pid>/stat.
// Everything is loopback, bounded in count and time, and removed at the end.
// --write records the table in bench/RESULTS.md (the "Footprint" section). Not part of npm test.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { launchRun, runFiles } from '../agent/game/launcher.ts'

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    'install-mib': { type: 'string', default: '100' },
    'install-files': { type: 'string', default: '0' },
    'idle-sec': { type: 'string', default: '20' },
    objects: { type: 'string', default: '5000' },
    agent: { type: 'string', default: 'bundle' },
    skip: { type: 'string', default: '' },
    'agent-node-flags': { type: 'string', default: '' },
    write: { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(args.requests)
/** How providers start the agent (built or taken from the cache on first use). */
const bundled = async () => (await import('../src/providers/agent-launch.ts')).agentLaunch(REPO)
const skip = new Set((args.skip as string).split(',').filter(Boolean))
const REPO = path.join(import.meta.dirname, '..')
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zlh-bench-footprint-'))
const children = new Set<ChildProcess>()
const killAll = (): void => {
  for (const c of children) c.kill('SIGKILL')
}
process.on('exit', () => {
  killAll()
  fs.rmSync(work, { recursive: true, force: true })
})
process.on('SIGINT', () => process.exit(130))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
function status(pid: number, key: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)![1]) / 1024
}
/** utime + stime of a process, in seconds. */
function cpuSec(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}
const mib = (x: number) => `${x.toFixed(1)} MiB`

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await Promise.race([gone, sleep(10_000).then(() => child.kill('SIGKILL'))])
  await gone
}

async function lineMatching(child: ChildProcess, test: (line: string) => string | undefined, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the process to report')), timeoutMs)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const hit = test(line)
      if (hit) {
        clearTimeout(timer)
        resolve(hit)
      }
    })
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before reporting`)))
  })
}

interface Served {
  idleRss: number
  /** RssAnon: the process's own memory, without the Node binary's pages every Node process shares */
  idlePrivate: number
  afterRss: number
  cpuPerRequestUs: number
}
/** N sequential keep-alive GETs with a bearer token; RSS before/after and CPU per request. */
async function hammer(pid: number, url: string, token: string): Promise<Served> {
  await sleep(1000)
  const idleRss = status(pid, 'VmRSS')
  const idlePrivate = status(pid, 'RssAnon')
  // Warm up (JIT, connection) outside the measurement.
  for (let i = 0; i < 50; i++) await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer()
  const c0 = cpuSec(pid)
  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`)
  }
  const cpuPerRequestUs = ((cpuSec(pid) - c0) / REQUESTS) * 1e6
  await sleep(500)
  return { idleRss, idlePrivate, afterRss: status(pid, 'VmRSS'), cpuPerRequestUs }
}

const TOKEN = randomBytes(24).toString('hex')
const listenLine = `function () { console.log('port ' + this.address().port) }`
const bearerCheck = `(h) => h === 'Bearer ${TOKEN}'`

async function baseline(name: string, file: string, source: string): Promise<Served> {
  const script = path.join(work, file)
  fs.writeFileSync(script, source)
  const child = track(spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO }))
  const port = await lineMatching(child, (l) => /^port (\d+)$/.exec(l)?.[1])
  const served = await hammer(child.pid!, `http://127.0.0.1:${port}/status`, TOKEN)
  await stop(child)
  console.error(`${name}: idle ${mib(served.idleRss)}, after ${mib(served.afterRss)}, ${served.cpuPerRequestUs.toFixed(0)} µs/req`)
  return served
}

const bareHttp = await baseline(
  'bare http',
  'bare.cjs',
  `const http = require('node:http'); const ok = ${bearerCheck}
  http.createServer((req, res) => {
    if (!ok(req.headers.authorization)) { res.writeHead(401).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}')
  }).listen(0, '127.0.0.1', ${listenLine})`,
)
const fastify = await baseline(
  'fastify',
  'fastify.cjs',
  `const app = require(${JSON.stringify(path.join(REPO, 'node_modules/fastify'))})(); const ok = ${bearerCheck}
  app.addHook('onRequest', async (req, reply) => { if (!ok(req.headers.authorization)) reply.code(401).send() })
  app.get('/status', async () => ({ hello: 'world' }))
  app.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log('port ' + app.server.address().port))`,
)

/** A gzipped tar of incompressible files, about `size` MiB. */
const INSTALL_FILES = Number(args['install-files'])
/** What the install row is about. */
const installLabel = INSTALL_FILES > 0 ? `an install of ${INSTALL_FILES} small files` : `a ${args['install-mib']} MiB install`

function makeArtifact(size: number, files: number): { file: string; sha256: string } {
  const src = path.join(work, 'artifact-src', 'runtime')
  fs.mkdirSync(path.join(src, 'bin'), { recursive: true })
  fs.writeFileSync(path.join(src, 'bin/tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 })
  if (files > 0) {
    for (let i = 0; i < files; i++) {
      const dir = path.join(src, 'lib', `d${Math.floor(i / 100)}`)
      if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, `f${i}.js`), randomBytes(512 + (i % 8) * 512).toString('base64'))
    }
  } else for (let i = 0; i < Math.ceil(size / 4); i++) fs.writeFileSync(path.join(src, `blob-${i}.bin`), randomBytes(4 * 1024 * 1024))
  const file = path.join(work, 'runtime.tar.gz')
  execFileSync('tar', ['-C', path.dirname(src), '-cf', file.replace(/\.gz$/, ''), 'runtime'])
  execFileSync('gzip', ['-1', '-f', file.replace(/\.gz$/, '')])
  fs.rmSync(path.dirname(src), { recursive: true, force: true })
  const hash = createHash('sha256')
  for (const chunk of readChunks(file)) hash.update(chunk)
  return { file, sha256: hash.digest('hex') }
}
function* readChunks(file: string): Generator<Buffer> {
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.alloc(1 << 20)
  try {
    for (let n; (n = fs.readSync(fd, buf)) > 0; ) yield buf.subarray(0, n)
  } finally {
    fs.closeSync(fd)
  }
}

interface AgentFigures extends Served {
  firstAnswerMs: number
  /** RSS 1 s after the first answer, before the start's garbage is collected */
  startRss: number
  installPeakRss?: number
  installMs?: number
}

async function measureAgent(): Promise<AgentFigures> {
  const root = fs.mkdtempSync(path.join(work, 'agent-'))
  const tokenFile = path.join(work, 'agent-token')
  fs.writeFileSync(tokenFile, TOKEN)
  const port = 20000 + Math.floor(Math.random() * 20000)
  const launch = args.agent === 'source' ? { command: process.execPath, args: [path.join(REPO, 'bin/zlh.js'), 'agent'] } : await bundled()
  const t0 = performance.now()
  const child = track(
    spawn(
      launch.command,
      [
        ...(args['agent-node-flags'] as string).split(' ').filter(Boolean),
        ...launch.args,
        '--root',
        root,
        '--listen',
        `127.0.0.1:${port}`,
        '--token-file',
        tokenFile,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: root },
    ),
  )
  const url = `http://127.0.0.1:${port}`
  let firstAnswerMs = Number.NaN
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const res = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined)
    if (res?.status === 200) {
      await res.arrayBuffer()
      firstAnswerMs = performance.now() - t0
      break
    }
    await sleep(5)
  }
  if (Number.isNaN(firstAnswerMs)) throw new Error('the agent did not answer within 30 s')
  // Idle is what an agent costs for the life of its container: measured once V8 has settled after
  // the start (its memory reducer collects a few seconds after the last activity), --idle-sec
  // after the first answer; the figure 1 s after the first answer is kept beside it.
  await sleep(1000)
  const startRss = status(child.pid!, 'VmRSS')
  await sleep(Math.max(0, Number(args['idle-sec']) * 1000 - 2000))
  const served = await hammer(child.pid!, `${url}/status`, TOKEN)
  const figures: AgentFigures = { ...served, firstAnswerMs, startRss }
  console.error(
    `agent (${args.agent}): first answer ${firstAnswerMs.toFixed(0)} ms, 1 s later ${mib(startRss)}, idle ${mib(served.idleRss)}, after ${mib(served.afterRss)}, ${served.cpuPerRequestUs.toFixed(0)} µs/req`,
  )
  if (!skip.has('install')) {
    const art = makeArtifact(Number(args['install-mib']), INSTALL_FILES)
    const server = track(
      spawn(
        process.execPath,
        [
          '-e',
          `require('node:http').createServer((req, res) => {
            const st = require('node:fs').statSync(${JSON.stringify(art.file)})
            res.writeHead(200, { 'content-length': st.size })
            require('node:fs').createReadStream(${JSON.stringify(art.file)}).pipe(res)
          }).listen(0, '127.0.0.1', ${listenLine})`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    )
    const artPort = await lineMatching(server, (l) => /^port (\d+)$/.exec(l)?.[1])
    const i0 = performance.now()
    const res = await fetch(`${url}/runtimes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bench',
        version: '1.0',
        url: `http://127.0.0.1:${artPort}/runtime.tar.gz`,
        sha256: art.sha256,
        outbound: { allowedSources: [`http://127.0.0.1:${artPort}/`] },
      }),
    })
    const body = (await res.json()) as { downloaded?: boolean }
    if (res.status !== 200 || !body.downloaded) throw new Error(`install failed: ${res.status} ${JSON.stringify(body)}`)
    figures.installMs = performance.now() - i0
    figures.installPeakRss = status(child.pid!, 'VmHWM')
    console.error(`agent ${installLabel}: ${figures.installMs.toFixed(0)} ms, peak ${mib(figures.installPeakRss)}`)
    await stop(server)
  }
  await stop(child)
  return figures
}

/** A game wrapper holding `sleep`, started by the agent's launcher: `wrapperScript`, else the one
 * the agent would start (wrapper.ts from the sources with --agent source). */
async function measureWrapper(wrapperScript?: string): Promise<{ rss: number; private: number }> {
  const dir = path.join(work, `wrapper-run-${path.basename(wrapperScript ?? 'source')}`)
  const files = runFiles(dir)
  const cfg = {
    runId: 'bench',
    command: 'sleep',
    args: ['600'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: work,
    logFile: path.join(dir, 'console.log'),
    logMaxBytes: 1 << 20,
    logKeep: 1,
  }
  const result = wrapperScript === undefined ? await launchRun(files, cfg) : await launchRun(files, cfg, 15_000, wrapperScript)
  if (!result.run) throw new Error(`the wrapper did not start the game: ${JSON.stringify(result.exit)}`)
  await sleep(1000)
  const rss = status(result.run.wrapperPid, 'VmRSS')
  const own = status(result.run.wrapperPid, 'RssAnon')
  process.kill(-result.run.gamePid, 'SIGTERM')
  for (let i = 0; i < 200 && fs.existsSync(`/proc/${result.run.wrapperPid}`); i++) await sleep(25)
  console.error(`wrapper ${path.basename(wrapperScript ?? 'wrapper.ts')}: ${mib(rss)} (private ${mib(own)})`)
  return { rss, private: own }
}

function measureController(): { perObjectBytes: number; raw: Record<string, unknown> } {
  const out = execFileSync(process.execPath, [path.join(REPO, 'bench/controller.ts'), '--objects', String(args.objects)], {
    encoding: 'utf8',
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  })
  const raw = JSON.parse(out) as Record<string, unknown>
  console.error(`controller: ${raw.marginalRssPerObjectBytes} B/object marginal, ${raw.rssPerObjectBytes} B/object from baseline`)
  return { perObjectBytes: raw.marginalRssPerObjectBytes as number, raw }
}

async function measureControlPlaneIdle(): Promise<{ cpuPercent: number; rss: number }> {
  const stateDir = path.join(work, 'up-state')
  const child = track(
    spawn(process.execPath, [path.join(REPO, 'bin/zlh.js'), 'up', '--state-dir', stateDir, '--json', '--no-code-server'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: REPO,
      env: { ...process.env, ZLH_STATE_DIR: stateDir },
    }),
  )
  await lineMatching(child, (l) => (l.includes('zlh ready') ? 'ready' : undefined), 120_000)
  await sleep(5000)
  const seconds = Number(args['idle-sec'])
  const c0 = cpuSec(child.pid!)
  const t0 = performance.now()
  await sleep(seconds * 1000)
  const cpuPercent = ((cpuSec(child.pid!) - c0) / ((performance.now() - t0) / 1000)) * 100
  const rss = status(child.pid!, 'VmRSS')
  await stop(child)
  console.error(`control plane idle: ${cpuPercent.toFixed(2)} % of a core over ${seconds} s, RSS ${mib(rss)}`)
  return { cpuPercent, rss }
}

const agent = await measureAgent()
// The bundle's wrapper is the native game-wrapper where the machine has a C compiler; wrapper.cjs,
// the Node fallback beside it, is measured too.
const wrapperFile = args.agent === 'source' ? undefined : (await bundled()).wrapperScript
const wrapper = await measureWrapper(wrapperFile)
const nodeWrapper =
  wrapperFile === undefined || wrapperFile.endsWith('.cjs')
    ? undefined
    : await measureWrapper(path.join(path.dirname(wrapperFile), 'wrapper.cjs'))
const controller = skip.has('controller') ? undefined : measureController()
const plane = skip.has('plane') ? undefined : await measureControlPlaneIdle()

const ok = (pass: boolean) => (pass ? 'met' : '**missed**')
const cpuRatio = agent.cpuPerRequestUs / fastify.cpuPerRequestUs
const rows = [
  [
    'bare Node `http` server (.cjs), bearer check',
    `${mib(bareHttp.idleRss)} idle, ${mib(bareHttp.afterRss)} after ${REQUESTS} GET; ${bareHttp.cpuPerRequestUs.toFixed(0)} µs CPU/GET`,
    'baseline',
    '',
  ],
  [
    'fastify hello world, bearer check (.cjs)',
    `${mib(fastify.idleRss)} idle, ${mib(fastify.afterRss)} after ${REQUESTS} GET; ${fastify.cpuPerRequestUs.toFixed(0)} µs CPU/GET`,
    'baseline',
    '',
  ],
  [
    `agent idle (${args['idle-sec']} s after its first answer)`,
    `${mib(agent.idleRss)} (private ${mib(agent.idlePrivate)}); 1 s after its first answer ${mib(agent.startRss)}`,
    '≤ 60 MiB',
    ok(agent.idleRss <= 60),
  ],
  [`agent after ${REQUESTS} GET /status`, mib(agent.afterRss), '', ''],
  [
    'agent CPU per GET /status',
    `${agent.cpuPerRequestUs.toFixed(0)} µs (${cpuRatio.toFixed(2)}× fastify)`,
    '≤ 2× fastify',
    ok(cpuRatio <= 2),
  ],
  ['agent first answer after spawn', `${agent.firstAnswerMs.toFixed(0)} ms`, '≤ 0.3 s', ok(agent.firstAnswerMs <= 300)],
  ...(agent.installPeakRss === undefined
    ? []
    : [
        [
          `agent peak (VmHWM) during ${installLabel}`,
          `${mib(agent.installPeakRss)} (install ${agent.installMs!.toFixed(0)} ms)`,
          '≤ 80 MiB',
          ok(agent.installPeakRss <= 80),
        ],
      ]),
  [
    `game wrapper holding \`sleep\` (${path.basename(wrapperFile ?? 'wrapper.ts')})`,
    `${mib(wrapper.rss)} (private ${mib(wrapper.private)})`,
    '≤ 16 MiB',
    ok(wrapper.rss <= 16) + (wrapper.rss > 16 && wrapper.private <= 16 ? ' (private: met)' : ''),
  ],
  ...(nodeWrapper
    ? [
        [
          'game wrapper, Node fallback (wrapper.cjs, no C compiler)',
          `${mib(nodeWrapper.rss)} (private ${mib(nodeWrapper.private)})`,
          '',
          '',
        ],
      ]
    : []),
  ...(controller
    ? [
        [
          `controller cache per object (${args.objects} objects)`,
          `heap ${controller.raw.marginalHeapPerObjectBytes} B marginal, ${controller.raw.heapPerObjectBytes} B from baseline; RSS ${controller.perObjectBytes} B marginal, ${controller.raw.rssPerObjectBytes} B from baseline (RSS ${controller.raw.rssWithPoolMiB} MiB before V8 returned the pages it pooled during the writes, ${((controller.raw.rssAfter as number) / 2 ** 20).toFixed(1)} MiB after)`,
          '< 2 KiB',
          `heap: ${ok((controller.raw.marginalHeapPerObjectBytes as number) < 2048)}; RSS: ${ok(controller.perObjectBytes < 2048)}`,
        ],
      ]
    : []),
  ...(plane
    ? [
        [
          `control plane (\`zlh up\`) idle CPU over ${args['idle-sec']} s`,
          `${plane.cpuPercent.toFixed(2)} % of a core (RSS ${mib(plane.rss)})`,
          '≤ 0.3 %',
          ok(plane.cpuPercent <= 0.3),
        ],
      ]
    : []),
]
const lines = [
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM, Linux ${os.release()}, Node ${process.version}; load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine); ${new Date().toISOString().slice(0, 16)}Z.`,
  `Command: \`node bench/footprint.ts ${process.argv
    .slice(2)
    .filter((a) => a !== '--write')
    .join(' ')}\` (agent: ${args.agent})`,
  '',
  '| process | measured | target | |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
]
console.log(lines.join('\n'))

if (args.write) {
  const file = path.join(REPO, 'bench/RESULTS.md')
  const begin = `<!-- footprint-${args.agent}:begin -->`
  const end = `<!-- footprint-${args.agent}:end -->`
  const section = [
    begin,
    `### Footprint, agent from the ${args.agent === 'source' ? 'sources (`zlh agent`)' : 'bundle'} (\`bench/footprint.ts\`)`,
    '',
    ...lines,
    end,
  ].join('\n')
  const text = fs.readFileSync(file, 'utf8')
  const next = text.includes(begin)
    ? text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length)
    : `${text.trimEnd()}\n\n${section}\n`
  fs.writeFileSync(file, next)
  console.error(`recorded in ${file}`)
}
killAll()
process.exit(0)
