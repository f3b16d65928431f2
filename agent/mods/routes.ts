// GET|PUT|DELETE /mods[/:name]: list, install (url + sha256, from the sources the request's
// `outbound` policy allows) and remove mods. `?restart=true`
// restarts the game so the change takes effect now; otherwise a running game picks it up at its
// next (re)start.
import type { FastifyInstance } from 'fastify'
import type { GameSupervisor } from '../game/supervisor.ts'
import type { ModInstallRequest, ModsSetRequest } from '../../src/api/agent-game-types.ts'
import { outboundPolicySchema } from '../../src/api/outbound.ts'
import { type ModsManager, MOD_NAME } from './manager.ts'
import { FileError } from '../files/errors.ts'

const modBody = {
  type: 'object',
  required: ['url', 'sha256'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    url: { type: 'string', maxLength: 4096, pattern: '^https?://[^\\s]+$' },
    sha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
    outbound: outboundPolicySchema,
  },
} as const
const modItem = {
  type: 'object',
  required: ['name', 'url', 'sha256'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 255, pattern: MOD_NAME.source },
    url: modBody.properties.url,
    sha256: modBody.properties.sha256,
  },
} as const

const restartQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { restart: { type: 'string', enum: ['true', 'false'] } },
} as const
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 255, pattern: MOD_NAME.source } },
} as const

export function registerModRoutes(app: FastifyInstance, mods: ModsManager, supervisor: GameSupervisor): void {
  const maybeRestart = async (restart: string | undefined): Promise<void> => {
    if (restart === 'true' && supervisor.running) await supervisor.restart()
  }

  app.get('/mods', { schema: { tags: ['mods'], summary: 'Mods in the mods folder and pending changes' } }, async () => await mods.list())

  app.get<{ Params: { name: string } }>('/mods/:name', { schema: { tags: ['mods'], params: nameParams } }, async (req) => {
    const entry = (await mods.list()).mods.find((m) => m.name === req.params.name)
    if (!entry) throw new FileError('MOD_NOT_FOUND', req.params.name)
    return entry
  })

  app.put<{ Params: { name: string }; Body: ModInstallRequest; Querystring: { restart?: string } }>(
    '/mods/:name',
    {
      schema: {
        tags: ['mods'],
        params: nameParams,
        body: modBody,
        querystring: restartQuery,
        summary: 'Install or replace one mod (downloaded and sha256-checked)',
      },
    },
    async (req) => {
      if (req.body.name !== undefined && req.body.name !== req.params.name)
        throw new FileError('MOD_NAME_INVALID', 'the body name differs from the URL name')
      const listing = await mods.install({ name: req.params.name, url: req.body.url, sha256: req.body.sha256 }, req.body.outbound)
      await maybeRestart(req.query.restart)
      return req.query.restart === 'true' ? await mods.list() : listing
    },
  )

  app.put<{ Body: ModsSetRequest; Querystring: { restart?: string } }>(
    '/mods',
    {
      schema: {
        tags: ['mods'],
        querystring: restartQuery,
        summary: 'Set the whole list of managed mods (spec.mods)',
        body: {
          type: 'object',
          required: ['mods'],
          additionalProperties: false,
          properties: { mods: { type: 'array', maxItems: 512, items: modItem }, outbound: outboundPolicySchema },
        },
      },
    },
    async (req) => {
      const listing = await mods.setAll(req.body.mods, req.body.outbound)
      await maybeRestart(req.query.restart)
      return req.query.restart === 'true' ? await mods.list() : listing
    },
  )

  app.delete<{ Params: { name: string }; Querystring: { restart?: string } }>(
    '/mods/:name',
    {
      schema: { tags: ['mods'], params: nameParams, querystring: restartQuery },
    },
    async (req) => {
      const listing = await mods.remove(req.params.name)
      await maybeRestart(req.query.restart)
      return req.query.restart === 'true' ? await mods.list() : listing
    },
  )
}
