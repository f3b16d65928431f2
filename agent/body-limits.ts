// Limits on JSON request bodies at the agent's edge: size (413 BODY_TOO_LARGE) and nesting depth
// (400 BODY_TOO_DEEP), each answered with a message naming the limit — a 10,000-deep body must
// not reach a recursive parser or validator and come back as a 500.
//
// Guarantees: the depth is measured on the raw text in one pass (no recursion), before parsing;
// strings are skipped, so brackets inside them do not count.
import type { FastifyInstance } from 'fastify'
import { AgentError } from './errors.ts'

/** Largest JSON body (bytes). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024
/** Deepest nesting of objects/arrays a JSON body may have; the agent's own bodies need < 10. */
export const MAX_JSON_DEPTH = 64

/** The maximum object/array nesting of a JSON text (0 for a scalar), stopping early past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) { max = depth; if (max > limit) return max }
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return max
}

/** Replaces the instance's JSON parser with the default one behind the depth check. */
export function limitJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_JSON_BODY_BYTES }, (req, body, done) => {
    if (jsonDepth(body as string, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(new AgentError('BODY_TOO_DEEP', `the JSON body nests objects/arrays deeper than ${MAX_JSON_DEPTH} levels`), undefined)
      return
    }
    parse(req, body as string, done)
  })
}
