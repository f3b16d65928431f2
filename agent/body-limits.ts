// Limits on JSON request bodies at the agent's edge: size (413 BODY_TOO_LARGE) and nesting depth
// (400 BODY_TOO_DEEP), each answered with a message naming the limit — a 10,000-deep body must
// not reach a recursive parser or validator and come back as a 500.
//
// The depth is measured on the raw text before parsing (src/platform/json-depth.ts).
import type { FastifyInstance } from 'fastify'
import { jsonNestingDepth } from '../src/platform/index.ts'
import { AgentError } from './errors.ts'

/** Largest JSON body (bytes). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024
/** Deepest nesting of objects/arrays a JSON body may have; the agent's own bodies need < 10. */
export const MAX_JSON_DEPTH = 64

/** Replaces the instance's JSON parser with the default one behind the depth check. */
export function limitJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_JSON_BODY_BYTES }, (req, body, done) => {
    if (jsonNestingDepth(body as string, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(new AgentError('BODY_TOO_DEEP', `the JSON body nests objects/arrays deeper than ${MAX_JSON_DEPTH} levels`), undefined)
      return
    }
    parse(req, body as string, done)
  })
}
