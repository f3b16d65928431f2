// The game spec with the GameServer CRD's defaults filled in (crds/gameserver.yaml holds the same
// defaults): what the agent's supervisor runs and reports back on GET /game, and what the
// controller compares that report with, so it pushes only real changes. One definition, so the
// two sides never disagree on a default; test/api/contracts.test.ts checks it against the CRD.
// Types only beside it: the agent imports this module without the validator.
import type { EffectiveGameSpec, GameSpecRequest } from './agent-game-types.ts'

export function effectiveGameSpec(req: Pick<GameSpecRequest, 'server' | 'supervision' | 'game' | 'health' | 'idle'>): EffectiveGameSpec {
  const s = req.server
  const v = req.supervision ?? {}
  const h = req.health ?? {}
  const port = s.port ?? 25565
  return {
    server: {
      command: [...s.command],
      args: [...(s.args ?? [])],
      ...(s.env ? { env: s.env.map((e) => ({ ...e })) } : {}),
      ...(s.workingDir ? { workingDir: s.workingDir } : {}),
      port,
      stopCommand: s.stopCommand ?? 'stop',
      gracePeriodSeconds: s.gracePeriodSeconds ?? 30,
    },
    supervision: {
      restartPolicy: v.restartPolicy ?? 'Always',
      backoffSeconds: [...(v.backoffSeconds ?? [30, 60, 120])],
      resetAfterSeconds: v.resetAfterSeconds ?? 30,
      maxConsecutiveFailures: v.maxConsecutiveFailures ?? 5,
    },
    health: {
      probe: h.probe ?? (req.game === 'minecraft' ? 'minecraft' : 'tcp'),
      port: h.port ?? port,
      periodSeconds: h.periodSeconds ?? 10,
      timeoutSeconds: h.timeoutSeconds ?? 5,
      failureThreshold: h.failureThreshold ?? 3,
      initialDelaySeconds: h.initialDelaySeconds ?? 300,
    },
    idle: req.idle
      ? { stopAfterSeconds: req.idle.stopAfterSeconds, wake: req.idle.wake ?? 'onConnect', level: req.idle.level ?? 'process' }
      : null,
  }
}
