// What every route plugin and component gets: the paths, the state hub, the logger and the
// agent's components. main.ts builds every component and this context; route plugins receive it
// as their `ctx` option and only serve what is in it (they build no component of their own).
import type { FastifyPluginAsync } from 'fastify'
import type { AgentPaths } from './paths.ts'
import type { StateHub } from './state.ts'
import type { Logger } from './log.ts'
import type { RuntimeManager } from './runtimes/manager.ts'
import type { DevEnvironment } from './devenv/environment.ts'
import type { CodeServerSupervisor } from './codeserver/supervisor.ts'
import type { GameSupervisor } from './game/supervisor.ts'
import type { ModsManager } from './mods/manager.ts'

export interface AgentContext {
  readonly paths: AgentPaths
  readonly hub: StateHub
  /** the root logger (binds `vmid`); take `log.child({ component: "yours" })` once per module */
  readonly log: Logger
  readonly vmid: string | undefined
  readonly startedAt: Date
  readonly runtimes: RuntimeManager
  readonly devEnv: DevEnvironment
  readonly codeServer: CodeServerSupervisor
  /** the game server's supervisor, re-attached (init) before the agent listens */
  readonly game: GameSupervisor
  readonly mods: ModsManager
  /** true once startup provisioning (recovery, dev user, workspace, environment) has finished */
  provisioningComplete: boolean
  /** set when shutdown begins; long operations should stop taking new work */
  shuttingDown: boolean
}

export interface AgentRouteOptions {
  ctx: AgentContext
}

/** A route plugin: a fastify plugin that reads `opts.ctx`. Async plugins may start components;
 * register cleanup with `app.addHook('onClose', …)` (runs on agent shutdown). */
export type AgentRoutePlugin = FastifyPluginAsync<AgentRouteOptions>
