// GET /game/console and GET /dev/console: the WebSocket consoles. The game console is the game
// server's stdin/stdout through the supervisor (history first, then live output); the dev console
// is a login shell PTY per session (see dev-sessions.ts).
//
// Protocol: JSON text frames. Client → agent: {type:'input', data} | {type:'resize', cols, rows}.
// Agent → client: {type:'history', lines} | {type:'output', data} | {type:'state', state} |
// {type:'throttled', droppedBytes} | {type:'exit', exitCode, signal} | {type:'info', message}.
import type { FastifyInstance, FastifySchema } from 'fastify'
import type { GameSupervisor } from '../game/supervisor.ts'
import { ConsoleFanout, parseClientMessage, type FanoutOptions } from './fanout.ts'
import { DevConsoleSessions, SESSION_NAME, type DevShellOptions } from './dev-sessions.ts'
import { GameError } from '../game/errors.ts'

export interface ConsoleRoutesOptions {
  supervisor: GameSupervisor
  dev: DevShellOptions
  fanout?: FanoutOptions
  log: { warn(obj: object, msg: string): void }
  /** History lines sent to a game console viewer on join (default 200). */
  historyLines?: number
}

/** @fastify/websocket hides WebSocket routes from OpenAPI; the consoles are part of the API, so show them (as GET upgrades). */
const documented = {
  swaggerTransform: ({ schema, url }: { schema: FastifySchema; url: string }) => ({
    schema: { ...schema, hide: false } as FastifySchema,
    url,
  }),
}

/** Registers both console routes; @fastify/websocket must be registered on `app` already. */
export function registerConsoleRoutes(
  app: FastifyInstance,
  opts: ConsoleRoutesOptions,
): { gameFanout: ConsoleFanout; devSessions: DevConsoleSessions } {
  const { supervisor } = opts
  const gameFanout = new ConsoleFanout({
    ...opts.fanout,
    onSlowViewer: (buffered) => opts.log.warn({ buffered }, 'game console: cut off a viewer that stopped reading'),
  })
  supervisor.on('output', (d: Buffer) => gameFanout.output(d))
  supervisor.on('state', (s: { state: string }) => gameFanout.broadcast({ type: 'state', state: s.state as never }))
  supervisor.on('exit', (e: { exitCode: number | null; signal: string | null }) =>
    gameFanout.broadcast({ type: 'exit', exitCode: e.exitCode, signal: e.signal }),
  )
  const devSessions = new DevConsoleSessions({ ...opts.dev, fanout: { ...opts.fanout, ...opts.dev.fanout } })
  // An upgrade refused before @fastify/websocket saw it (e.g. 401 from the agent's auth hook) keeps
  // its raw socket half-open after the response, which would hold app.close() forever: end it.
  app.addHook('onResponse', async (req) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && !req.raw.socket.destroyed) req.raw.socket.destroy()
  })
  app.addHook('onClose', async () => {
    gameFanout.closeAll(1001, 'agent shutting down')
    await devSessions.closeAll()
  })

  app.get(
    '/game/console',
    { websocket: true, config: documented, schema: { tags: ['console'], summary: 'WebSocket: the game server console (stdin/stdout)' } },
    (socket) => {
      gameFanout.add(socket)
      gameFanout.send(socket, { type: 'history', lines: supervisor.ring.tail(opts.historyLines ?? 200) })
      gameFanout.send(socket, { type: 'state', state: supervisor.state })
      socket.on('message', (raw) => {
        const msg = parseClientMessage(raw)
        if (msg?.type === 'input') {
          if (!supervisor.writeInput(msg.data))
            gameFanout.send(socket, { type: 'info', message: `the game server is ${supervisor.state}; input was not delivered` })
        } else if (msg?.type === 'resize') {
          gameFanout.send(socket, { type: 'info', message: 'the game console is a pipe, not a terminal: resize has no effect' })
        }
      })
    },
  )

  app.get<{ Querystring: { session?: string } }>(
    '/dev/console',
    {
      websocket: true,
      config: documented,
      schema: {
        tags: ['console'],
        summary: 'WebSocket: a login shell as dev in the workspace',
        querystring: { type: 'object', properties: { session: { type: 'string' } } },
      },
      preValidation: async (req) => {
        const s = req.query.session
        if (s !== undefined && !SESSION_NAME.test(s)) throw new GameError('CONSOLE_SESSION_INVALID', JSON.stringify(s.slice(0, 80)))
      },
    },
    (socket, req) => {
      devSessions.attach(socket, req.query.session)
    },
  )

  return { gameFanout, devSessions }
}
