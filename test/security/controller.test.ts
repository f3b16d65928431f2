// The controller part's security promises (issue 20 kept them through the step rewrite):
//  - the per-container agent token never appears in a log line, an Event or a status the
//    reconcile writes — on success and when the agent refuses it;
//  - every agent call runs under the reconcile's signal: a shutdown or reconcile timeout cancels
//    a call to a hung agent (the connection is closed, nothing is left waiting).
// The agent here is the labelled STUB agent of test/controller/steps/stub-agent.ts.
import t from 'tap'
import pino from 'pino'
import { Writable } from 'node:stream'
import { AgentClientError } from '../../src/agent-client/index.ts'
import { AGENT_TOKEN_KEY, agentTokenSecretName } from '../../src/api/index.ts'
import type { ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { devServerKind } from '../../controller/devserver.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import { DEVSERVER, GAMESERVER } from '../../controller/kinds.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { shareStubToken, startWorld } from '../controller/steps/fixtures.ts'

const watches = { ensure: () => {}, stop: () => {} } as unknown as AgentWatches

function capturedLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    log: pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk))
          cb()
        },
      }),
    ),
  }
}

t.test('the agent token is in no log line, Event or status, whether the agent accepts it or not', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  const { log, lines } = capturedLog()
  w.deps.log = log
  const ctx: ReconcileContext = { signal: new AbortController().signal, log, reconcileID: 'sec' }
  await driveServer(w.deps, watches, w.gameServer, ctx, gameServerKind)
  await driveServer(w.deps, watches, w.devServer, ctx, devServerKind)
  // An agent that refuses the token (the reconcile makes a fresh one): the reason says so without repeating it.
  const refusing = await startWorld(t)
  await driveServer(refusing.deps, watches, refusing.gameServer, { ...ctx }, gameServerKind)
  const written = JSON.stringify([
    await w.env.client.get(GAMESERVER, 'squid', 'default'),
    await w.env.client.get(DEVSERVER, 'octo', 'default'),
    await refusing.env.client.get(GAMESERVER, 'squid', 'default'),
  ])
  t.match(written, /"reason":"AgentNotReady"/, 'the refused token is reported')
  t.match(written, /"reason":"ContainerRunning"/, 'the accepted token got through')
  const secret = (await refusing.env.client.get(
    { apiVersion: 'v1', kind: 'Secret' },
    agentTokenSecretName('squid'),
    'default',
  )) as unknown as { data: Record<string, string> }
  const tokens = [w.agent.token, Buffer.from(secret.data[AGENT_TOKEN_KEY]!, 'base64').toString()]
  t.notSame(tokens[0], tokens[1])
  for (const [what, text] of [
    ['logs', lines.join('')],
    ['Events', JSON.stringify([w.events, refusing.events])],
    ['status', written],
  ] as const) {
    for (const token of tokens) t.notOk(text.includes(token), `no token in ${what}`)
  }
})

t.test('a reconcile that is aborted cancels its call to a hung agent', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.hang.add('GET /mods')
  const abort = new AbortController()
  const ctx: ReconcileContext = { signal: abort.signal, log: pino({ level: 'silent' }), reconcileID: 'abort' }
  const running = driveServer(w.deps, watches, w.gameServer, ctx, gameServerKind).then(
    () => undefined,
    (err: unknown) => err,
  )
  for (let i = 0; i < 500 && w.agent.count('GET /mods') === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(w.agent.count('GET /mods'), 1, 'the call reached the hung agent')
  abort.abort(new Error('controller stopping'))
  const err = await running
  t.ok(err instanceof AgentClientError && err.code === 'ABORTED', 'the reconcile ends with ABORTED, not after the 15 s call timeout')
  for (let i = 0; i < 500 && w.agent.openConnections() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(w.agent.openConnections(), 0, 'no connection to the agent stays open')
})
