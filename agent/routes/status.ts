// GET /status: everything the controller needs in one read.
import type { AgentRoutePlugin } from '../context.ts'
import type { AgentStatus, DevEnvState, CodeServerState } from '../../src/api/agent-types.ts'
import { agentVersion } from '../version.ts'
import { statusSchema } from './schemas.ts'

export const statusRoutes: AgentRoutePlugin = async (app, { ctx }) => {
  app.get(
    '/status',
    {
      schema: {
        summary: 'agent, runtimes, dev environment, code-server and game state',
        tags: ['status'],
        response: { 200: statusSchema },
      },
    },
    async (): Promise<AgentStatus> => {
      const list = await ctx.runtimes.list()
      const { components } = ctx.hub.snapshot()
      const status: AgentStatus = {
        agentVersion,
        startedAt: ctx.startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 100) / 10,
        provisioningComplete: ctx.provisioningComplete,
        runtimes: list.runtimes,
        installing: list.installing,
        devEnv: (components.devEnv as DevEnvState | undefined) ?? null,
        codeServer: (components.codeServer as CodeServerState | undefined) ?? null,
        game: components.game ?? null,
        components,
      }
      if (ctx.vmid !== undefined) status.vmid = ctx.vmid
      return status
    },
  )
}
