// List-then-watch as one self-healing event stream. Start with watcher().
export { watcher } from './watcher.ts'
export type { WatcherEvent, WatcherOptions } from './watcher.ts'
export { Backoff } from './backoff.ts'
export type { BackoffOptions } from './backoff.ts'
