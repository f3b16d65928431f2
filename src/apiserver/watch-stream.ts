// Serves one watch as kube-apiserver does: HTTP 200, then a chunked stream of JSON lines
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, or, when the client asked for
// protobuf, length-prefixed metav1.WatchEvent frames (application/vnd.kubernetes.protobuf;stream=watch).
//
// Expected flow
// 1. resourceVersion unset or "0" (or sendInitialEvents=true): synthetic ADDED events for every
//    object that matches now, then (with sendInitialEvents) a BOOKMARK annotated
//    k8s.io/initial-events-end and, as kube-apiserver v1.32 writes it for client-go's watch-list,
//    kubernetes.io/initial-events-list-blueprint (an empty list of the kind, in the stream's
//    encoding, base64); otherwise replay of history after the given resourceVersion.
// 2. Live events as they commit; a BOOKMARK every bookmarkIntervalMs if the client allows them.
// 3. At timeoutSeconds a last BOOKMARK (if allowed) and the stream ends.
// Errors: a too-old resourceVersion is an ERROR event carrying a 410 Expired Status (then end),
// which is how clients learn to relist. A client that stops reading is disconnected once
// `maxBufferedBytes` pile up, rather than holding the server's memory.

import type { ServerResponse } from 'node:http'
import { encodeProtobufObject, encodeWatchFrame, PROTOBUF_WATCH } from './protobuf-encode.ts'
import { ApiError } from './status.ts'
import type { StoredObject } from './store.ts'
import type { WatchHub } from './watch-hub.ts'
import type { WatchEventType } from './types.ts'

export interface WatchParams {
  gr: string
  kind: string
  apiVersion: string
  /** The kind of a list of these objects, for the watch-list blueprint (default `${kind}List`). */
  listKind?: string
  matches: (o: StoredObject) => boolean
  /** The objects that match now, for synthetic ADDED events. */
  initial: () => StoredObject[]
  currentRv: number
  /** The store's latest RV; delivery is synchronous with commit, so it is always safe to bookmark. */
  latestRv: () => number
  resourceVersion: string | undefined
  sendInitialEvents: boolean
  allowBookmarks: boolean
  timeoutMs: number
  bookmarkIntervalMs: number
  maxBufferedBytes: number
  /** Serializes an object in the requested apiVersion. */
  wire: (o: StoredObject) => string
  /** When set, the stream is protobuf frames and this encodes an object's envelope in the requested apiVersion. */
  protobuf?: (o: StoredObject) => Buffer
}

export function serveWatch(res: ServerResponse, hub: WatchHub, p: WatchParams, headers: Record<string, string>): void {
  const pb = p.protobuf
  res.writeHead(200, { 'Content-Type': pb ? PROTOBUF_WATCH : 'application/json', 'Cache-Control': 'no-cache, private', ...headers })
  res.flushHeaders()
  let ended = false
  let unsubscribe: (() => void) | undefined
  const timers: NodeJS.Timeout[] = []
  const end = () => {
    if (ended) return
    ended = true
    unsubscribe?.()
    for (const t of timers) clearTimeout(t)
    res.end()
  }
  res.on('close', end)
  const write = (line: string | Buffer) => {
    if (ended) return
    res.write(line)
    if (res.writableLength > p.maxBufferedBytes) {
      ended = true
      unsubscribe?.()
      for (const t of timers) clearTimeout(t)
      res.destroy()
    }
  }
  const send = (type: WatchEventType, o: StoredObject) =>
    write(pb ? encodeWatchFrame(type, pb(o)) : `{"type":"${type}","object":${p.wire(o)}}\n`)
  const sendOther = (type: 'BOOKMARK' | 'ERROR', object: { apiVersion: string; kind: string; [field: string]: unknown }) =>
    write(pb ? encodeWatchFrame(type, encodeProtobufObject(object)) : `${JSON.stringify({ type, object })}\n`)
  let lastRv = p.currentRv
  const blueprint = (): string => {
    const list = { apiVersion: p.apiVersion, kind: p.listKind ?? `${p.kind}List`, metadata: {}, items: [] }
    return (pb ? encodeProtobufObject(list) : Buffer.from(JSON.stringify(list))).toString('base64')
  }
  const bookmark = (rv: number, initialEnd = false) => {
    const meta: Record<string, unknown> = { resourceVersion: String(rv), creationTimestamp: null }
    if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true', 'kubernetes.io/initial-events-list-blueprint': blueprint() }
    sendOther('BOOKMARK', { kind: p.kind, apiVersion: p.apiVersion, metadata: meta })
  }
  const rv = p.resourceVersion
  const fromNow = rv === undefined || rv === '' || rv === '0' || p.sendInitialEvents
  let start: number
  if (fromNow) {
    start = p.currentRv
    for (const o of p.initial()) send('ADDED', o)
    if (p.sendInitialEvents && p.allowBookmarks) bookmark(start, true)
  } else {
    start = Number(rv)
  }
  try {
    unsubscribe = hub.subscribe({
      gr: p.gr,
      fromRv: start,
      matches: p.matches,
      send: (type, o) => {
        lastRv = o.rv
        send(type, o)
      },
    })
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    sendOther('ERROR', { ...err.toStatus(), apiVersion: 'v1', kind: 'Status' })
    end()
    return
  }
  if (lastRv < start) lastRv = start
  if (p.allowBookmarks && p.bookmarkIntervalMs > 0) {
    const tick = () => {
      if (ended) return
      bookmark(Math.max(lastRv, p.latestRv()))
      timers[1] = setTimeout(tick, p.bookmarkIntervalMs).unref()
    }
    timers[1] = setTimeout(tick, p.bookmarkIntervalMs).unref()
  }
  timers[0] = setTimeout(() => {
    if (p.allowBookmarks) bookmark(Math.max(lastRv, p.latestRv()))
    end()
  }, p.timeoutMs).unref()
}
