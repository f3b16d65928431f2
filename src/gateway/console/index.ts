// The web console: a page for people, served by the gateway on its portal host, that uses only
// the public portal API (/api) with a sealed session cookie. Start with routes.ts.
export { registerConsole, type ConsoleDeps } from './routes.ts'
export { ConsoleSessions, CSRF_HEADER, type SessionCookieReader, type SessionVerdict } from './session.ts'
export { loadConsoleFiles, CONSOLE_PREFIX, type ConsoleFiles } from './static-files.ts'
