// Runtime routes: list, install (waits for the result), switch `current`, remove.
import type { AgentRoutePlugin } from '../context.ts'
import type { RuntimeInstallRequest, RuntimeSwitchRequest } from '../../src/api/agent-types.ts'
import {
  installBodySchema,
  installResultSchema,
  removeQuerySchema,
  removeResultSchema,
  runtimeListSchema,
  runtimeNameParams,
  runtimeParams,
  switchBodySchema,
} from './schemas.ts'

export const runtimeRoutes: AgentRoutePlugin = async (app, { ctx }) => {
  app.get(
    '/runtimes',
    {
      schema: { summary: 'installed runtimes and in-flight installs', tags: ['runtimes'], response: { 200: runtimeListSchema } },
    },
    async () => ctx.runtimes.list(),
  )

  app.post<{ Body: RuntimeInstallRequest }>(
    '/runtimes',
    {
      schema: {
        summary: 'install a runtime version from its artifact (sha256-checked, verified) and make it current; answers when done',
        tags: ['runtimes'],
        body: installBodySchema,
        response: { 200: installResultSchema },
      },
    },
    async (req) => ctx.runtimes.install(req.body),
  )

  app.put<{ Params: { name: string }; Body: RuntimeSwitchRequest }>(
    '/runtimes/:name/current',
    {
      schema: {
        summary: 'switch `current` to an installed version (rollback)',
        tags: ['runtimes'],
        params: runtimeNameParams,
        body: switchBodySchema,
        response: { 200: installResultSchema },
      },
    },
    async (req) => ctx.runtimes.switchTo(req.params.name, req.body.version),
  )

  app.delete<{ Params: { name: string; version: string }; Querystring: { force?: string } }>(
    '/runtimes/:name/:version',
    {
      schema: {
        summary: 'remove an installed version; refused for the current one unless ?force=true',
        tags: ['runtimes'],
        params: runtimeParams,
        querystring: removeQuerySchema,
        response: { 200: removeResultSchema },
      },
    },
    async (req) =>
      ctx.runtimes.remove(req.params.name, req.params.version, { force: req.query.force === 'true' || req.query.force === '1' }),
  )
}
