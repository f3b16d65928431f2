// Predicates filter events before they enqueue anything, as controller-runtime's pkg/predicate.
// An event passes when the predicate's method for its type returns true (a missing method passes).

import { isDeepStrictEqual } from 'node:util'
import type { KObject } from '../client/objects.ts'

export interface Predicate<T extends KObject = KObject> {
  create?(obj: T): boolean
  update?(oldObj: T, newObj: T): boolean
  delete?(obj: T): boolean
}

/** Updates pass only when metadata.generation changed (spec edits; not status or metadata). */
export const generationChanged: Predicate = {
  update: (o, n) => o.metadata?.generation !== n.metadata?.generation,
}

/** Updates pass only when labels changed. */
export const labelsChanged: Predicate = {
  update: (o, n) => !isDeepStrictEqual(o.metadata?.labels ?? {}, n.metadata?.labels ?? {}),
}

/** Updates pass only when annotations changed. */
export const annotationsChanged: Predicate = {
  update: (o, n) => !isDeepStrictEqual(o.metadata?.annotations ?? {}, n.metadata?.annotations ?? {}),
}

/** Updates pass only when resourceVersion changed: drops periodic resyncs. */
export const resourceVersionChanged: Predicate = {
  update: (o, n) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion,
}

/** Updates pass when the object has just been marked for deletion (finalizers must run). */
export const deletionStarted: Predicate = {
  update: (o, n) => o.metadata?.deletionTimestamp === undefined && n.metadata?.deletionTimestamp !== undefined,
}

/** Passes events for which `fn` holds (on the new object for updates). */
export function matching<T extends KObject>(fn: (obj: T) => boolean): Predicate<T> {
  return { create: fn, update: (_o, n) => fn(n), delete: fn }
}

export function and<T extends KObject>(...ps: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => ps.every((p) => p.create?.(obj) ?? true),
    update: (o, n) => ps.every((p) => p.update?.(o, n) ?? true),
    delete: (obj) => ps.every((p) => p.delete?.(obj) ?? true),
  }
}

export function or<T extends KObject>(...ps: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => ps.some((p) => p.create?.(obj) ?? true),
    update: (o, n) => ps.some((p) => p.update?.(o, n) ?? true),
    delete: (obj) => ps.some((p) => p.delete?.(obj) ?? true),
  }
}
