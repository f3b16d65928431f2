// Mods: hash-checked installs into the server's mods folder, restart-policy aware, and routes.
export { ModsManager, checkModName, MOD_NAME, type ModsManagerOptions } from './manager.ts'
export { registerModRoutes } from './routes.ts'
