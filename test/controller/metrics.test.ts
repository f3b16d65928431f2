// The controller's own metrics (controller/metrics.ts): zlh_gameserver_players{namespace,name} on the
// registry it is given (the manager's, served at /metrics); a series set from status.players, removed
// while unknown and when the GameServer is gone (its reconcile finds it no more).
import t from 'tap'
import pino from 'pino'
import { Registry } from 'prom-client'
import { Store, type ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { gameServerReconciler } from '../../controller/gameserver.ts'
import type { GameServer } from '../../controller/kinds.ts'
import { ControllerMetrics } from '../../controller/metrics.ts'
import type { ReconcilerDeps } from '../../controller/reconciler-deps.ts'

t.test('players per server in the exposition; unknown and gone servers have no series', async (t) => {
  const registry = new Registry()
  const metrics = new ControllerMetrics(registry)
  metrics.setPlayers('default', 'squid', 3)
  metrics.setPlayers('team-a', 'squid', 0)
  const text = await registry.metrics()
  t.match(text, /# TYPE zlh_gameserver_players gauge/)
  t.match(text, /zlh_gameserver_players\{namespace="default",name="squid"\} 3/)
  t.match(text, /zlh_gameserver_players\{namespace="team-a",name="squid"\} 0/)

  metrics.setPlayers('team-a', 'squid', undefined)
  t.notMatch(await registry.metrics(), /namespace="team-a"/, 'unknown: no series')

  // The GameServer reconcile of a server the cache no longer has forgets its series.
  const stopped: string[] = []
  const watches = { stop: (k: string) => stopped.push(k) } as unknown as AgentWatches
  const reconcile = gameServerReconciler({ metrics } as unknown as ReconcilerDeps, new Store<GameServer>(), watches)
  const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }
  await reconcile({ namespace: 'default', name: 'squid' }, ctx)
  t.notMatch(await registry.metrics(), /namespace="default",name="squid"/, 'gone: no series')
  t.same(stopped, ['default/squid'])
})
