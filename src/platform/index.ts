// Small primitives every component may import (agent, controller, gateway, cli). Imports nothing
// of ours. Start with outbound/: the only way this product fetches a URL someone else named.
export * from './outbound/index.ts'
export { jsonNestingDepth } from './json-depth.ts'
