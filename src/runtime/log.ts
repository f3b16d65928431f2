// The framework's logger: pino JSON lines with stable keys (controller, namespace, name,
// reconcileID). Callers pass their own pino instance to share its destination and level.

import { pino, type Logger } from 'pino'

export type { Logger }

export function defaultLogger(): Logger {
  return pino({ name: 'runtime', level: process.env.LOG_LEVEL ?? 'info' })
}

/** A logger that drops everything (tests, libraries embedding a controller quietly). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
