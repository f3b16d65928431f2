// The gateway's Minecraft router: routes game connections by the handshake's host name and wakes
// servers asleep at container level. Start with startMinecraftRouter (router.ts).
export { DEFAULT_MAX_CONNECTIONS_PER_CLIENT, minecraftDecider, startMinecraftRouter } from './router.ts'
export type { MinecraftRouter, MinecraftRouterOptions } from './router.ts'
export { backendOf, readyBackend, routeOf } from './route.ts'
export type { GameRoute } from './route.ts'
export { GameWaker } from './wake.ts'
export type { GameServerCache } from './wake.ts'
