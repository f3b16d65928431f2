// Game supervision: start with the supervisor (supervisor.ts) or the routes (routes.ts); crash
// classification is pure data + a function (crash-rules.ts, classify.ts).
export { GameSupervisor, type SupervisorOptions } from './supervisor.ts'
export { createGameRoutes, gameRoutes, type GameRoutesOptions } from './routes.ts'
export { classifyExit, type ExitFacts, type Classification } from './classify.ts'
export { crashRules, type CrashRule } from './crash-rules.ts'
export { effectiveSpec, gameSpecRequestSchema } from './spec.ts'
export { GameError, type GameErrorCode } from './errors.ts'
