// AbortSignal on every agent-client call: an aborted call rejects with code ABORTED (cause: the
// reason), cancels its HTTP request (the server sees the connection close), and an aborted
// signal sends nothing. The server here is a STUB AGENT (plain node:http / ws, labelled so in
// every answer): it hangs or trickles on purpose, which a real agent never does on demand.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import { AgentClient, AgentClientError, AgentClientErrorCodes, AgentGameClient } from '../../src/agent-client/index.ts'

interface StubAgent {
  url: string
  requests: string[]
  openSockets: () => number
  close: () => Promise<void>
}

/** A stub agent: /hang never answers, /trickle sends headers and half a body, /ok answers JSON. */
async function startStubAgent(): Promise<StubAgent> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.setHeader('x-stub', 'stub agent (test double)')
    if (req.url?.startsWith('/hang') === true) return
    if (req.url?.startsWith('/trickle') === true || req.url?.startsWith('/files/') === true) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      res.write('{"stub":')
      return
    }
    // Complete answers close their connection, so any socket still open belongs to a cut call.
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' })
    res.end('{"stub":"stub agent"}')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    openSockets: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (cond()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const token = 'stub-token-'.padEnd(40, 'x')

t.test('a call aborted while waiting for the answer rejects ABORTED and closes its connection', async (t) => {
  const stub = await startStubAgent()
  t.teardown(() => stub.close())
  const client = new AgentClient({ baseUrl: stub.url, token })
  const ac = new AbortController()
  const call = client.request('GET', '/hang', undefined, { signal: ac.signal }).catch((e: unknown) => e)
  await until(() => stub.requests.includes('GET /hang'), 'the request reached the stub')
  ac.abort(new Error('controller stopping'))
  const err = await call
  t.type(err, AgentClientError)
  t.match(err, { code: AgentClientErrorCodes.ABORTED, message: /GET \/hang: aborted by the caller \(controller stopping\)/ })
  await until(() => stub.openSockets() === 0, 'the connection closed')
  t.equal(((err as Error).cause as Error).message, 'controller stopping', 'cause is the signal reason')
})

t.test('aborting mid-answer (headers and half a body) cancels the request: no socket stays open', async (t) => {
  const stub = await startStubAgent()
  t.teardown(() => stub.close())
  const client = new AgentClient({ baseUrl: stub.url, token })
  const ac = new AbortController()
  const call = client.request('GET', '/trickle', undefined, { signal: ac.signal }).catch((e: unknown) => e)
  await until(() => stub.openSockets() === 1 && stub.requests.length === 1, 'the stub is trickling')
  await new Promise((resolve) => setTimeout(resolve, 20))
  ac.abort()
  t.match(await call, { code: 'ABORTED' })
  await until(() => stub.openSockets() === 0, 'the connection closed')
  t.equal(stub.openSockets(), 0, 'the aborted call left no socket')

  const game = new AgentGameClient({ baseUrl: stub.url, token })
  const ac2 = new AbortController()
  const read = game.readFile('world/level.dat', { signal: ac2.signal }).catch((e: unknown) => e)
  await until(() => stub.openSockets() === 1 && stub.requests.length === 2, 'the file read is trickling')
  await new Promise((resolve) => setTimeout(resolve, 20))
  ac2.abort()
  t.match(await read, { code: 'ABORTED', message: /GET \/files\/world\/level\.dat/ })
  await until(() => stub.openSockets() === 0, 'the file read connection closed')
})

t.test('an already-aborted signal sends nothing; the client default signal aborts every call', async (t) => {
  const stub = await startStubAgent()
  t.teardown(() => stub.close())
  const client = new AgentClient({ baseUrl: stub.url, token })
  const game = new AgentGameClient({ baseUrl: stub.url, token })
  const aborted = AbortSignal.abort(new Error('gone'))
  const calls: Array<Promise<unknown>> = [
    client.status({ signal: aborted }),
    client.listRuntimes({ signal: aborted }),
    client.switchRuntime('a', '1', { signal: aborted }),
    client.removeRuntime('a', '1', { force: true, signal: aborted }),
    client.codeServer({ signal: aborted }),
    client.startCodeServer({ signal: aborted }),
    client.stopCodeServer({ signal: aborted }),
    client.restartCodeServer({ signal: aborted }),
    client.devEnv({ signal: aborted }),
    client.openapi({ signal: aborted }),
    client.installRuntime({ name: 'a', version: '1', url: 'http://127.0.0.1:1/x', sha256: 'a'.repeat(64) } as never, { signal: aborted }),
    game.game({ signal: aborted }),
    game.putGame({} as never, { signal: aborted }),
    game.startGame({ signal: aborted }),
    game.stopGame({ signal: aborted }),
    game.restartGame({ signal: aborted }),
    game.mods({ signal: aborted }),
    game.installMod({ name: 'm', url: 'http://127.0.0.1:1/m', sha256: 'a'.repeat(64) }, { signal: aborted }),
    game.setMods([], { signal: aborted }),
    game.removeMod('m', { signal: aborted }),
    game.list('', { signal: aborted }),
    game.readFile('a', { signal: aborted }),
    game.writeFile('a', 'x', { signal: aborted }),
    game.deleteFile('a', { signal: aborted }),
    game.mkdir('a', { signal: aborted }),
    game.rename('a', 'b', { signal: aborted }),
    game.upload('a', Buffer.from('x'), { signal: aborted }),
  ]
  const results = await Promise.all(
    calls.map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    ),
  )
  t.ok(
    results.every((r) => r instanceof AgentClientError && r.code === 'ABORTED'),
    'every method takes { signal } and rejects ABORTED',
  )
  t.same(stub.requests, [], 'nothing was sent')

  const stop = new AbortController()
  const scoped = new AgentClient({ baseUrl: stub.url, token, signal: stop.signal })
  t.same(await scoped.status(), { stub: 'stub agent' }, 'calls go through while the default signal is live')
  const hanging = scoped.request('GET', '/hang').catch((e: unknown) => e)
  const stream = scoped.events({ reconnectDelayMs: 10 })
  const streamEnd = stream.next()
  await until(() => stub.requests.includes('GET /hang'), 'the hanging call reached the stub')
  stop.abort()
  t.match(await hanging, { code: 'ABORTED' }, 'the client signal aborts a call in flight')
  t.same(await streamEnd, { done: true, value: undefined }, 'and ends the event stream')
  t.match(
    await new AgentGameClient({ baseUrl: stub.url, token, signal: stop.signal }).game().catch((e: unknown) => e),
    { code: 'ABORTED' },
    'the game client honours it too',
  )
  await until(() => stub.openSockets() === 0, 'no connection left')
})

t.test('a call that hits its own timeout is still TRANSPORT, not ABORTED', async (t) => {
  const stub = await startStubAgent()
  t.teardown(() => stub.close())
  const client = new AgentClient({ baseUrl: stub.url, token, timeoutMs: 50 })
  const err = await client.request('GET', '/hang', undefined, { signal: new AbortController().signal }).catch((e: unknown) => e)
  t.match(err, { code: 'TRANSPORT' })
})

t.test('an aborted console signal terminates the WebSocket (stub agent console)', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  )
  const serverClosed = new Promise<void>((resolve) =>
    wss.on('connection', (ws) => {
      ws.send('{"stub":"stub agent console"}')
      ws.on('close', () => resolve())
    }),
  )
  const game = new AgentGameClient({ baseUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, token })
  const ac = new AbortController()
  const ws = game.openConsole('game', { signal: ac.signal })
  await new Promise<void>((resolve) => ws.once('message', () => resolve()))
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  ac.abort()
  await closed
  await serverClosed
  t.pass('client and stub both saw the console close')
})
