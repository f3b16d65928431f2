// The agent's version as reported by GET /status: the package version it was deployed from.
// Imported (not read at run time), so a bundle of the agent carries the version it was built from.
import pkg from '../package.json' with { type: 'json' }

export const agentVersion: string = typeof pkg.version === 'string' ? pkg.version : 'unknown'
