// Bearer-token authentication for every agent route (including 404s and /openapi.json).
//
// Guarantees: the comparison takes the same time whatever the presented token is (both sides are
// hashed to fixed-length digests before timingSafeEqual); the token is never logged or echoed.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AgentError } from './errors.ts'

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

export function bearerTokenMatches(header: string | undefined, expectedDigest: Buffer): boolean {
  const match = /^Bearer ([^\s]+)\s*$/i.exec(header ?? '')
  // Hash even when absent so a missing header costs the same as a wrong one.
  const presented = digest(match?.[1] ?? '')
  return timingSafeEqual(presented, expectedDigest) && match !== null
}

/** An onRequest hook that rejects any request without `Authorization: Bearer <token>`. */
export function bearerAuthHook(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  if (token.length < 16) throw new Error('the agent token must be at least 16 characters; generate one with `openssl rand -hex 32`')
  const expected = digest(token)
  return async (req) => {
    if (!bearerTokenMatches(req.headers.authorization, expected)) throw new AgentError('UNAUTHORIZED')
  }
}
