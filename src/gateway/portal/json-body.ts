// The portal's JSON body parser: fastify's own parser (prototype-poisoning checks included) behind
// two edge limits, so nothing recursive ever sees a hostile document.
//  - Size: at most PORTAL_BODY_LIMIT_BYTES; larger → 413 ZLH_GW_API_BODY_TOO_LARGE naming the limit
//    (the portal's error handler maps fastify's own 413 to it).
//  - Depth: objects and arrays nested at most PORTAL_JSON_MAX_DEPTH levels; deeper → 400
//    ZLH_GW_API_BODY_TOO_DEEP naming the limit. The depth is measured on the text, in one
//    non-recursive pass, before JSON.parse; validation (structuredClone, schema walks) and the API
//    server later recurse over the parsed value and would otherwise overflow the stack.
// File bodies (/files, /uploads) are not parsed here: they stream to the agent.

import type { FastifyInstance } from 'fastify'
import { jsonNestingDepth } from '../../platform/index.ts'
import { PortalError } from './api-reply.ts'

export const PORTAL_BODY_LIMIT_BYTES = 1024 * 1024
export const PORTAL_JSON_MAX_DEPTH = 64

/** Replaces the JSON parser of `scope` (an encapsulated plugin) with the limited one. */
export function registerJsonBodyParser(scope: FastifyInstance): void {
  const parseJson = scope.getDefaultJsonParser('error', 'error')
  scope.removeContentTypeParser('application/json')
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: PORTAL_BODY_LIMIT_BYTES }, (req, body, done) => {
    const text = body as string
    if (jsonNestingDepth(text, PORTAL_JSON_MAX_DEPTH) > PORTAL_JSON_MAX_DEPTH) {
      const detail = `objects and arrays may be nested at most ${PORTAL_JSON_MAX_DEPTH} levels deep`
      done(
        new PortalError('ZLH_GW_API_BODY_TOO_DEEP', detail, {
          errors: [{ field: '<body>', message: `<body>: Invalid value: ${detail}` }],
          limit: PORTAL_JSON_MAX_DEPTH,
        }),
        undefined,
      )
      return
    }
    parseJson(req, text, done)
  })
}

/** The message of a body over the size limit. */
export function bodyTooLargeDetail(): string {
  return `the limit is ${PORTAL_BODY_LIMIT_BYTES} bytes (${PORTAL_BODY_LIMIT_BYTES / 1024 / 1024} MiB) for JSON bodies`
}
