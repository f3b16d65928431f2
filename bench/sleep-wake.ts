// bench/sleep-wake.ts — what sleeping costs and how fast a join wakes a game, at both sleep levels.
//
//   node bench/sleep-wake.ts [--n 1] [--rounds 2] [--hold-seconds 60] [--held 1000] [--part all|system|held]
//
// The whole system on the embedded default, as test/e2e/game-health.test.ts runs it: embedded API server
// in-process, `zlh controller` as a child process, the process provider's real agents, the real Node
// runtime and flying-squid package from a loopback artifact server, and `zlh gateway --minecraft-listen`
// as a child process (so its RSS is its own). N GameServers (flying-squid; spec.idle.stopAfterSeconds 5)
// go to sleep and are woken by a real Minecraft client (minecraft-protocol, offline mode) `rounds` times:
//   - level process: the game stops inside its container; the agent's front door holds the game port; the
//     bot joins the game port directly;
//   - level container: the container is stopped through the provider; the bot joins through the gateway's
//     router by host name (`<name>.games.test`), which asks the controller to wake it and holds the login.
// Wake latency = the bot's connect → the client reaches the play state (a login told to retry joins again
// after 1 s and the time counts on). Cost while asleep = the RSS (VmRSS) of every process left under the
// server's container directory, and the gateway's RSS before the servers existed vs with all of them asleep.
// --part held: what one held login costs the front door alone — a child process runs
// createMinecraftFrontDoor with a wake that never resolves, the bench opens `held` raw logins (handshake +
// Login Start) and reads the child's RSS and heap after a GC, before and with every login held.
// Loopback only; N at most 10, held at most 5000. Not part of npm test.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Test } from 'tap'
import { buildArtifacts, exampleGameServer, pidsUnder, startE2E } from '../test/e2e/harness.ts'
import net from 'node:net'
import { joinBot, loginBytes, type BotResult } from '../test/platform/game-protocol/fixtures.ts'
import { REPO } from '../test/apiserver/harness.ts'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    'hold-seconds': { type: 'string', default: '60' },
    held: { type: 'string', default: '1000' },
    part: { type: 'string', default: 'all' },
  },
})
const HELD = Math.min(5000, Math.max(1, Number(values.held)))
const PART = String(values.part)
const N = Math.min(10, Math.max(1, Number(values.n)))
const ROUNDS = Math.min(10, Math.max(1, Number(values.rounds)))
const HOLD_SECONDS = Math.min(60, Math.max(1, Number(values['hold-seconds'])))
const GAME_SUFFIX = 'games.test'

/** The teardown list a tap Test would keep, run last-in first-out at the end. */
function benchTest(): { t: Test; teardown: () => Promise<void> } {
  const fns: (() => unknown)[] = []
  const t = { teardown: (fn: () => unknown) => fns.push(fn), passing: () => true } as unknown as Test
  return {
    t,
    teardown: async () => {
      for (const fn of fns.reverse()) await Promise.resolve(fn()).catch((err) => console.error('teardown:', err))
    },
  }
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function joinAndPlay(port: number, name: string, host?: string): Promise<{ ms: number; tries: string[]; bot: BotResult }> {
  const started = performance.now()
  const tries: string[] = []
  for (let i = 0; i < 5; i++) {
    const bot = await joinBot(port, name, host ? { host } : {})
    tries.push(bot.outcome === 'play' ? 'play' : `${bot.outcome}: ${bot.reason ?? ''}`)
    if (bot.outcome === 'play') return { ms: performance.now() - started, tries, bot }
    bot.client.end()
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  throw new Error(`${name} never played: ${tries.join(' | ')}`)
}

/** The front door alone, in a child process: its RSS and heap idle and with HELD logins held. */
async function heldCost(): Promise<string> {
  const door = join(REPO, 'src/platform/game-protocol/front-door.ts')
  const script = `
    import { createMinecraftFrontDoor } from ${JSON.stringify(door)}
    const d = createMinecraftFrontDoor({ maxConnections: 100000, holdTimeoutMs: 60000,
      decide: () => ({ action: 'sleeping', motd: 'zzz', retryMessage: 'later', wake: () => new Promise(() => {}) }) })
    const a = await d.listen(0, '127.0.0.1')
    console.log(JSON.stringify({ port: a.port }))
    process.stdin.on('data', () => { globalThis.gc(); globalThis.gc()
      const m = process.memoryUsage(); console.log(JSON.stringify({ held: d.held, rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers })) })`
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: any[] = []
  let waiting: ((line: any) => void) | undefined
  let buffered = ''
  child.stdout.on('data', (chunk) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl))
      buffered = buffered.slice(nl + 1)
      if (waiting) {
        const w = waiting
        waiting = undefined
        w(line)
      } else lines.push(line)
    }
  })
  const next = (): Promise<any> => (lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => (waiting = resolve)))
  const measure = async (): Promise<{ held: number; rss: number; heap: number }> => {
    child.stdin.write('m\n')
    return next()
  }
  const sockets: net.Socket[] = []
  try {
    const { port } = await next()
    const idle = await measure()
    for (let i = 0; i < HELD; i++) {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.write(loginBytes(port, `s${i}.games.test`))
      sockets.push(socket)
      if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    let full = await measure()
    for (let i = 0; i < 100 && full.held < HELD; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      full = await measure()
    }
    const per = (a: number, b: number): string => `${((b - a) / full.held / 1024).toFixed(1)} KiB`
    return [
      `front door alone (child process): idle RSS ${(idle.rss / 2 ** 20).toFixed(1)} MiB; ${full.held} logins held: RSS ${(full.rss / 2 ** 20).toFixed(1)} MiB`,
      `per held login: ${per(idle.rss, full.rss)} RSS, ${per(idle.heap, full.heap)} JS heap + buffers (after GC)`,
    ].join('\n')
  } finally {
    for (const socket of sockets) socket.destroy()
    child.kill('SIGKILL')
  }
}

async function main(): Promise<void> {
  if (PART === 'held') {
    console.log(await heldCost())
    return
  }
  const run = benchTest()
  const startedAt = new Date()
  try {
    const art = await buildArtifacts(run.t)
    const e = await startE2E(run.t, art)
    await e.startController()
    // The gateway as its own process, with the Minecraft router on a port it picks.
    const gateway = spawn(
      process.execPath,
      [
        join(REPO, 'src/cli/main.ts'),
        'gateway',
        '--kubeconfig',
        e.credentials.gateway.kubeconfig,
        '--listen',
        '127.0.0.1:0',
        '--ide-suffix',
        'ide.test',
        '--minecraft-listen',
        '127.0.0.1:0',
        '--game-suffix',
        GAME_SUFFIX,
        '--minecraft-hold-seconds',
        String(HOLD_SECONDS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZLH_STATE_DIR: e.stateDir } },
    )
    run.t.teardown(() => gateway.kill('SIGTERM'))
    gateway.stderr.resume()
    const routerPort = await new Promise<number>((resolve, reject) => {
      let out = ''
      gateway.stdout.on('data', (chunk) => {
        out += chunk
        const m = /"msg":"minecraft router listening","address":"[^"]*:(\d+)"/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      gateway.once('exit', (code) => reject(new Error(`zlh gateway exited ${code}: ${out}`)))
    })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const gatewayBaseline = rssKiB(gateway.pid!)

    const names = Array.from({ length: N }, (_, i) => `sw${i}`)
    const portOf = (i: number): number => e.portBase + 200 + i
    const manifests = names.map((name, i) =>
      exampleGameServer(portOf(i))
        .replace('name: squid', `name: ${name}`)
        .replace(
          '  running: true',
          '  health:\n    periodSeconds: 1\n    timeoutSeconds: 2\n    initialDelaySeconds: 120\n  running: true',
        ),
    )
    await e.apply(manifests.join('---\n'))
    const awake: Record<string, number> = {}
    for (const name of names) {
      await e.waitFor(
        `${name} Ready`,
        'gameserver',
        name,
        (o: any) => o.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        600_000,
      )
    }
    const containerDir = async (name: string): Promise<string> =>
      join(e.stateDir, 'containers', 'local', 'containers', String((await e.get('gameserver', name)).status.vmid))
    for (const name of names) awake[name] = pidsUnder(await containerDir(name)).reduce((sum, pid) => sum + rssKiB(pid), 0)

    const results: Record<string, { wakeMs: number[]; tries: string[]; asleepKiB: number[]; processes: number[] }> = {}
    let gatewayAsleep = 0
    let objectBytes = 0
    for (const level of ['process', 'container'] as const) {
      const r = (results[level] = { wakeMs: [], tries: [], asleepKiB: [], processes: [] } as (typeof results)[string])
      for (const name of names) {
        await e.h.k('patch', 'gameserver', name, '--type=merge', '-p', JSON.stringify({ spec: { idle: { stopAfterSeconds: 5, level } } }))
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of names) {
          await e.waitFor(
            `${name} asleep (${level})`,
            'gameserver',
            name,
            (o: any) => o.status?.phase === 'Sleeping' && o.status.sleep?.level === level,
            300_000,
          )
        }
        // Let the stops settle (the game's exit, the container's processes) before reading RSS.
        await new Promise((resolve) => setTimeout(resolve, 2000))
        for (const name of names) {
          const pids = pidsUnder(await containerDir(name))
          r.processes.push(pids.length)
          r.asleepKiB.push(pids.reduce((sum, pid) => sum + rssKiB(pid), 0))
        }
        if (level === 'container') {
          gatewayAsleep = rssKiB(gateway.pid!)
          // What the gateway keeps per server: the GameServer in its informer cache (its JSON as a measure).
          objectBytes = JSON.stringify(await e.get('gameserver', names[0]!)).length
        }
        for (const [i, name] of names.entries()) {
          const woke =
            level === 'process'
              ? await joinAndPlay(portOf(i), `${name}_bot`)
              : await joinAndPlay(routerPort, `${name}_bot`, `${name}.${GAME_SUFFIX}`)
          r.wakeMs.push(woke.ms)
          r.tries.push(woke.tries.join(' → '))
          woke.bot.client.end()
        }
      }
    }

    const fmt = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
    const kib = (k: number): string => (k >= 1024 ? `${(k / 1024).toFixed(1)} MiB` : `${k} KiB`)
    const lines = [
      `sleep-wake bench, ${startedAt.toISOString()}, N=${N}, rounds=${ROUNDS}, hold ${HOLD_SECONDS} s`,
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      '',
      '| level | wake: join → playing (median / max) | logins told to retry | processes left per sleeping server | RSS left per sleeping server (median) | awake (agent + game) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...(['process', 'container'] as const).map((level) => {
        const r = results[level]!
        const retried = r.tries.filter((x) => x.includes('→')).length
        return `| ${level} | ${fmt(median(r.wakeMs))} / ${fmt(Math.max(...r.wakeMs))} | ${retried} of ${r.wakeMs.length} | ${median(r.processes)} | ${kib(median(r.asleepKiB))} | ${kib(median(Object.values(awake)))} |`
      }),
      '',
      `gateway (zlh gateway + router) RSS: ${kib(gatewayBaseline)} before any server, ${kib(gatewayAsleep)} with ${N} asleep at container level (RSS moves with GC by more than a server costs); per server it keeps the GameServer in its informer cache: ${(objectBytes / 1024).toFixed(1)} KiB of JSON`,
      `tries: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.tries])))}`,
    ]
    console.log(lines.join('\n'))
    if (PART === 'all') console.log(await heldCost())
  } finally {
    await run.teardown()
  }
}

await main()
process.exit(0)
