// The controller: reconcilers for GameServer, DevServer and RuntimeCatalog on src/runtime.
// Start with startController(options) (what `zlh controller` runs), or setupControllers(mgr,
// settings) to add them to a Manager of your own. artifacts/ builds real runtime artifacts.
export { startController, defaultStateDir } from './main.ts'
export type { ControllerOptions, RunningController } from './main.ts'
export { setupControllers } from './setup.ts'
export type { ControllerHandles, ControllerSettings } from './setup.ts'
export { registerControllerCommand } from './cli.ts'
export { resolveRuntime, isVerified } from './catalog-resolve.ts'
export { planRollout } from './rollout.ts'
export { GAMESERVER, DEVSERVER, RUNTIMECATALOG, CONTAINERPROVIDER, SERVER_FINALIZER, rolloutAnnotation } from './kinds.ts'
