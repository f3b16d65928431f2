// The size and shape limits of what a client may send: body bytes, nesting depth, and the bytes a
// JSON patch may copy. Every limit is refused with a metav1.Status naming it (400 or 413), before
// anything walks the value recursively, so no body can overflow the stack or leave state behind.

import { errors } from './status.ts'

/** The largest request body accepted (413 beyond). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024

/** The deepest nesting of objects and arrays accepted in a body or a resulting object (400 beyond). */
export const MAX_NESTING_DEPTH = 100

/** The most bytes a JSON patch's copy operations may duplicate (kube-apiserver bounds it too). */
export const MAX_PATCH_COPY_BYTES = MAX_BODY_BYTES

/**
 * Throws 400 when `value` nests objects and arrays more than MAX_NESTING_DEPTH levels deep
 * (a top-level object is level 1). Iterative, so safe at any depth.
 */
export function checkNestingDepth(value: unknown, what: string): void {
  const stack: Array<{ v: object; depth: number }> = []
  if (typeof value === 'object' && value !== null) stack.push({ v: value, depth: 1 })
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!
    if (depth > MAX_NESTING_DEPTH) {
      throw errors.badRequest(
        `${what} nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep (the limit is ${MAX_NESTING_DEPTH}); flatten it`,
      )
    }
    for (const c of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof c === 'object' && c !== null) stack.push({ v: c, depth: depth + 1 })
    }
  }
}
