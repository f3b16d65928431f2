// The controller: reconcilers for GameServer, DevServer and RuntimeCatalog on src/runtime.
// Start with startController(options) (what `zlh controller` runs), or setupControllers(mgr,
// settings) to add them to a Manager of your own. The server reconcilers are a step driver
// (server-driver.ts) over steps/ (resolve → credentials → provision → install → run → observe);
// condition-reasons.ts lists every condition reason they write.
export { startController, defaultStateDir } from './main.ts'
export type { ControllerOptions, RunningController } from './main.ts'
export { setupControllers } from './setup.ts'
export type { ControllerHandles, ControllerSettings } from './setup.ts'
export { registerControllerCommand } from './cli.ts'
export { resolveRuntime, isVerified } from './catalog-resolve.ts'
export { planRollout } from './rollout.ts'
export { GAMESERVER, DEVSERVER, RUNTIMECATALOG, CONTAINERPROVIDER, SERVER_FINALIZER, rolloutAnnotation } from './kinds.ts'
