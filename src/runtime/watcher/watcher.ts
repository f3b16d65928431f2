// watcher: turns list + watch into one endless, self-healing stream of events for a kind.
//
// Expected flow
//  1. List the kind page by page (`limit`/`continue`) and emit `init`, one `initApply` per object,
//     then `initDone`: the consumer now holds a complete snapshot.
//  2. Watch from the list's resourceVersion with bookmarks; emit `apply` / `delete` per event;
//     bookmarks only advance the resourceVersion.
//  3. When the server ends the watch (its timeoutSeconds), watch again from the last seen
//     resourceVersion at once. When the connection breaks or goes silent for longer than the
//     inactivity timeout, or a request fails, wait with exponential backoff, then watch again.
//  4. On 410 Gone (the server no longer has history that old), start again at 1.
// Guarantees
//  - No change is lost across restarts: every rewatch starts from the last resourceVersion the
//    consumer received; when that is too old, a relist produces a fresh complete snapshot
//    (the consumer diffs it against what it held, see reflector/).
//  - Backpressure: the generator produces the next event only when the consumer asks for it.
//  - Ends (returns) when `signal` aborts, never otherwise; errors are reported to `onError`.
// Assumptions
//  - The server orders events by resourceVersion per kind, as kube-apiserver does.
// Caveats
//  - An event may be delivered twice after a restart (at-least-once); consumers are level-based.

import type { IncomingMessage } from 'node:http'
import { StringDecoder } from 'node:string_decoder'
import { sleep, realClock, type Clock } from '../clock.ts'
import type { Client } from '../client/client.ts'
import { ApiError, isGone, type StatusBody } from '../client/api-error.ts'
import type { KindRef, KObject, ObjectList } from '../client/objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'
import { Backoff, type BackoffOptions } from './backoff.ts'

export type WatcherEvent<T extends KObject = KObject> =
  | { type: 'init' }
  | { type: 'initApply'; object: T }
  | { type: 'initDone'; resourceVersion: string }
  | { type: 'apply'; object: T }
  | { type: 'delete'; object: T }

export interface WatcherOptions {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  /** Objects per list page (default 500). */
  pageSize?: number
  /** Server-side watch duration in seconds before a clean rewatch (default 300–600, random). */
  watchTimeoutSeconds?: number
  /** Restart the watch when no byte arrived for this long (default watch timeout + 60 s). */
  inactivityTimeoutMs?: number
  backoff?: BackoffOptions
  clock?: Clock
  /** Called with every error that triggers a restart (for logs); never throws into the stream. */
  onError?: (err: unknown, action: 'relist' | 'rewatch') => void
}

interface RawWatchEvent {
  type: string
  object: KObject & StatusBody
}

export async function* watcher<T extends KObject = KObject>(
  client: Client,
  kind: KindRef,
  signal: AbortSignal,
  opts: WatcherOptions = {},
): AsyncGenerator<WatcherEvent<T>> {
  const clock = opts.clock ?? realClock
  const backoff = new Backoff(opts.backoff)
  const pageSize = opts.pageSize ?? 500
  const watchTimeout = opts.watchTimeoutSeconds ?? Math.round(300 + Math.random() * 300)
  const inactivityMs = opts.inactivityTimeoutMs ?? (watchTimeout + 60) * 1000
  let rv: string | undefined
  let needList = true
  let goneInARow = 0

  while (!signal.aborted) {
    try {
      if (needList) {
        yield { type: 'init' }
        let cont: string | undefined
        do {
          const page: ObjectList<T> = await client.list<T>(kind, {
            namespace: opts.namespace,
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            limit: pageSize,
            continue: cont,
            signal,
          })
          for (const object of page.items) yield { type: 'initApply', object: withKind(object, kind) }
          cont = page.metadata?.continue || undefined
          rv = page.metadata?.resourceVersion
        } while (cont !== undefined)
        if (rv === undefined)
          throw new RuntimeError(ErrorCodes.API_TRANSPORT, `list of ${kind.kind} carried no resourceVersion; the server cannot be watched`)
        yield { type: 'initDone', resourceVersion: rv }
        needList = false
        goneInARow = 0
        backoff.reset()
      }
      const watchStarted = clock.now()
      let received = 0
      const res = await client.rest.stream(await watchPath(client, kind, opts.namespace), {
        signal,
        query: {
          watch: true,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: watchTimeout,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
        },
      })
      for await (const ev of readEvents(res, clock, inactivityMs, signal)) {
        received++
        if (ev.type === 'ERROR') {
          const status = ev.object
          throw new ApiError(status.code ?? 500, 'WATCH', kind.kind, status)
        }
        const newRv = ev.object.metadata?.resourceVersion
        if (newRv) rv = newRv
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') yield { type: 'apply', object: withKind(ev.object as unknown as T, kind) }
        else if (ev.type === 'DELETED') yield { type: 'delete', object: withKind(ev.object as unknown as T, kind) }
        goneInARow = 0
        backoff.reset()
      }
      // A clean end (the server's timeoutSeconds): watch again from rv straight away — unless the
      // server keeps ending watches at once, which would otherwise become a hot loop.
      if (received === 0 && clock.now() - watchStarted < 1000) await sleep(clock, backoff.next(), signal)
    } catch (err) {
      if (signal.aborted) return
      if (isGone(err)) {
        opts.onError?.(err, 'relist')
        needList = true
        // A first 410 is routine (history compacted): relist now. Repeated ones back off.
        if (goneInARow++ === 0) continue
      } else {
        opts.onError?.(err, needList ? 'relist' : 'rewatch')
      }
      try {
        await sleep(clock, backoff.next(), signal)
      } catch {
        return
      }
    }
  }
}

async function watchPath(client: Client, kind: KindRef, namespace?: string): Promise<string> {
  return client.path(await client.resource(kind), namespace)
}

/** Lists from the server omit each item's apiVersion/kind; restore them for the consumer. */
function withKind<T extends KObject>(obj: T, kind: KindRef): T {
  if (obj.apiVersion === undefined || obj.kind === undefined) {
    obj.apiVersion = kind.apiVersion
    obj.kind = kind.kind
  }
  return obj
}

/** Parses a watch stream line by line, ending it when nothing arrives for `inactivityMs`. */
async function* readEvents(res: IncomingMessage, clock: Clock, inactivityMs: number, signal: AbortSignal): AsyncGenerator<RawWatchEvent> {
  let timer = clock.setTimer(onSilence, inactivityMs)
  function onSilence(): void {
    res.destroy(new RuntimeError(ErrorCodes.API_TRANSPORT, `watch stream silent for ${inactivityMs} ms; restarting it`))
  }
  const onAbort = (): void => {
    res.destroy()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const decoder = new StringDecoder('utf8')
  let buffered = ''
  try {
    // Async iteration of the response rejects on a reset or premature close, so a cut
    // connection is never mistaken for the server's clean end of the watch.
    for await (const chunk of res) {
      clock.clearTimer(timer)
      timer = clock.setTimer(onSilence, inactivityMs)
      buffered += decoder.write(chunk as Buffer)
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (line === '') continue
        let ev: RawWatchEvent
        try {
          ev = JSON.parse(line) as RawWatchEvent
        } catch (err) {
          throw new RuntimeError(
            ErrorCodes.API_TRANSPORT,
            `watch stream sent a line that is not JSON (${line.slice(0, 80)}…); restarting`,
            { cause: err },
          )
        }
        yield ev
      }
    }
    if (!res.complete && !signal.aborted)
      throw new RuntimeError(ErrorCodes.API_TRANSPORT, 'watch connection closed before the response completed')
  } finally {
    clock.clearTimer(timer)
    signal.removeEventListener('abort', onAbort)
    res.destroy()
  }
}
