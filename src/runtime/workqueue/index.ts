// Work queues with client-go semantics: deduplicating, never two workers on one key, delayed and
// rate-limited adds. Start with RateLimitingQueue.
export { WorkQueue, noopQueueMetrics } from './queue.ts'
export type { QueueMetrics, WorkQueueOptions } from './queue.ts'
export { RateLimitingQueue } from './rate-limiting-queue.ts'
export type { RateLimitingQueueOptions } from './rate-limiting-queue.ts'
export {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiter.ts'
export type { DefaultRateLimiterOptions, RateLimiter } from './rate-limiter.ts'
