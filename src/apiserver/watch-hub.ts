// Watch fan-out and the bounded event history that lets a client resume a watch from a
// resourceVersion.
//
// Guarantees
// - A watcher sees every change of its resource after its starting resourceVersion, in commit
//   order, exactly once — or, when that point has left the history, an Expired error so it relists.
//   It is never silently skipped forward.
// - Each resource keeps at most `historySize` events; `floor` is the newest resourceVersion that is
//   no longer covered, so a watch from RV >= floor is served entirely from history.
// - After a restart the history starts empty with floor = the store's resourceVersion: watches from
//   the current RV resume, older ones get Expired.
// Assumptions
// - Delivery is synchronous with commit (single JS thread), so a bookmark at store.rv never
//   overtakes an undelivered event.

import type { StoreEvent, StoredObject } from './store.ts'
import { errors } from './status.ts'
import type { WatchEventType } from './types.ts'

export interface Watcher {
  gr: string
  /** Events at or below this resourceVersion are already known to the watcher (its start point). */
  fromRv: number
  /** Whether an object is in this watch (namespace + selectors). */
  matches: (o: StoredObject) => boolean
  send: (type: WatchEventType, o: StoredObject) => void
}

interface History {
  events: StoreEvent[]
  head: number
  floor: number
}

export class WatchHub {
  #histories = new Map<string, History>()
  #watchers = new Map<string, Set<Watcher>>()
  #historySize: number
  #startRv: number

  constructor(startRv: number, historySize: number) {
    this.#startRv = startRv
    this.#historySize = historySize
  }

  /** The oldest resourceVersion a watch of `gr` can start from. */
  floor(gr: string): number {
    return this.#histories.get(gr)?.floor ?? this.#startRv
  }

  publish(events: StoreEvent[]): void {
    for (const e of events) {
      let h = this.#histories.get(e.gr)
      if (!h) {
        h = { events: [], head: 0, floor: this.#startRv }
        this.#histories.set(e.gr, h)
      }
      h.events.push(e)
      if (h.events.length - h.head > this.#historySize) {
        h.floor = h.events[h.head].rv
        h.head++
        // Compact now and then rather than shifting the array on every event.
        if (h.head > 1024 && h.head * 2 > h.events.length) {
          h.events = h.events.slice(h.head)
          h.head = 0
        }
      }
      const ws = this.#watchers.get(e.gr)
      if (ws) for (const w of ws) if (e.rv > w.fromRv) deliver(w, e)
    }
  }

  /**
   * Registers `w`, first replaying history after `fromRv`. Throws Expired (410) when that history
   * is gone. Returns the function that unregisters it.
   */
  subscribe(w: Watcher): () => void {
    const fromRv = w.fromRv
    const h = this.#histories.get(w.gr)
    const floor = h?.floor ?? this.#startRv
    if (fromRv < floor) throw errors.expired(`too old resource version: ${fromRv} (${floor})`)
    if (h) {
      for (let i = h.head; i < h.events.length; i++) if (h.events[i].rv > fromRv) deliver(w, h.events[i])
    }
    let set = this.#watchers.get(w.gr)
    if (!set) {
      set = new Set()
      this.#watchers.set(w.gr, set)
    }
    set.add(w)
    return () => {
      set.delete(w)
    }
  }

  /** Forgets a deleted resource's history (a later CRD of the same name starts afresh). */
  dropHistory(gr: string, rv: number): void {
    this.#histories.set(gr, { events: [], head: 0, floor: rv })
  }

  watcherCount(): number {
    let n = 0
    for (const s of this.#watchers.values()) n += s.size
    return n
  }
}

// An object moving into or out of a filtered watch is ADDED or DELETED for that watcher, as upstream.
function deliver(w: Watcher, e: StoreEvent): void {
  const now = w.matches(e.cur)
  if (e.type === 'ADDED') {
    if (now) w.send('ADDED', e.cur)
    return
  }
  const before = e.prev ? w.matches(e.prev) : false
  if (e.type === 'DELETED') {
    if (now || before) w.send('DELETED', e.cur)
    return
  }
  if (now && before) w.send('MODIFIED', e.cur)
  else if (now) w.send('ADDED', e.cur)
  else if (before) w.send('DELETED', e.cur)
}
