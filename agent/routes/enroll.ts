// POST /enroll: the one unauthenticated route (it declares `config.auth: 'none'`, which the
// server's auth hook reads from the matched route), registered only with `--enroll`. It lets a
// provider that cannot write files into the container (Proxmox's API) hand the agent its token
// over the network, once. The firewall in front of the agent port admits only the control plane.
//
// Guarantees: the first valid request writes the token file atomically (0600, parent 0700) and
// switches authentication to it; concurrent or later requests get 409 ALREADY_ENROLLED; the token
// is never logged or echoed. With a token already present the route only ever answers 409.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import type { TokenHolder } from '../auth.ts'
import { MIN_TOKEN_LENGTH } from '../auth.ts'
import { AgentError } from '../errors.ts'
import { writeFileDurable } from '../../src/platform/durable-file.ts'

export const enrollRoutes: FastifyPluginAsync<{ tokens: TokenHolder; tokenFile: string }> = async (app, { tokens, tokenFile }) => {
  let claimed = tokens.enrolled
  app.post<{ Body: { token: string } }>(
    '/enroll',
    {
      // The one open route: the server's auth hook reads this from the matched route.
      config: { auth: 'none' },
      schema: {
        summary: 'hand the agent its bearer token, once (only with --enroll; no auth)',
        tags: ['enroll'],
        security: [],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token'],
          properties: { token: { type: 'string', minLength: MIN_TOKEN_LENGTH, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' } },
        },
        response: { 204: { type: 'null', description: 'enrolled' } },
      },
    },
    async (req, reply) => {
      if (claimed || tokens.enrolled) throw new AgentError('ALREADY_ENROLLED')
      claimed = true
      try {
        await fs.mkdir(path.dirname(tokenFile), { recursive: true, mode: 0o700 })
        await fs.chmod(path.dirname(tokenFile), 0o700)
        await writeFileDurable(tokenFile, `${req.body.token}\n`, 0o600)
        tokens.set(req.body.token)
      } catch (err) {
        claimed = false
        throw err
      }
      req.log.info({ tokenFile }, 'enrolled: token file written, authentication enabled')
      return reply.code(204).send()
    },
  )
}
