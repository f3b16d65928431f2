// Bearer-token authentication for every agent route (including 404s and /openapi.json).
//
// Guarantees: the comparison takes the same time whatever the presented token is (both sides are
// hashed to fixed-length digests before timingSafeEqual); the token is never logged or echoed.
import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AgentError } from './errors.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'none': the route needs no token (enrollment only); read by the server's auth hook from the matched route. */
    auth?: 'none'
  }
}

/** One-shot: no Hash object per request (it is on every request's path). */
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

export function bearerTokenMatches(header: string | undefined, expectedDigest: Buffer): boolean {
  const match = /^Bearer ([^\s]+)\s*$/i.exec(header ?? '')
  // Hash even when absent so a missing header costs the same as a wrong one.
  const presented = digest(match?.[1] ?? '')
  return timingSafeEqual(presented, expectedDigest) && match !== null
}

export const MIN_TOKEN_LENGTH = 16

/** The container's token, or none yet (an agent waiting for enrollment). Only its digest is kept. */
export class TokenHolder {
  #digest: Buffer | null = null

  constructor(token: string | null) {
    if (token !== null) this.set(token)
  }

  get enrolled(): boolean {
    return this.#digest !== null
  }

  set(token: string): void {
    if (token.length < MIN_TOKEN_LENGTH)
      throw new Error(`the agent token must be at least ${MIN_TOKEN_LENGTH} characters; generate one with \`openssl rand -hex 32\``)
    this.#digest = digest(token)
  }

  matches(header: string | undefined): boolean {
    // Without a token nothing matches; the digest of '' keeps the work the same.
    return bearerTokenMatches(header, this.#digest ?? digest('\0 no token \0')) && this.#digest !== null
  }
}

/** An onRequest hook that rejects any request without `Authorization: Bearer <token>`;
 * `open(req)` names the requests that need none (enrollment). */
export function bearerAuthHook(
  tokens: TokenHolder,
  open: (req: FastifyRequest) => boolean = () => false,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req) => {
    if (open(req)) return
    if (!tokens.matches(req.headers.authorization)) throw new AgentError('UNAUTHORIZED')
  }
}
