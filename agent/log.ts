// The agent's logger: pino JSON, one event a line, with `vmid` on every line and `component`
// bound by each module's child logger (`log.child({ component: 'runtimes' })`).
// The Authorization header (the container's bearer token) is redacted wherever it could appear.
import { pino } from 'pino'
import type { Logger, DestinationStream } from 'pino'

export type { Logger } from 'pino'

export interface AgentLoggerOptions {
  vmid?: string
  level?: string
  /** where lines go (default stdout) */
  destination?: DestinationStream
}

export const redactedPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
]

export function createAgentLogger(opts: AgentLoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    // `component` is bound by each module's child logger (a key bound twice would be printed twice).
    base: { vmid: opts.vmid ?? null },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}
