// trigger-source: reconcile requests that come from outside the cluster's watches, as kube-rs
// `Controller::reconcile_on` and controller-runtime's `WatchesRawSource` / `source.Channel`.
//
// A TriggerSource is any async iterable of requests (or "namespace/name" keys), or a function
// that, given the controller's stop signal, returns one. Pass it to the builder:
//
//   const agentEvents = new TriggerChannel()
//   mgr.controller('gameserver').for(GAMESERVER).reconcileOn(agentEvents).complete(reconcile)
//   agentEvents.send({ namespace: 'ns', name: 'gs' })   // from a callback, a stream, a webhook
//
// Expected flow
//  1. The controller's start() begins consuming every source at once, before caches sync;
//     each item is enqueued like a watch event (workers start only after the sync).
//  2. When the controller's start signal aborts, consumption stops: the iterator's return() is
//     called (not awaited), so a source blocked in next() cannot hold shutdown up.
// Guarantees
//  - Items go through the controller's work queue: a key already waiting is not added twice, and
//    a key is never reconciled twice at once.
//  - A source that throws (synchronously, or by rejecting next()) or yields a malformed item
//    never crashes the controller: the error is logged with the source's index and that source
//    stops; the others, and the watches, go on. A source that simply ends is logged at debug.
//  - TriggerChannel coalesces: a key sent again before it was taken is kept once, so its buffer
//    is bounded by the number of distinct keys, and send() never blocks or throws. After close()
//    (or once its consumer stopped) sends are dropped.
// Assumptions
//  - One consumer per TriggerChannel (one controller); give each controller its own channel.
//  - Like every trigger, an item only says "look at this object": reconcilers stay level-based.

import type { Logger } from 'pino'
import { requestFromKey, requestKey, type Request } from './reconcile.ts'

export type TriggerItem = Request | string
export type TriggerSource = AsyncIterable<TriggerItem> | ((signal: AbortSignal) => AsyncIterable<TriggerItem>)

/** An in-memory, coalescing trigger source that synchronous callbacks can feed. */
export class TriggerChannel implements AsyncIterable<Request> {
  readonly #pending = new Set<string>()
  #wake: (() => void) | undefined
  #closed = false
  #consumed = false

  /** Asks for a reconcile of `item`; coalesces with a pending send of the same key. */
  send(item: TriggerItem): void {
    if (this.#closed) return
    this.#pending.add(typeof item === 'string' ? item : requestKey(item))
    this.#wakeUp()
  }

  /** Ends the stream once what was sent has been taken; later sends are dropped. */
  close(): void {
    this.#closed = true
    this.#wakeUp()
  }

  /** Keys sent but not yet taken (for tests and metrics). */
  get pending(): number {
    return this.#pending.size
  }

  [Symbol.asyncIterator](): AsyncIterator<Request> {
    if (this.#consumed) throw new TypeError('a TriggerChannel has one consumer; create one channel per controller')
    this.#consumed = true
    return {
      next: async (): Promise<IteratorResult<Request>> => {
        for (;;) {
          const first = this.#pending.values().next()
          if (first.done !== true) {
            this.#pending.delete(first.value)
            return { done: false, value: requestFromKey(first.value) }
          }
          if (this.#closed) return { done: true, value: undefined }
          await new Promise<void>((resolve) => {
            this.#wake = resolve
          })
        }
      },
      return: async (): Promise<IteratorResult<Request>> => {
        this.close()
        this.#pending.clear()
        return { done: true, value: undefined }
      },
    }
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

/**
 * Feeds `source` into `enqueue` until `signal` aborts or the source ends. Never rejects: a
 * failing source is logged and stops (see the header's guarantees).
 */
export async function runTriggerSource(
  source: TriggerSource,
  index: number,
  enqueue: (req: Request) => void,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  if (signal.aborted) return
  let iterator: AsyncIterator<TriggerItem> | undefined
  let onAbort = (): void => {}
  const stopped = new Promise<'stopped'>((resolve) => {
    onAbort = () => resolve('stopped')
  })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const iterable = typeof source === 'function' ? source(signal) : source
    iterator = iterable[Symbol.asyncIterator]()
    for (;;) {
      const next = iterator.next()
      next.then(undefined, () => {}) // a next() still pending at stop may reject later: not an unhandled rejection
      const step = await Promise.race([next, stopped])
      if (step === 'stopped') break
      if (step.done === true) {
        log.debug({ source: index }, 'trigger source ended')
        return
      }
      enqueue(toRequest(step.value))
    }
  } catch (err) {
    if (!signal.aborted)
      log.error({ err, source: index }, 'trigger source failed; it is no longer consumed (the watches and other sources go on)')
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  // Stopped or failed: let the source release what it holds, without waiting for it.
  const it = iterator
  if (it !== undefined)
    void Promise.resolve()
      .then(() => it.return?.())
      .catch(() => {})
}

function toRequest(item: TriggerItem): Request {
  if (typeof item === 'string' && item !== '') return requestFromKey(item)
  if (
    typeof item === 'object' &&
    item !== null &&
    typeof item.name === 'string' &&
    item.name !== '' &&
    (item.namespace === undefined || typeof item.namespace === 'string')
  )
    return { namespace: item.namespace || undefined, name: item.name }
  throw new TypeError(`trigger source yielded ${JSON.stringify(item)}; want a request { namespace?, name } or a "namespace/name" key`)
}
