// The agent's logger: pino JSON, one event a line, with `vmid` on every line and `component`
// bound by each module's child logger (`log.child({ component: 'runtimes' })`).
// The Authorization header (the container's bearer token) is redacted wherever it could appear.
// With `file`, lines go to a size-rotated file (`<file>`, `<file>.1` … `<file>.<keep>`), so the
// log of an agent that runs for months stays bounded.
import { pino } from 'pino'
import type { Logger, DestinationStream } from 'pino'
import { RotatingLog } from './game/rotating-log.ts'

export type { Logger } from 'pino'

export interface AgentLoggerOptions {
  vmid?: string
  level?: string
  /** where lines go (default stdout) */
  destination?: DestinationStream
  /** a file to write instead, rotated at `fileMaxBytes` (default 10 MiB) keeping `fileKeep` old ones (default 2) */
  file?: string
  fileMaxBytes?: number
  fileKeep?: number
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
export const DEFAULT_LOG_KEEP = 2

export const redactedPaths = ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token']

export function createAgentLogger(opts: AgentLoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    // `component` is bound by each module's child logger (a key bound twice would be printed twice).
    base: { vmid: opts.vmid ?? null },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  if (opts.file) {
    const file = new RotatingLog(opts.file, opts.fileMaxBytes ?? DEFAULT_LOG_MAX_BYTES, opts.fileKeep ?? DEFAULT_LOG_KEEP)
    return pino(options, { write: (line: string) => file.write(line) })
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}
