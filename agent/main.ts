// The agent's library entry point and composition root: startAgent() builds and wires every
// component (runtimes, dev environment, code-server, game supervisor, mods), recovers from
// whatever a crash left, serves the API (server.ts, whose route plugins only serve the context
// built here) and returns a handle whose close() is the graceful shutdown.
//
// Expected flow of close() (SIGTERM when `handleSignals`):
//   1. stop accepting connections and end the event streams (fastify preClose/close);
//   2. let in-flight installs finish for `installGraceMs`, roll back the rest;
//   3. detach from the game server and stop watching code-server — both keep running, and the
//      next agent adopts them.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { agentPaths } from './paths.ts'
import { StateHub } from './state.ts'
import { createAgentLogger } from './log.ts'
import type { Logger } from './log.ts'
import { createAgentServer } from './server.ts'
import { installProcessGuard } from './request-scope.ts'
import { TokenHolder } from './auth.ts'
import type { AgentContext, AgentRoutePlugin } from './context.ts'
import { RuntimeManager } from './runtimes/manager.ts'
import type { RuntimeManagerOptions } from './runtimes/manager.ts'
import { DevEnvironment } from './devenv/environment.ts'
import { CodeServerSupervisor } from './codeserver/supervisor.ts'
import type { CodeServerOptions } from './codeserver/supervisor.ts'
import { GameSupervisor, type SupervisorOptions } from './game/supervisor.ts'
import { ModsManager } from './mods/manager.ts'
import { ConfinedRoot } from './files/confined-fs.ts'
import type { Clock } from '../src/platform/clock.ts'
import { faultHookFromEnv } from './fault.ts'
import { agentVersion } from './version.ts'

export interface StartAgentOptions {
  /** every path lives under this directory (`/` inside a real container) */
  root: string
  /** host:port to listen on (default 127.0.0.1:0 — a random port) */
  listen?: string
  /** the bearer token, or a file holding it (first line) */
  token?: string
  tokenFile?: string
  /** with tokenFile absent: serve only POST /enroll until it delivers the token (written to tokenFile) */
  enroll?: boolean
  vmid?: string
  logger?: Logger
  logLevel?: string
  /** without `logger`: write the log to this file, size-rotated (default: stdout) */
  logFile?: string
  /** rotation bound of `logFile` (default 10 MiB, 2 old files kept) */
  logMaxBytes?: number
  /** how long shutdown waits for in-flight installs before rolling them back (default 10 s) */
  installGraceMs?: number
  runtimes?: Partial<Omit<RuntimeManagerOptions, 'paths' | 'log' | 'hub' | 'env' | 'onChanged'>>
  codeServer?: Partial<Omit<CodeServerOptions, 'paths' | 'log' | 'hub' | 'runtimes' | 'devEnv'>>
  /** the game supervisor's clock and options (tests, embedders) */
  game?: { clock?: Clock; supervisor?: Partial<SupervisorOptions> }
  /** the system part of the dev PATH */
  systemPath?: string
  /** extra route plugins (registered after the built-in list) */
  extraRoutePlugins?: AgentRoutePlugin[]
  /** install SIGTERM/SIGINT handlers that close the agent and exit (the CLI does) */
  handleSignals?: boolean
  /** install the process guard (request-scope.ts): an uncaught error of a request fails that
   * request instead of the process (the CLI does; an embedder keeps its own policy) */
  guardProcess?: boolean
}

export interface RunningAgent {
  url: string
  port: number
  ctx: AgentContext
  app: FastifyInstance
  close(): Promise<void>
}

/** The token from `token` or the token file; null when enrolling and the file does not exist yet. */
export async function readToken(opts: Pick<StartAgentOptions, 'token' | 'tokenFile' | 'enroll'>): Promise<string | null> {
  if (opts.token) return opts.token
  if (!opts.tokenFile) throw new Error('the agent needs a token: pass --token-file FILE')
  let text: string
  try {
    text = await fs.readFile(opts.tokenFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && opts.enroll) return null
    throw err
  }
  const token = text.split('\n')[0]!.trim()
  if (!token) throw new Error(`token file ${opts.tokenFile} is empty`)
  return token
}

/** The game's environment: the dev environment's runtime PATH and locale; HOME stays the agent's (the game runs as the agent's user). */
function gameEnvironment(devEnv: DevEnvironment): Record<string, string> {
  const dev = devEnv.environment()
  const env: Record<string, string> = { PATH: dev.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: dev.LANG ?? 'C.UTF-8' }
  if (process.env.HOME) env.HOME = process.env.HOME
  if (process.env.TZ) env.TZ = process.env.TZ
  return env
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen)
  if (!m) throw new Error(`--listen ${JSON.stringify(listen)} is not HOST:PORT`)
  return { host: m[1]!, port: Number(m[2]) }
}

export async function startAgent(opts: StartAgentOptions): Promise<RunningAgent> {
  const token = await readToken(opts)
  const tokens = new TokenHolder(token)
  const log =
    opts.logger ?? createAgentLogger({ vmid: opts.vmid, level: opts.logLevel, file: opts.logFile, fileMaxBytes: opts.logMaxBytes })
  const agentLog = log.child({ component: 'agent' })
  const unguard = opts.guardProcess ? installProcessGuard(agentLog) : () => undefined
  const paths = agentPaths(opts.root)
  const hub = new StateHub()
  const fault = faultHookFromEnv()
  await fs.mkdir(paths.state, { recursive: true })

  let devEnv: DevEnvironment | undefined
  const runtimes = new RuntimeManager({
    fault,
    ...opts.runtimes,
    paths,
    log,
    hub,
    env: () => devEnv!.environment(),
    onChanged: async () => {
      await devEnv!.apply()
      hub.update('devEnv', devEnv!.state())
    },
  })
  devEnv = new DevEnvironment({
    paths,
    log: log.child({ component: 'devenv' }),
    runtimeBins: () => runtimes.binDirs(),
    systemPath: opts.systemPath,
  })
  const codeServer = new CodeServerSupervisor({ ...opts.codeServer, paths, log, hub, runtimes, devEnv })
  const gameLog = log.child({ component: 'game' })
  let mods: ModsManager | undefined
  const game = new GameSupervisor({
    stateDir: path.join(paths.state, 'game'),
    serverRoot: paths.game,
    logFile: path.join(paths.logs, 'game', 'console.log'),
    baseEnv: () => gameEnvironment(devEnv!),
    beforeStart: async () => {
      await mods?.applyPending()
    },
    logger: gameLog,
    ...(opts.game?.clock ? { clock: opts.game.clock } : {}),
    ...opts.game?.supervisor,
  })
  mods = new ModsManager({
    root: new ConfinedRoot(paths.game),
    stateDir: path.join(paths.state, 'mods'),
    isRunning: () => game.running,
    onPending: () => game.markRestartPending(),
  })
  game.on('state', (s) => hub.update('game', s))
  runtimes.on('switched', () => game.markRestartPending())

  const ctx: AgentContext = {
    paths,
    hub,
    log,
    vmid: opts.vmid,
    startedAt: new Date(),
    runtimes,
    devEnv,
    codeServer,
    game,
    mods,
    provisioningComplete: false,
    shuttingDown: false,
  }
  hub.update('agent', { version: agentVersion, provisioningComplete: false })

  // Provisioning: repair the store first, so the environment is written from a consistent set.
  await runtimes.init()
  await devEnv.prepare()
  hub.update('devEnv', devEnv.state())
  // Every component's state is published before the agent answers; the slow part (starting
  // code-server and waiting for its health) runs after it listens.
  await codeServer.load()
  // The game server may have outlived the previous agent: adopt it before answering.
  await game.init()
  hub.update('game', game.status())

  const app = await createAgentServer({
    ctx,
    tokens,
    extraRoutePlugins: opts.extraRoutePlugins,
    enroll: opts.enroll && opts.tokenFile ? { tokenFile: opts.tokenFile } : undefined,
  })
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0')
  await app.listen({ host, port })
  const address = app.server.address()
  const realPort = typeof address === 'object' && address ? address.port : port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`

  await codeServer.resume()
  ctx.provisioningComplete = true
  hub.update('agent', { version: agentVersion, provisioningComplete: true })
  agentLog.info({ url, root: paths.root, version: agentVersion, waitingForEnrollment: !tokens.enrolled }, 'agent listening')

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.shuttingDown = true
      agentLog.info('agent shutting down: finishing or rolling back in-flight installs; game server and code-server keep running')
      const drained = runtimes.drain(opts.installGraceMs ?? 10_000)
      await Promise.all([app.close(), drained])
      game.detach()
      await codeServer.close()
      unguard()
      agentLog.info('agent stopped')
    })()
    return closing
  }

  if (opts.handleSignals) {
    const onSignal = (signal: NodeJS.Signals): void => {
      agentLog.info({ signal }, 'signal received')
      void close().then(
        () => process.exit(0),
        (err: Error) => {
          agentLog.error({ err: err.message }, 'shutdown failed')
          process.exit(1)
        },
      )
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  }

  return { url, port: realPort, ctx, app, close }
}
