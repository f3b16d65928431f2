// The game wrapper: a tiny detached process that owns the game server as its child, so the game
// survives the agent being restarted or killed. Its twin wrapper.c does the same in a static
// binary (what bundled agents start when it could be compiled); a change here is made there too,
// and test/agent/game/wrapper-conformance.test.ts holds both to the same cases.
//
// Expected flow:
//  1. The agent writes launch.json and spawns `node wrapper.ts <launch.json>` detached (own session).
//  2. The wrapper spawns the game in a new session/process group, writes run.json (the pid file)
//     and prints one `ready <json>` line on stdout, then never writes stdout again.
//  3. Game output goes to the rotating log and to every client of console.sock; bytes from a
//     client go to the game's stdin.
//  4. When the game exits, the wrapper writes exit.json atomically, closes clients and exits.
// Guarantees: exit.json exists for every game that was started, unless the wrapper itself was
// SIGKILLed. Output printed while no agent is connected is replayed to the next connection
// (the last BACKLOG_LIMIT bytes; the log file has all of it). The wrapper never buffers more than CLIENT_BUFFER_LIMIT per client (a stuck agent
// connection is dropped; the agent reconnects). SIGTERM/SIGINT/SIGHUP to the wrapper are passed
// to the game's process group instead of orphaning it.
import { ChildProcess, spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { oomCounterFile, readOomKills } from './cgroup-oom.ts'
import { processStartTime } from '../../src/platform/process-identity.ts'
import { RotatingLog } from './rotating-log.ts'
import { runMarker, type ExitInfo, type LaunchConfig, type RunInfo } from './wrapper-protocol.ts'
import { writeFileDurableSync } from '../../src/platform/durable-file.ts'

const CLIENT_BUFFER_LIMIT = 4 * 1024 * 1024
/** Output printed while no agent is connected (at start, or while the agent restarts), replayed to the next one. */
const BACKLOG_LIMIT = 256 * 1024

const cfg = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LaunchConfig
// The agent may be gone before it reads the ready line: a broken pipe must not take the game down.
process.stdout.on('error', () => undefined)
// Dying would orphan the game and lose its exit status; log (stderr is wrapper.log) and carry on.
process.on('uncaughtException', (err) => {
  console.error(`${new Date().toISOString()} game wrapper: ${err.stack ?? err}`)
})
const log = new RotatingLog(cfg.logFile, cfg.logMaxBytes, cfg.logKeep)
const clients = new Set<net.Socket>()
let backlog: Buffer[] = []
let backlogBytes = 0
// A marker line lets crash records take only this run's output from a log shared by all runs.
log.write(`${runMarker(cfg.runId)} ${new Date().toISOString()} ${[cfg.command, ...cfg.args].join(' ')}\n`)
if (cfg.cgroupDir) {
  // Join before spawning: the game inherits the cgroup from its first instruction on.
  writeFileSync(path.join(cfg.cgroupDir, 'cgroup.procs'), String(process.pid))
}
const oomFile = oomCounterFile('self')
const oomAtStart = readOomKills(oomFile)
let readySent = false

function sendReady(payload: unknown): void {
  if (readySent) return
  readySent = true
  process.stdout.write(`ready ${JSON.stringify(payload)}\n`)
  process.stdout.end()
}

function finish(exit: ExitInfo): void {
  // If the run directory is gone the status cannot be kept; the agent then records a lost run.
  // Either way the wrapper must close its clients and exit, or an attached agent would wait forever.
  try {
    writeFileDurableSync(cfg.exitFile, JSON.stringify(exit))
  } catch (err) {
    console.error(`${new Date().toISOString()} game wrapper: could not write ${cfg.exitFile}: ${(err as Error).message}`)
  }
  sendReady({ exit })
  for (const c of clients) c.end()
  server.close()
  try {
    rmSync(cfg.socketPath, { force: true })
  } catch {
    /* directory gone */
  }
  try {
    log.close()
  } catch {
    /* already closed */
  }
  // Give sockets a moment to flush their last bytes, then go.
  setTimeout(() => process.exit(0), 50).unref()
}

rmSync(cfg.socketPath, { force: true })
const server = net.createServer((sock) => {
  clients.add(sock)
  if (backlog.length > 0) {
    sock.write(Buffer.concat(backlog))
    backlog = []
    backlogBytes = 0
  }
  sock.on('data', (d) => {
    if (child.stdin?.writable) child.stdin.write(d)
  })
  sock.on('error', () => sock.destroy())
  sock.on('close', () => clients.delete(sock))
})
// Relative to the cwd (the run dir): deep roots would overflow sun_path with the absolute path.
server.listen(path.basename(cfg.socketPath))

const child = spawnGame()

/** The game's process; arguments spawn refuses outright (a NUL byte in the command, an argument,
 * the environment or the directory) throw instead of emitting 'error': they are reported the
 * same way, as a spawn failure, through a process object that never started. */
function spawnGame(): ChildProcess {
  try {
    return spawn(cfg.command, cfg.args, { cwd: cfg.cwd, env: cfg.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
  } catch (err) {
    const never = new ChildProcess()
    process.nextTick(() => never.emit('error', err))
    return never
  }
}
child.stdin?.on('error', () => {
  /* the game closed its stdin; input is dropped */
})

function output(chunk: Buffer): void {
  log.write(chunk)
  if (clients.size === 0) {
    backlog.push(chunk)
    backlogBytes += chunk.length
    while (backlogBytes > BACKLOG_LIMIT && backlog.length > 1) backlogBytes -= backlog.shift()!.length
    return
  }
  for (const c of clients) {
    if (c.writableLength > CLIENT_BUFFER_LIMIT) c.destroy()
    else c.write(chunk)
  }
}
child.stdout?.on('data', output)
child.stderr?.on('data', output)

child.on('spawn', () => {
  const pid = child.pid ?? 0
  const info: RunInfo = {
    runId: cfg.runId,
    wrapperPid: process.pid,
    wrapperStartTime: processStartTime(process.pid) ?? '',
    gamePid: pid,
    gameStartTime: processStartTime(pid) ?? '',
    startedAt: Date.now(),
    oomCounterFile: oomFile,
    oomKillsAtStart: oomAtStart,
  }
  writeFileDurableSync(cfg.runFile, JSON.stringify(info))
  sendReady({ run: info })
})

child.on('error', (err) => {
  // Only spawn failures reach here before 'spawn'; later errors (kill of a gone pid) are harmless.
  if (child.pid !== undefined) return
  const code = (err as NodeJS.ErrnoException).code
  const shown = JSON.stringify(cfg.command).slice(1, -1)
  const msg = `spawn ${shown} ${code ?? 'failed'}${code && err.message.includes(code) ? '' : `: ${err.message.replaceAll('\0', '\\0')}`}`
  output(Buffer.from(`[zlh] could not start the server: ${msg}\n`))
  finish({ runId: cfg.runId, exitCode: null, signal: null, exitedAt: Date.now(), oomKillsAtExit: readOomKills(oomFile), spawnError: msg })
})

child.on('exit', (code, signal) => {
  const exitedAt = Date.now()
  const done = (): void =>
    finish({ runId: cfg.runId, exitCode: code, signal, exitedAt, oomKillsAtExit: readOomKills(oomFile), spawnError: null })
  // Drain what the game printed last, but do not wait on grandchildren holding the pipes open.
  let pending = 2
  const timer = setTimeout(done, 500)
  const drained = (): void => {
    if (--pending === 0) {
      clearTimeout(timer)
      done()
    }
  }
  if (child.stdout && !child.stdout.readableEnded) child.stdout.once('end', drained)
  else drained()
  if (child.stderr && !child.stderr.readableEnded) child.stderr.once('end', drained)
  else drained()
})

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (child.pid) {
      try {
        process.kill(-child.pid, sig === 'SIGHUP' ? 'SIGTERM' : sig)
      } catch {
        /* already gone */
      }
    }
  })
}
