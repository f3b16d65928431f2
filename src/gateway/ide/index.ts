// The hosted IDE proxy: dev hosts, one-time tokens, session cookies, the route table seam and
// the proxy itself. Start with IdeProxy (the flow) and InMemoryRouteTable (what feeds it);
// IdeSleepWake (sleep-wake.ts) adds IDE activity and the wake of sleeping DevServers.
export { IdeActivity, activityIntervalMs } from './activity.ts'
export type { DevServerRef } from './activity.ts'
export { DevHostMatcher, DevOrigins } from './dev-host.ts'
export type { DevHost } from './dev-host.ts'
export { IdeProxy, DEFAULT_WORKSPACE_FOLDER } from './ide-proxy.ts'
export { IdeTokenIssuer, MAX_IDE_TOKEN_TTL_SECONDS, describeRejection } from './ide-token.ts'
export type { MintedIdeToken, TokenRedemption, TokenRejection } from './ide-token.ts'
export { registerLegacyIdeRedirect } from './legacy-redirect.ts'
export { LiveSessions } from './live-sessions.ts'
export { ERROR_CODE_HEADER, renderErrorPage } from './pages.ts'
export { ReplayCache, type SharedClaims } from './replay-cache.ts'
export { InMemoryRouteTable } from './route-table.ts'
export type { DevServerRoute, ResolvedRoute, RouteTable, UpstreamTarget } from './route-table.ts'
export { bindingEnded, describeBindingEnd } from './session-binding.ts'
export type { ApiTokenRegistry, BindingEnd, IdeBinding } from './session-binding.ts'
export {
  IdeSessionCookie,
  SESSION_COOKIE_NAME,
  DEFAULT_SESSION_TTL_SECONDS,
  DEFAULT_SESSION_RETAIN_SECONDS,
  stripSessionCookie,
} from './session-cookie.ts'
export type { IdeSession } from './session-cookie.ts'
export { IdeSleepWake, ideSleepWakeFor } from './sleep-wake.ts'
export { WAKE_STATUS_PATH } from './wake-page.ts'
export type { WakeStatus } from './wake-page.ts'
export { WakeRequests } from './wake-request.ts'
export { UpstreamProxy } from './upstream-proxy.ts'
export type { WebSocketExtras } from './upstream-proxy.ts'
