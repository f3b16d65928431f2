// The game's routes and wiring: PUT /game, GET /game, POST /game/start|stop|restart, the
// consoles (GET /game/console, GET /dev/console) and the mods routes, around one GameSupervisor
// whose state is published in the agent's state hub (GET /status, GET /events).
//
// Guarantees: the supervisor is re-attached (init) before the agent listens; agent shutdown
// (onClose) detaches from the game without stopping it.
import path from 'node:path'
import websocket from '@fastify/websocket'
import type { AgentContext, AgentRoutePlugin } from '../context.ts'
import type { GameInfo, GameSpecRequest } from '../../src/api/agent-game-types.ts'
import { ConfinedRoot } from '../files/confined-fs.ts'
import { envInt } from '../files/routes.ts'
import { registerConsoleRoutes } from '../console/routes.ts'
import type { FanoutOptions } from '../console/fanout.ts'
import { ModsManager } from '../mods/manager.ts'
import { registerModRoutes } from '../mods/routes.ts'
import type { Clock } from '../../src/platform/clock.ts'
import { gameSpecRequestSchema } from './spec.ts'
import { GameSupervisor, type SupervisorOptions } from './supervisor.ts'

export interface GameRoutesOptions {
  clock?: Clock
  /** Console limits (default from $ZLH_AGENT_CONSOLE_MAX_BUFFERED_BYTES, _BYTES_PER_WINDOW, _WINDOW_MS, else fanout.ts defaults). */
  fanout?: FanoutOptions
  supervisor?: Partial<SupervisorOptions>
}

/** The game's environment: the dev environment's runtime PATH and locale; HOME stays the agent's (the game runs as the agent's user). */
function gameEnv(ctx: AgentContext): Record<string, string> {
  const dev = ctx.devEnv.environment()
  const env: Record<string, string> = { PATH: dev.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: dev.LANG ?? 'C.UTF-8' }
  if (process.env.HOME) env.HOME = process.env.HOME
  if (process.env.TZ) env.TZ = process.env.TZ
  return env
}

export function createGameRoutes(options: GameRoutesOptions = {}): AgentRoutePlugin {
  return async (app, { ctx }) => {
    const log = ctx.log.child({ component: 'game' })
    const root = new ConfinedRoot(ctx.paths.game)
    let mods: ModsManager | null = null
    const supervisor = new GameSupervisor({
      stateDir: path.join(ctx.paths.state, 'game'),
      serverRoot: ctx.paths.game,
      logFile: path.join(ctx.paths.logs, 'game', 'console.log'),
      baseEnv: () => gameEnv(ctx),
      beforeStart: async () => { await mods?.applyPending() },
      logger: log,
      ...(options.clock ? { clock: options.clock } : {}),
      ...options.supervisor,
    })
    mods = new ModsManager({ root, stateDir: path.join(ctx.paths.state, 'mods'), isRunning: () => supervisor.running, onPending: () => supervisor.markRestartPending() })
    supervisor.on('state', (s) => ctx.hub.update('game', s))
    await supervisor.init()
    ctx.hub.update('game', supervisor.status())
    ctx.runtimes.on('switched', () => supervisor.markRestartPending())
    app.addHook('onClose', async () => { supervisor.detach() })

    await app.register(websocket, { options: { maxPayload: 1024 * 1024 } })

    const info = (): GameInfo => ({ ...supervisor.status(), spec: supervisor.currentSpec })
    app.put<{ Body: GameSpecRequest }>('/game', { schema: { tags: ['game'], body: gameSpecRequestSchema, summary: 'Set the game spec (GameServer server + supervision), optionally start/stop it' } }, async (req) => {
      await supervisor.applySpec(req.body)
      return info()
    })
    app.get('/game', { schema: { tags: ['game'], summary: 'Game state, last crash and the spec in force' } }, async () => info())
    app.post('/game/start', { schema: { tags: ['game'], summary: 'Start now (also out of Error or a pending backoff)' } }, async () => { await supervisor.start(); return info() })
    app.post('/game/stop', { schema: { tags: ['game'], summary: 'Graceful stop: stop command, SIGTERM, SIGKILL; lastStop says which ended it' } }, async () => { await supervisor.stop(); return info() })
    app.post('/game/restart', { schema: { tags: ['game'], summary: 'Graceful stop then start, applying pending spec and mod changes' } }, async () => { await supervisor.restart(); return info() })

    const fanout: FanoutOptions = options.fanout ?? {
      ...(envInt('ZLH_AGENT_CONSOLE_MAX_BUFFERED_BYTES') ? { maxBufferedBytes: envInt('ZLH_AGENT_CONSOLE_MAX_BUFFERED_BYTES') } : {}),
      ...(envInt('ZLH_AGENT_CONSOLE_BYTES_PER_WINDOW') ? { bytesPerWindow: envInt('ZLH_AGENT_CONSOLE_BYTES_PER_WINDOW') } : {}),
      ...(envInt('ZLH_AGENT_CONSOLE_WINDOW_MS') ? { windowMs: envInt('ZLH_AGENT_CONSOLE_WINDOW_MS') } : {}),
    }
    registerConsoleRoutes(app, {
      supervisor,
      log,
      fanout,
      dev: {
        cwd: () => ctx.paths.workspace,
        env: () => ctx.devEnv.environment(),
        runAs: () => ctx.devEnv.runAs,
        log,
      },
    })
    registerModRoutes(app, mods, supervisor)
  }
}

export const gameRoutes = createGameRoutes()
