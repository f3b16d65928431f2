// Typed client of the in-container agent's HTTP API (core routes; game routes in game.ts).
export { AgentClient } from './client.ts'
export type { AgentClientOptions, CallOptions, EventsOptions } from './client.ts'
export { AgentClientError, AgentClientErrorCodes } from './errors.ts'
export { parseSse } from './sse.ts'
export type { SseMessage } from './sse.ts'
export { AgentGameClient } from './game.ts'
