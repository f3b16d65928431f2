// The gateway: portal API + hosted IDE proxy. Start with createGateway; the IDE proxy's parts
// (route table seam, token issuer, session cookie) are usable on their own.
export { createGateway } from './server.ts'
export type { Gateway, GatewayOptions } from './server.ts'
export { GatewayError, gatewayErrors } from './errors.ts'
export type { GatewayErrorCode } from './errors.ts'
export {
  DevHostMatcher,
  IdeTokenIssuer,
  IdeSessionCookie,
  InMemoryRouteTable,
  ReplayCache,
  MAX_IDE_TOKEN_TTL_SECONDS,
  SESSION_COOKIE_NAME,
  ERROR_CODE_HEADER,
} from './ide/index.ts'
export type { DevServerRoute, ResolvedRoute, RouteTable } from './ide/index.ts'
