import t from 'tap'
import { startTestAgent } from '../helpers.ts'
import { AgentGameClient } from '../../../src/agent-client/game.ts'
import { AgentClientError } from '../../../src/agent-client/errors.ts'
import type { ConsoleServerMessage } from '../../../src/api/agent-game-types.ts'

t.test('the game client drives the game, console, files and uploads', async (t) => {
  const agent = await startTestAgent(t.testdir())
  const client = new AgentGameClient({ baseUrl: agent.url, token: agent.token })
  t.teardown(async () => {
    await client.stopGame().catch(() => undefined)
    await agent.close()
  })

  await t.rejects(client.startGame(), { code: 'GAME_NOT_CONFIGURED' })
  let info = await client.putGame({
    server: {
      command: ['/bin/sh', '-c', 'while read l; do echo "got $l"; [ "$l" = bye ] && exit 0; done'],
      stopCommand: 'bye',
      gracePeriodSeconds: 5,
    },
    running: true,
  })
  t.equal(info.state, 'Running')
  const ws = client.openConsole('game')
  t.teardown(() => ws.terminate())
  const out: string[] = []
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as ConsoleServerMessage
    if (m.type === 'output') out.push(m.data)
  })
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(JSON.stringify({ type: 'input', data: 'ping\n' }))
  const deadline = Date.now() + 10_000
  while (!out.join('').includes('got ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.match(out.join(''), /got ping/, 'console input and output through the client')
  info = await client.stopGame()
  t.equal(info.lastStop?.endedBy, 'stopCommand')

  await client.writeFile('config/server.properties', 'motd=hi\n')
  t.equal((await client.readFile('config/server.properties')).toString(), 'motd=hi\n')
  await client.mkdir('backups')
  await client.rename('config/server.properties', 'backups/server.properties')
  t.same(
    (await client.list('backups')).entries.map((e) => e.name),
    ['server.properties'],
  )
  await client.deleteFile('backups', { recursive: true })
  t.same((await client.list('')).entries.map((e) => e.name).sort(), ['config'])
  const up = await client.upload('plugins/x.jar', Buffer.from('JAR'))
  t.same(up, { path: 'plugins/x.jar', bytes: 3 })
  await t.rejects(client.readFile('nope'), { code: 'FILE_NOT_FOUND', statusCode: 404 })
  t.throws(() => client.list('../etc'), AgentClientError, '".." is refused before any request')
  t.same((await client.mods()).mods, [])
})
