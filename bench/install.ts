// Benchmark: the agent installing a runtime artifact (download + sha256 + safe extraction +
// commit) versus the shell pipeline `curl | tee >(sha256sum) | tar -xz` on the same file, same
// server, same run; plus the agent's peak RSS (VmHWM) for two artifact sizes.
//
//   node bench/install.ts [--mib 100] [--small-mib 10] [--runs 3] [--write]
//
// --write records the results in bench/RESULTS.md (the "Agent runtime install" section);
// BENCH_DEBUG=1 echoes the agent's per-install log lines (download+extract vs commit time).
// Everything runs on loopback; the artifact server and the agent are separate processes.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '100' },
    'small-mib': { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
})
const runs = Number(args.runs)
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zlh-bench-install-'))
const children: ChildProcess[] = []
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  fs.rmSync(work, { recursive: true, force: true })
})

/** A gzipped tar of incompressible files, about `mib` MiB. */
function makeArtifact(mib: number): { file: string; sha256: string; bytes: number } {
  const src = path.join(work, `src-${mib}`, `runtime-${mib}`)
  fs.mkdirSync(path.join(src, 'bin'), { recursive: true })
  fs.writeFileSync(path.join(src, 'bin/tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 })
  const fileMiB = 4
  for (let i = 0; i < Math.ceil(mib / fileMiB); i++) fs.writeFileSync(path.join(src, `blob-${i}.bin`), randomBytes(fileMiB * 1024 * 1024))
  const file = path.join(work, `runtime-${mib}.tar.gz`)
  execFileSync('tar', ['-C', path.dirname(src), '-cf', file.replace(/\.gz$/, ''), path.basename(src)])
  execFileSync('gzip', ['-1', '-f', file.replace(/\.gz$/, '')])
  fs.rmSync(path.dirname(src), { recursive: true, force: true })
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex')
  return { file, sha256, bytes: fs.statSync(file).size }
}

async function lineMatching(child: ChildProcess, test: (line: string) => string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.on('line', (line) => {
      const hit = test(line)
      if (hit) resolve(hit)
    })
    child.once('exit', (code) => reject(new Error(`child exited (${code})`)))
  })
}

async function startFileServer(): Promise<string> {
  const script = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path')
    http.createServer((req, res) => {
      const file = path.join(${JSON.stringify(work)}, path.basename(decodeURIComponent(req.url)))
      fs.stat(file, (err, st) => {
        if (err) return res.writeHead(404).end()
        res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' })
        fs.createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res)
      })
    }).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port) })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const port = await lineMatching(child, (l) => /^port (\d+)$/.exec(l)?.[1])
  return `http://127.0.0.1:${port}`
}

async function startAgentProcess(root: string, token: string): Promise<{ child: ChildProcess; url: string }> {
  const tokenFile = path.join(work, `token-${path.basename(root)}`)
  fs.writeFileSync(tokenFile, token)
  const cli = new URL('../src/cli/main.ts', import.meta.url).pathname
  const child = spawn(process.execPath, [cli, 'agent', '--root', root, '--listen', '127.0.0.1:0', '--token-file', tokenFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const rl = createInterface({ input: child.stdout! })
  rl.on('line', (l) => {
    if (process.env.BENCH_DEBUG && /artifact downloaded|runtime installed/.test(l)) console.error(l)
  })
  const url = await lineMatching(child, (l) => {
    try {
      const ev = JSON.parse(l) as { msg?: string; url?: string }
      return ev.msg === 'agent listening' ? ev.url : undefined
    } catch {
      return undefined
    }
  })
  return { child, url }
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024
}

async function timeAgentInstall(agentUrl: string, token: string, url: string, sha256: string, version: string): Promise<number> {
  const t0 = performance.now()
  const res = await fetch(`${agentUrl}/runtimes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    // The agent downloads only from sources the request allows (the controller sends its policy).
    body: JSON.stringify({ name: 'bench', version, url, sha256, outbound: { allowedSources: [`${new URL(url).origin}/`] } }),
  })
  const body = (await res.json()) as { downloaded?: boolean; message?: string }
  if (res.status !== 200 || !body.downloaded) throw new Error(`agent install failed: ${res.status} ${JSON.stringify(body)}`)
  return performance.now() - t0
}

function timeShellPipeline(url: string, sha256: string): number {
  const dest = fs.mkdtempSync(path.join(work, 'shell-'))
  const sumFile = path.join(dest, '.sum')
  const t0 = performance.now()
  execFileSync('bash', [
    '-c',
    'set -o pipefail; curl -sSf "$1" | tee >(sha256sum > "$3") | tar -xzf - -C "$2"; wait',
    'bench',
    url,
    dest,
    sumFile,
  ])
  const ms = performance.now() - t0
  const got = fs.readFileSync(sumFile, 'utf8').split(' ')[0]
  if (got !== sha256) throw new Error(`shell pipeline sha256 ${got} != ${sha256}`)
  fs.rmSync(dest, { recursive: true, force: true })
  return ms
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function measure(
  mib: number,
  server: string,
  runsHere: number,
): Promise<{ mib: number; bytes: number; agent: number[]; shell: number[]; rss: number }> {
  const art = makeArtifact(mib)
  const url = `${server}/${path.basename(art.file)}`
  const token = randomBytes(24).toString('hex')
  const root = fs.mkdtempSync(path.join(work, `root-${mib}-`))
  const agent = await startAgentProcess(root, token)
  const agentMs: number[] = []
  const shellMs: number[] = []
  // Warm the page cache and both paths once, then alternate.
  timeShellPipeline(url, art.sha256)
  for (let i = 0; i < runsHere; i++) {
    agentMs.push(await timeAgentInstall(agent.url, token, url, art.sha256, `${i + 1}.0`))
    shellMs.push(timeShellPipeline(url, art.sha256))
    // Keep the disk from filling up across runs: drop the version just installed (not current).
    if (i > 0) await fetch(`${agent.url}/runtimes/bench/${i}.0`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
  }
  const rss = peakRssMiB(agent.child.pid!)
  agent.child.kill('SIGTERM')
  fs.rmSync(art.file, { force: true })
  return { mib, bytes: art.bytes, agent: agentMs, shell: shellMs, rss }
}

const server = await startFileServer()
const big = await measure(Number(args.mib), server, runs)
const small = await measure(Number(args['small-mib']), server, 1)
const ratio = median(big.agent) / median(big.shell)
const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
const lines = [
  `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM, Linux ${os.release()}, Node ${process.version}; loopback; load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine); ${new Date().toISOString().slice(0, 10)}.`,
  `Command: \`node bench/install.ts --mib ${args.mib} --small-mib ${args['small-mib']} --runs ${runs}\``,
  '',
  '| artifact | agent install (median of runs) | `curl \\| tee >(sha256sum) \\| tar -xz` | ratio | agent peak RSS (VmHWM) |',
  '| --- | --- | --- | --- | --- |',
  `| ${(big.bytes / 1024 ** 2).toFixed(1)} MiB tar.gz | ${median(big.agent).toFixed(0)} ms (${big.agent.map((x) => x.toFixed(0)).join(', ')}) | ${median(big.shell).toFixed(0)} ms (${big.shell.map((x) => x.toFixed(0)).join(', ')}) | ${ratio.toFixed(2)}× | ${big.rss.toFixed(0)} MiB |`,
  `| ${(small.bytes / 1024 ** 2).toFixed(1)} MiB tar.gz | ${median(small.agent).toFixed(0)} ms | ${median(small.shell).toFixed(0)} ms | ${(median(small.agent) / median(small.shell)).toFixed(2)}× | ${small.rss.toFixed(0)} MiB |`,
]
console.log(lines.join('\n'))

if (args.write) {
  const file = new URL('./RESULTS.md', import.meta.url).pathname
  const begin = '<!-- agent-install:begin -->'
  const end = '<!-- agent-install:end -->'
  const section = [
    begin,
    '## Agent runtime install (`bench/install.ts`)',
    '',
    "The agent's POST /runtimes (streaming download, sha256 while streaming, safe tar extraction into staging,",
    'marker + fsync, atomic rename, `current` switch, dev environment rewrite) against the shell pipeline on the',
    'same artifact from the same loopback server. Target: ≤ 1.1× the pipeline; peak RSS independent of size.',
    '',
    ...lines,
    '',
    'Reading it: the commit step (marker + fsync, rename, link switch, dev environment) is 15–60 ms of each',
    'install (BENCH_DEBUG=1); the rest is the streaming download+hash+extract. The shell pipeline spreads that',
    'work over five processes (curl, tee, sha256sum, tar, gzip); the agent hashes and parses tar on its main',
    "thread with gunzip on the libuv pool. On this shared 2-core machine (other engineers' test suites running)",
    'the 100 MiB ratio swung with the load between runs of this same command: 0.71×, 0.89× and 1.00× at load 5–10,',
    '1.37×–2.64× at load 8–25, where the five-process pipeline gets more of the contended CPUs than the',
    "agent's one busy thread. Moving extraction to a worker thread was tried and measured no faster here, so",
    'it was not kept. The ≤ 1.1× target is met at load ≤ 10 and missed under heavy contention. Peak RSS is flat',
    'in the artifact size (300 MiB artifact: 266 MiB, 100 MiB: 251–298 MiB, 52 MiB: 250 MiB, 12 MiB: 222 MiB;',
    'an idle agent is 186 MiB): the Node baseline plus lazily collected garbage, not buffered artifact bytes.',
    end,
  ].join('\n')
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n'
  const next = text.includes(begin)
    ? text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length)
    : `${text.trimEnd()}\n\n${section}\n`
  fs.writeFileSync(file, next)
  console.log(`recorded in ${file}`)
}
process.exit(0)
