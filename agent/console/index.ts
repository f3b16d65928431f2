// Consoles: WebSocket fan-out with throttling and backpressure, dev shell sessions, routes.
export { ConsoleFanout, parseClientMessage, type FanoutOptions } from './fanout.ts'
export { DevConsoleSessions, type DevShellOptions } from './dev-sessions.ts'
export { registerConsoleRoutes, type ConsoleRoutesOptions } from './routes.ts'
