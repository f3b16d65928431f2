// The controller's own metrics, beside the framework's controller-runtime ones on the same registry
// (the manager's, served at /metrics): zlh_gameserver_players{namespace,name}, the players online
// per GameServer as its health probe last reported them.
// Guarantees: a server whose players are unknown (no probe that reports them, asleep, not running)
// has no series; a deleted server's series is removed.
import { Gauge, type Registry } from 'prom-client'

export class ControllerMetrics {
  readonly players: Gauge<'namespace' | 'name'>

  constructor(registry: Registry) {
    this.players = new Gauge({
      name: 'zlh_gameserver_players',
      help: 'Players online per GameServer, from its health probe (minecraft server-list ping, a2s); absent while unknown',
      labelNames: ['namespace', 'name'],
      registers: [registry],
    })
  }

  /** Records `online` players for the server, or removes its series when unknown (undefined). */
  setPlayers(namespace: string, name: string, online: number | undefined): void {
    if (online === undefined) this.players.remove({ namespace, name })
    else this.players.set({ namespace, name }, online)
  }

  /** Forgets every series of a server that is gone. */
  forget(namespace: string, name: string): void {
    this.players.remove({ namespace, name })
  }
}
