// The agent's edges under attack: fuzzed archives against a live agent (a child process, so a
// crash shows as the process exiting), the start-up sweep of staging a crash left, every route
// without a token in several spellings, hostile JSON bodies, NUL bytes in the game spec, and a
// bounded log.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { deflateRawSync, gzipSync } from 'node:zlib'
import { buildTar, buildZip, type ZipEntrySpec } from '../agent/uploads/archive-builders.ts'
import { startTestAgent } from '../agent/helpers.ts'
import { agentRouteTable } from '../../agent/server.ts'
import { rawRequest } from './raw-http.ts'
import { launchRun, runFiles } from '../../agent/game/launcher.ts'
import { classifyExit } from '../../agent/game/classify.ts'

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname

interface LiveAgent {
  child: ChildProcess
  url: string
  port: number
  token: string
  root: string
  game: string
  out: string[]
}

/** `zlh agent` as a child process; resolves once it listens (its stdout says so, or its log file). */
async function spawnAgent(
  t: Test,
  opts: { args?: string[]; env?: Record<string, string>; root?: string; logFile?: string } = {},
): Promise<LiveAgent> {
  const root = opts.root ?? t.testdir()
  const token = randomBytes(24).toString('hex')
  const tokenFile = path.join(path.dirname(root), `${path.basename(root)}.token`)
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  t.teardown(() => fs.rmSync(tokenFile, { force: true }))
  const args = [
    cli,
    'agent',
    '--root',
    root,
    '--listen',
    '127.0.0.1:0',
    '--token-file',
    tokenFile,
    ...(opts.logFile ? ['--log-file', opts.logFile] : []),
    ...(opts.args ?? []),
  ]
  const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const out: string[] = []
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const listening = (line: string): string | undefined => {
    try {
      const ev = JSON.parse(line) as { msg?: string; url?: string }
      return ev.msg === 'agent listening' ? ev.url : undefined
    } catch {
      return undefined
    }
  }
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      out.push(line)
      const u = listening(line)
      if (u) resolve(u)
    })
    child.once('exit', (code) => reject(new Error(`agent exited (${code}) before listening: ${stderr.slice(0, 500)}`)))
    if (opts.logFile) {
      // With --log-file nothing comes on stdout: read the file until the line is there (bounded).
      const deadline = Date.now() + 30_000
      const poll = (): void => {
        const text = fs.existsSync(opts.logFile!) ? fs.readFileSync(opts.logFile!, 'utf8') : ''
        const u = text.split('\n').map(listening).find(Boolean)
        if (u) resolve(u)
        else if (Date.now() > deadline) reject(new Error('no "agent listening" line in the log file'))
        else setTimeout(poll, 50)
      }
      poll()
    }
  })
  return { child, url, port: Number(new URL(url).port), token, root, game: path.join(root, 'srv/game'), out }
}

const alive = (a: LiveAgent): boolean => a.child.exitCode === null && a.child.signalCode === null

async function post(a: LiveAgent, target: string, body: Buffer): Promise<{ status: number; code?: string; message?: string }> {
  try {
    const res = await fetch(a.url + target, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream' },
    })
    const json = (await res.json().catch(() => ({}))) as { code?: string; message?: string }
    return { status: res.status, ...json }
  } catch (err) {
    return { status: 0, message: `no answer: ${(err as Error).message}` }
  }
}

async function statusOk(a: LiveAgent): Promise<boolean> {
  try {
    return (await fetch(`${a.url}/status`, { headers: { authorization: `Bearer ${a.token}` } })).status === 200
  } catch {
    return false
  }
}

/** Every name under `dir` with the agent's reserved temp prefix (staging, temp files), links not followed. */
function tempLeftovers(dir: string): string[] {
  const found: string[] = []
  const walk = (d: string): void => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.name.startsWith('.zlh-tmp-')) {
        // The one staging directory may stay, empty.
        if (e.name === '.zlh-tmp-staging' && e.isDirectory() && fs.readdirSync(p).length === 0) continue
        found.push(path.relative(dir, p))
      } else if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return found
}

/** Deterministic incompressible bytes. */
function noise(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

function fuzzedArchives(): Array<[string, 'zip' | 'tar.gz', Buffer]> {
  const text = Buffer.from('fuzz '.repeat(2000))
  const ok: ZipEntrySpec = { name: 'fine.txt', data: 'fine' }
  const good = buildZip([ok, { name: 'data.bin', data: text, method: 8 }, { name: 'raw.bin', data: noise(3000) }])
  const cases: Array<[string, 'zip' | 'tar.gz', Buffer]> = [
    ['zip: deflated entry longer than its header says', 'zip', buildZip([ok, { name: 'a.txt', data: text, method: 8, declaredSize: 100 }])],
    [
      'zip: deflated entry shorter than its header says',
      'zip',
      buildZip([ok, { name: 'a.txt', data: text, method: 8, declaredSize: text.length * 2 }]),
    ],
    ['zip: corrupt deflate data', 'zip', buildZip([ok, { name: 'a.txt', data: text, method: 8, rawData: noise(200, 7) }])],
    [
      'zip: deflate data cut short',
      'zip',
      buildZip([ok, { name: 'a.txt', data: noise(4000), method: 8, rawData: deflateRawSync(noise(4000)).subarray(0, 1000) }]),
    ],
    [
      'zip: stored data longer than its header says (crc32 mismatch)',
      'zip',
      buildZip([ok, { name: 'a.txt', data: text, declaredSize: 10, declaredCompressedSize: 10 }]),
    ],
    [
      'zip: compressed size past the end of the file',
      'zip',
      buildZip([ok, { name: 'a.txt', data: text, method: 8, declaredCompressedSize: 0x7fffffff }]),
    ],
  ]
  // Truncated at several points: the central directory, the end record, the middle of data.
  for (const cut of [0.1, 0.35, 0.6, 0.9])
    cases.push([`zip: truncated at ${cut * 100}%`, 'zip', good.subarray(0, Math.floor(good.length * cut))])
  cases.push(['zip: truncated by 1 byte', 'zip', good.subarray(0, good.length - 1)])
  // A bad central directory: its signature, an entry's local header offset, the end record's offset.
  const cdStart = good.readUInt32LE(good.length - 22 + 16)
  const badSig = Buffer.from(good)
  badSig.writeUInt32LE(0xdeadbeef, cdStart)
  const badLocal = Buffer.from(good)
  badLocal.writeUInt32LE(7, cdStart + 46 + 'fine.txt'.length + 42)
  const pastEnd = Buffer.from(good)
  pastEnd.writeUInt32LE(good.length + 1000, good.length - 22 + 16)
  const localGarbage = Buffer.from(good)
  noise(30, 3).copy(localGarbage, 0)
  cases.push(['zip: central directory signature wrong', 'zip', badSig])
  cases.push(['zip: central directory points an entry at the middle of another', 'zip', badLocal])
  cases.push(['zip: end record points past the end of the file', 'zip', pastEnd])
  cases.push(['zip: a local header overwritten with garbage', 'zip', localGarbage])
  // tar.gz: truncated (incompressible data, so the cut lands inside the gzip stream) and garbage.
  const tgz = buildTar([
    { name: 'fine.txt', data: 'fine' },
    { name: 'big.bin', data: noise(20_000, 5) },
  ])
  cases.push(['tar.gz: truncated mid-stream', 'tar.gz', tgz.subarray(0, Math.floor(tgz.length / 2))])
  cases.push(['tar.gz: truncated by its trailer', 'tar.gz', tgz.subarray(0, tgz.length - 4)])
  const flipped = Buffer.from(tgz)
  noise(64, 9).copy(flipped, Math.floor(tgz.length / 3))
  cases.push(['tar.gz: garbage in the middle of the gzip stream', 'tar.gz', flipped])
  cases.push(['tar.gz: gzip magic then garbage', 'tar.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), noise(3000, 11)])])
  cases.push([
    'tar.gz: a gzipped tar whose last entry is cut',
    'tar.gz',
    gzipSync(buildTar([{ name: 'a.bin', data: noise(5000, 2) }], false).subarray(0, 2048)),
  ])
  return cases
}

t.test('fuzzed archives against a live agent: each a 4xx, the agent stays up, nothing written, no staging left', async (t) => {
  const a = await spawnAgent(t)
  const target = path.join(a.game, 'plugins')
  fs.mkdirSync(target, { recursive: true })
  for (const [what, format, body] of fuzzedArchives()) {
    const res = await post(a, `/uploads/plugins?extract=true&format=${format}`, body)
    t.ok(res.status >= 400 && res.status < 500, `${what}: a 4xx (${res.status} ${res.code ?? ''}: ${res.message?.slice(0, 160) ?? ''})`)
    t.match(res.code ?? '', /^ARCHIVE_(INVALID|TOO_LARGE|UNSAFE_ENTRY)$/, `${what}: an archive error code`)
    t.ok(alive(a) && (await statusOk(a)), `${what}: the agent still answers GET /status`)
    if (!alive(a)) break
  }
  t.same(fs.readdirSync(target), [], 'nothing from a refused archive reached the target')
  t.same(tempLeftovers(a.root), [], 'no staging or temp file left anywhere under the agent root')
  const good = await post(
    a,
    '/uploads/plugins?extract=true&format=zip',
    buildZip([
      { name: 'ok.txt', data: 'ok' },
      { name: 'd/deflated.txt', data: 'z'.repeat(5000), method: 8 },
    ]),
  )
  t.equal(good.status, 201, 'a good archive still extracts afterwards')
  t.equal(fs.readFileSync(path.join(target, 'd/deflated.txt'), 'utf8'), 'z'.repeat(5000))
})

t.test('entry count and declared size are refused before the first byte is written', async (t) => {
  const a = await spawnAgent(t, { env: { ZLH_AGENT_ARCHIVE_MAX_BYTES: String(1024 * 1024) } })
  const cases: Array<[string, Buffer]> = [
    // The default entry limit (20,000) + 1, each entry a real 1-byte file.
    ['20,001 entries', buildZip(Array.from({ length: 20_001 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })))],
    // Honest headers, 2 × 600 KiB of zeros (a few KiB deflated): the declared total is over 1 MiB.
    [
      'declared total over the limit',
      buildZip([
        { name: 'a.bin', data: Buffer.alloc(600 * 1024), method: 8 },
        { name: 'b.bin', data: Buffer.alloc(600 * 1024), method: 8 },
      ]),
    ],
  ]
  for (const [what, body] of cases) {
    const dir = path.join(a.game, `target-${cases.findIndex((c) => c[0] === what)}`)
    fs.mkdirSync(dir, { recursive: true })
    const before = fs.statSync(dir).mtimeMs
    const events: string[] = []
    const watcher = fs.watch(dir, (event, name) => events.push(`${event} ${name}`))
    const res = await post(a, `/uploads/${path.basename(dir)}?extract=true&format=zip`, body)
    watcher.close()
    t.equal(res.code, 'ARCHIVE_TOO_LARGE', `${what}: ARCHIVE_TOO_LARGE (${res.status}: ${res.message?.slice(0, 120) ?? ''})`)
    t.equal(res.status, 413, `${what}: 413`)
    t.same(events, [], `${what}: nothing was created in the target while the request ran`)
    t.equal(fs.statSync(dir).mtimeMs, before, `${what}: the target directory was never modified`)
    t.same(fs.readdirSync(dir), [], `${what}: no file appears`)
    t.notOk(fs.existsSync(path.join(a.game, '.zlh-tmp-staging')), `${what}: no staging directory was even created`)
    t.ok(alive(a) && (await statusOk(a)), `${what}: the agent still answers`)
  }
  t.same(tempLeftovers(a.root), [])
})

t.test('staging and temp files a crash left are swept when the agent starts', async (t) => {
  const root = t.testdir()
  const game = path.join(root, 'srv/game')
  const planted = [
    'plugins/.zlh-tmp-extract-0123456789ab/evil/leftover.txt',
    '.zlh-tmp-extract-aaaaaaaaaaaa/x.txt',
    'world/region/.zlh-tmp-4f4f4f4f4f4f',
    '.zlh-tmp-staging/deadbeefdeadbeef/plugins/x.jar',
  ]
  for (const p of planted) {
    fs.mkdirSync(path.dirname(path.join(game, p)), { recursive: true })
    fs.writeFileSync(path.join(game, p), 'stale')
  }
  fs.writeFileSync(path.join(game, 'world/region/r.0.0.mca'), 'keep')
  const a = await spawnAgent(t, { root })
  t.same(tempLeftovers(root), [], 'every stale staging directory and temp file is gone')
  t.equal(fs.readFileSync(path.join(game, 'world/region/r.0.0.mca'), 'utf8'), 'keep', "the server's own files stay")
  // The reserved names are not reachable through the file API either.
  for (const p of ['/files/.zlh-tmp-staging', '/files/plugins/.zlh-tmp-x', '/uploads/.zlh-tmp-staging/x.txt']) {
    const method = p.startsWith('/uploads') ? 'POST' : 'PUT'
    const res = await fetch(a.url + p, {
      method,
      body: 'x',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream' },
    })
    t.equal(res.status, 403, `${method} ${p} is refused`)
  }
  t.notOk(fs.existsSync(path.join(game, '.zlh-tmp-staging/x.txt')))
})

t.test('every agent route, without a token, in several spellings: only 400, 401 or 404', async (t) => {
  const root = t.testdir()
  const agent = await startTestAgent(root, { enroll: true, tokenFile: path.join(root, 'token-file') })
  t.teardown(() => agent.close())
  const table = agentRouteTable(agent.app)
  t.ok(table.length >= 20, `${table.length} routes in the table`)
  const port = agent.port
  const concrete = (url: string): string => url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x/y')
  const spellings = (p: string): string[] => {
    const encoded = p.replace(/^\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`)
    const upper = p.replace(/^\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    return [
      p,
      encoded,
      upper,
      `/${p}`,
      `${p}/`,
      `/.${p}`,
      `/x/..${p}`,
      `${p}%2F`,
      `${p};x`,
      `http://127.0.0.1:${port}${p}`,
      `http://evil${p}`,
      `HTTP://127.0.0.1${p}`,
      `${p}?x=1`,
    ]
  }
  let tried = 0
  for (const route of table) {
    for (const method of route.methods) {
      for (const target of spellings(concrete(route.url))) {
        const res = await rawRequest(port, target, {
          method,
          headers: { 'content-type': 'application/json' },
          body: method === 'GET' || method === 'HEAD' ? undefined : '{}',
        })
        tried++
        const allowed = route.open && target.includes('enroll') ? [400, 401, 404, 409] : [400, 401, 404]
        if (!allowed.includes(res.status)) t.fail(`${method} ${target} without a token answered ${res.status}: ${res.body.slice(0, 200)}`)
      }
    }
  }
  t.ok(tried > 200, `${tried} requests without a token, none accepted`)
  const abs = await rawRequest(port, `http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${agent.token}` } })
  t.equal(abs.status, 400, 'an absolute-form target is refused even with the token')
  t.match(abs.body, /REQUEST_TARGET_INVALID/)
  t.equal((await rawRequest(port, '/status', { headers: { authorization: `Bearer ${agent.token}` } })).status, 200, 'the normal form works')
  for (const target of ['/%65nroll', '/%45nroll', '//enroll', `http://127.0.0.1:${port}/enroll`]) {
    const res = await rawRequest(port, target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'a'.repeat(32) }),
    })
    t.ok([400, 401, 404, 409].includes(res.status), `POST ${target} opens nothing (${res.status})`)
  }
})

t.test(
  'hostile JSON bodies: too deep → 400 naming the limit, too large → 413 naming it, NUL in the game spec → 400 naming the field',
  async (t) => {
    const root = t.testdir()
    const agent = await startTestAgent(root)
    t.teardown(() => agent.close())
    const put = (body: string) => agent.request('/game', { method: 'PUT', body, headers: { 'content-type': 'application/json' } })
    const deep = '['.repeat(10_000) + ']'.repeat(10_000)
    let res = await put(deep)
    let json = (await res.json()) as { code: string; message: string }
    t.equal(res.status, 400, 'a 10,000-deep body is a 400')
    t.equal(json.code, 'BODY_TOO_DEEP')
    t.match(json.message, /64 levels/, 'the message names the depth limit')
    res = await put(JSON.stringify({ server: { command: ['x'], args: ['a'.repeat(2 * 1024 * 1024)] } }))
    json = (await res.json()) as { code: string; message: string }
    t.equal(res.status, 413, 'a 2 MiB body is a 413')
    t.equal(json.code, 'BODY_TOO_LARGE')
    t.match(json.message, /1048576 bytes/, 'the message names the size limit')
    const spec = () => ({
      server: { command: ['/bin/true'], args: ['a'], env: [{ name: 'A', value: 'b' }], workingDir: 'w', stopCommand: 'stop' },
      running: false,
    })
    const cases: Array<[string, (s: ReturnType<typeof spec>) => void]> = [
      [
        'server.command[0]',
        (s) => {
          s.server.command[0] = '/bin/tr\u0000ue'
        },
      ],
      [
        'server.args[0]',
        (s) => {
          s.server.args[0] = 'a\u0000b'
        },
      ],
      [
        'server.env[0].name',
        (s) => {
          s.server.env[0]!.name = 'A\u0000B'
        },
      ],
      [
        'server.env[0].value',
        (s) => {
          s.server.env[0]!.value = 'b\u0000c'
        },
      ],
      [
        'server.workingDir',
        (s) => {
          s.server.workingDir = 'w\u0000x'
        },
      ],
      [
        'server.stopCommand',
        (s) => {
          s.server.stopCommand = 'stop\u0000now'
        },
      ],
    ]
    for (const [field, mutate] of cases) {
      const s = spec()
      mutate(s)
      res = await put(JSON.stringify(s))
      json = (await res.json()) as { code: string; message: string }
      t.equal(res.status, 400, `NUL in ${field}: 400`)
      t.equal(json.code, 'FIELD_NUL_BYTE', `NUL in ${field}: FIELD_NUL_BYTE`)
      t.ok((json.message ?? '').includes(field), `the message names ${field}: ${json.message}`)
    }
    res = await put(JSON.stringify(spec()))
    t.equal(res.status, 200, 'the same spec without NUL is accepted')
  },
)

t.test('the agent log is rotated at its size bound, and an idle agent polled for status logs nothing', async (t) => {
  const dir = t.testdir()
  const logFile = path.join(dir, 'agent.log')
  const a = await spawnAgent(t, { logFile, args: ['--log-max-bytes', '4096'] })
  // Unauthenticated requests are logged (info): enough of them to rotate several times.
  for (let i = 0; i < 150; i++) await fetch(`${a.url}/status?n=${i}`).then((r) => r.arrayBuffer())
  const sizes = ['', '.1', '.2', '.3'].map((s) => (fs.existsSync(logFile + s) ? fs.statSync(logFile + s).size : -1))
  t.ok(sizes[0]! > 0 && sizes[0]! <= 4096 + 1024, `the live log is within its bound (${sizes[0]} bytes)`)
  t.ok(sizes[1]! > 0 && sizes[2]! > 0, 'two rotated files are kept')
  t.equal(sizes[3], -1, 'no third one: the total is bounded')

  const idle = await spawnAgent(t)
  const before = idle.out.length
  let ok = 0
  for (let i = 0; i < 30; i++) if (await statusOk(idle)) ok++
  t.equal(ok, 30, 'the polls succeed')
  // A refused request is logged: once its line is out, every earlier line is too.
  await fetch(`${idle.url}/status?marker=1`).then((r) => r.arrayBuffer())
  const deadline = Date.now() + 10_000
  while (!idle.out.some((l) => l.includes('marker=1') || l.includes('"statusCode":401')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  const lines = idle.out.slice(before).filter((l) => !l.includes('"statusCode":401'))
  t.same(lines, [], '30 successful status polls write no log line')
})

t.test('a spawn that still fails (NUL past the edge) is reported as a spawn failure, not "exit code 0"', async (t) => {
  const dir = t.testdir()
  const files = runFiles(path.join(dir, 'run'))
  const cases: Array<[string, Partial<{ command: string; args: string[]; env: Record<string, string> }>]> = [
    ['command', { command: '/bin/tr\u0000ue' }],
    ['args', { args: ['a\u0000b'] }],
    ['env', { env: { A: 'b\u0000c' } }],
  ]
  for (const [what, bad] of cases) {
    const result = await launchRun(files, {
      runId: `r-${what}`,
      command: '/bin/true',
      args: [],
      env: {},
      cwd: dir,
      logFile: path.join(dir, 'game.log'),
      logMaxBytes: 1 << 20,
      logKeep: 1,
      ...bad,
    })
    t.ok(result.exit, `${what}: the wrapper reports an exit instead of a run`)
    const spawnError = result.exit?.spawnError ?? ''
    t.match(
      spawnError,
      /^spawn .* (ERR_INVALID_ARG_VALUE|ERR_INVALID_ARG_TYPE)/,
      `${what}: the exit says the spawn failed and why (${spawnError.slice(0, 160)})`,
    )
    const verdict = classifyExit({ exitCode: result.exit?.exitCode ?? null, signal: null, oomKillDelta: null, logTail: [], spawnError })
    t.match(verdict.evidence ?? '', /could not be started: spawn/, `${what}: the crash record says so`)
    t.notMatch(verdict.evidence ?? '', /exit code 0/)
  }
})

t.test(
  'an uncaught error of a request in flight fails that request and the agent keeps serving; one outside any request still ends the process',
  async (t) => {
    const root = t.testdir()
    const token = randomBytes(24).toString('hex')
    const script = new URL('./fixtures/guarded-agent.ts', import.meta.url).pathname
    const child = spawn(process.execPath, [script, root, token], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    })
    let logs = ''
    child.stderr!.on('data', (d: Buffer) => {
      logs += d.toString()
    })
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        logs += `${line}\n`
        if (line.startsWith('URL ')) resolve(line.slice(4))
      })
      child.once('exit', (code) => reject(new Error(`exited (${code}) before listening: ${logs.slice(0, 400)}`)))
    })
    const get = (p: string) => fetch(url + p, { headers: { authorization: `Bearer ${token}` } })
    for (let i = 0; i < 3; i++) {
      const res = await get('/test/fail-in-request')
      t.equal(res.status, 500, `attempt ${i + 1}: the failing request gets 500`)
      t.equal(((await res.json()) as { code: string }).code, 'INTERNAL')
      t.equal((await get('/status')).status, 200, `attempt ${i + 1}: the agent still serves`)
    }
    t.match(logs, /uncaught error in a request: the request fails, the agent keeps serving/, 'each failure is logged with its request')
    t.match(logs, /stream broke during the request/)
    t.equal((await get('/test/fail-after-reply')).status, 200)
    t.equal(
      await exited,
      1,
      'an error no request in flight owns is fatal, as without the guard (exit 1, the supervisor restarts the agent)',
    )
    t.match(logs, /uncaught error outside any request/)
  },
)
