// Dev environment routes: code-server start/stop/restart and the dev environment's state.
import type { AgentRoutePlugin } from '../context.ts'
import { codeServerStateSchema, devEnvStateSchema } from './schemas.ts'

export const devRoutes: AgentRoutePlugin = async (app, { ctx }) => {
  const schema = (summary: string) => ({ summary, tags: ['dev'], response: { 200: codeServerStateSchema } })
  app.get('/dev/codeserver', { schema: schema('code-server state') }, async () => ctx.codeServer.state())
  app.post('/dev/codeserver/start', { schema: schema('enable and start code-server (waits until /healthz answers)') }, async () =>
    ctx.codeServer.start(),
  )
  app.post('/dev/codeserver/stop', { schema: schema('disable and stop code-server') }, async () => ctx.codeServer.stop())
  app.post('/dev/codeserver/restart', { schema: schema('enable and restart code-server') }, async () => ctx.codeServer.restart())
  app.get(
    '/dev/env',
    {
      schema: { summary: 'the dev environment (user, home, workspace, PATH)', tags: ['dev'], response: { 200: devEnvStateSchema } },
    },
    async () => ctx.devEnv.state(),
  )
}
