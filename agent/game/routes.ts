// The game's routes: PUT /game, GET /game, POST /game/start|stop|restart|wake, POST /game/command, the consoles
// (GET /game/console, GET /dev/console) and the mods routes, around the context's GameSupervisor
// and ModsManager. main.ts builds and wires both (state published in the hub, re-attached before
// the agent listens, detached at shutdown without stopping the game); this plugin only serves them.
import websocket from '@fastify/websocket'
import type { AgentRoutePlugin } from '../context.ts'
import type { GameCommandRequest, GameInfo, GameSpecRequest } from '../../src/api/agent-game-types.ts'
import { envInt } from '../files/routes.ts'
import { registerConsoleRoutes } from '../console/routes.ts'
import type { FanoutOptions } from '../console/fanout.ts'
import { registerModRoutes } from '../mods/routes.ts'
import { gameCommandRequestSchema, gameSpecRequestSchema } from './spec.ts'

export interface GameRoutesOptions {
  /** Console limits (default from $ZLH_AGENT_CONSOLE_MAX_BUFFERED_BYTES, _BYTES_PER_WINDOW, _WINDOW_MS, else fanout.ts defaults). */
  fanout?: FanoutOptions
}

export function createGameRoutes(options: GameRoutesOptions = {}): AgentRoutePlugin {
  return async (app, { ctx }) => {
    const log = ctx.log.child({ component: 'game' })
    const { game: supervisor, mods } = ctx
    await app.register(websocket, { options: { maxPayload: 1024 * 1024 } })

    const info = (): GameInfo => ({ ...supervisor.status(), spec: supervisor.currentSpec })
    app.put<{ Body: GameSpecRequest }>(
      '/game',
      {
        schema: {
          tags: ['game'],
          body: gameSpecRequestSchema,
          summary: 'Set the game spec (GameServer server, supervision, health, idle), optionally start/stop it',
        },
      },
      async (req) => {
        await supervisor.applySpec(req.body)
        return info()
      },
    )
    app.get('/game', { schema: { tags: ['game'], summary: 'Game state, last crash and the spec in force' } }, async () => info())
    app.post('/game/start', { schema: { tags: ['game'], summary: 'Start now (also out of Error or a pending backoff)' } }, async () => {
      await supervisor.start()
      return info()
    })
    app.post(
      '/game/stop',
      { schema: { tags: ['game'], summary: 'Graceful stop: stop command, SIGTERM, SIGKILL; lastStop says which ended it' } },
      async () => {
        await supervisor.stop()
        return info()
      },
    )
    app.post(
      '/game/restart',
      { schema: { tags: ['game'], summary: 'Graceful stop then start, applying pending spec and mod changes' } },
      async () => {
        await supervisor.restart()
        return info()
      },
    )

    app.post(
      '/game/wake',
      { schema: { tags: ['game'], summary: 'Wake a sleeping game (state Sleeping); 409 AGENT_GAME_NOT_SLEEPING otherwise' } },
      async () => {
        await supervisor.wake()
        return info()
      },
    )
    app.post<{ Body: GameCommandRequest }>(
      '/game/command',
      {
        schema: {
          tags: ['game'],
          body: gameCommandRequestSchema,
          summary: "Write one line to the game's console; 409 GAME_NOT_RUNNING when no game runs",
        },
      },
      async (req) => {
        supervisor.sendCommand(req.body.line)
        return { written: true }
      },
    )

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
