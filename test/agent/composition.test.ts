// The agent's composition root (agent/main.ts): every component — game supervisor and mods
// included — is built there and handed to the route plugins in the context; a route plugin
// (the game's, an embedder's) serves those instances and builds none of its own.
import t from 'tap'
import { GameSupervisor } from '../../agent/game/supervisor.ts'
import { ModsManager } from '../../agent/mods/manager.ts'
import type { AgentContext, AgentRoutePlugin } from '../../agent/context.ts'
import { startTestAgent } from './helpers.ts'

t.test('main.ts builds the game supervisor and mods manager; route plugins get the same instances', async (t) => {
  let seen: AgentContext | undefined
  const probe: AgentRoutePlugin = async (_app, { ctx }) => {
    seen = ctx
  }
  const agent = await startTestAgent(t.testdir(), { extraRoutePlugins: [probe] })
  t.teardown(() => agent.close())
  t.type(agent.ctx.game, GameSupervisor, 'ctx.game is the supervisor')
  t.type(agent.ctx.mods, ModsManager, 'ctx.mods is the mods manager')
  t.equal(seen?.game, agent.ctx.game, 'a route plugin sees the supervisor main.ts built')
  t.equal(seen?.mods, agent.ctx.mods)
  const res = await agent.request('/game')
  t.equal(res.status, 200)
  t.same(await res.json(), { ...agent.ctx.game.status(), spec: agent.ctx.game.currentSpec ?? null }, 'GET /game serves ctx.game')
  const status = (await (await agent.request('/status')).json()) as { game?: unknown }
  t.same(status.game, agent.ctx.game.status(), 'its state is in the hub before the first request')
})
