// The flying-squid example: a real Minecraft server (Node.js) under the supervisor, driven
// through the agent's API, answering a minecraft-protocol ping and stopped by its `stop` command.
// The port reaches it the way the example GameServer says: spec.server.port → $SERVER_PORT.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import mc from 'minecraft-protocol'
import { startTestAgent } from '../helpers.ts'
import type { GameInfo } from '../../../src/api/agent-game-types.ts'

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((resolve) => srv.close(resolve))
  return port
}

t.test('flying-squid runs under the supervisor, answers a ping, stops on its stop command', { timeout: 120_000 }, async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(async () => {
    const s = (await (await agent.request('/game')).json()) as GameInfo
    if (s.pid) {
      try {
        process.kill(-s.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    await agent.close()
  })
  const port = await freePort()
  const config = path.join(agent.ctx.paths.game, 'config')
  mkdirSync(config, { recursive: true })
  // A small, flat world keeps start-up quick.
  writeFileSync(
    path.join(config, 'settings.json'),
    JSON.stringify({
      'online-mode': false,
      'view-distance': 2,
      'max-entities': 10,
      logging: false,
      generation: { name: 'superflat', options: { worldHeight: 80 } },
    }),
  )
  const res = await agent.request('/game', {
    method: 'PUT',
    json: {
      server: {
        command: [process.execPath, path.join(import.meta.dirname, 'fixtures', 'squid-launcher.cjs')],
        port,
        stopCommand: 'stop',
        gracePeriodSeconds: 30,
      },
      supervision: { restartPolicy: 'OnFailure' },
      running: true,
    },
  })
  t.equal(res.status, 200)
  type Pong = { version?: { name?: string } }
  let pong: Pong | null = null
  const deadline = Date.now() + 90_000
  while (!pong && Date.now() < deadline) {
    try {
      pong = (await mc.ping({ host: '127.0.0.1', port, closeTimeout: 2000 } as mc.PingOptions)) as unknown as Pong
    } catch {
      const s = (await (await agent.request('/game')).json()) as GameInfo
      if (s.state !== 'Running' && s.state !== 'Starting') t.fail(`the server is ${s.state}: ${JSON.stringify(s.lastCrash)}`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  t.ok(pong, 'the server answered a minecraft-protocol ping')
  t.ok(pong?.version?.name, `it reports its version (${pong?.version?.name})`)
  const running = (await (await agent.request('/game')).json()) as GameInfo
  t.equal(running.state, 'Running')
  const stopped = (await (await agent.request('/game/stop', { method: 'POST' })).json()) as GameInfo
  t.equal(stopped.state, 'Stopped')
  t.equal(stopped.lastStop?.endedBy, 'stopCommand', 'its own stop command ended it, within the grace period')
  t.equal(stopped.lastCrash, null, 'no crash recorded')
})
