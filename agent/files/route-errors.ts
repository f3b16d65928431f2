// Error responses for the game, console, files, uploads and mods routes: their catalog errors
// become `{code, message, statusCode}` (the agent's error body); anything else goes on to the
// agent's own error handler.
import type { FastifyInstance } from 'fastify'
import { FileError } from './errors.ts'
import { GameError } from '../game/errors.ts'

export function isCatalogError(err: unknown): err is FileError | GameError {
  return err instanceof FileError || err instanceof GameError
}

/** Installs the handler on an encapsulated plugin context. */
export function useCatalogErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (isCatalogError(err)) {
      if (err.statusCode >= 500) req.log.warn({ err: { code: err.code, message: err.message } }, 'request failed')
      return reply.code(err.statusCode).send({ code: err.code, message: err.message, statusCode: err.statusCode })
    }
    throw err
  })
}
