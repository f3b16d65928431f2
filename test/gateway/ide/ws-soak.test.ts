// WebSocket soak through the IDE proxy: 200 concurrent sockets × 1,000 messages each, every echo
// delivered in order, and no socket (client side, proxy side or upstream side) left open after.
import t from 'tap'
import { once } from 'node:events'
import { numOpenSockets } from 'http-proxy-3'
import { openWs, signIn, startGateway, startUpstream, waitFor } from '../fixtures.ts'

const SOCKETS = 200
const MESSAGES = 1000

t.test('200 sockets × 1,000 messages, in order, nothing leaked', { timeout: 180_000 }, async (t) => {
  const up = await startUpstream()
  const g = await startGateway()
  t.teardown(async () => {
    await g.gw.close()
    await up.close()
  })
  g.routes.set(301, { address: up.address, ready: true, name: 'soak', namespace: 'n', uid: 'uid-1' })
  const cookie = await signIn(g, 301)
  const started = Date.now()

  const results = await Promise.all(
    Array.from({ length: SOCKETS }, async (_, s) => {
      const ws = openWs(g, 301, { cookie, path: `/soak/${s}` })
      await once(ws, 'open')
      let next = 0
      let outOfOrder = 0
      const done = new Promise<void>((resolve, reject) => {
        ws.on('message', (data) => {
          if (String(data) !== `${s}:${next}`) outOfOrder++
          next++
          if (next === MESSAGES) resolve()
        })
        ws.on('close', () => next < MESSAGES && reject(new Error(`socket ${s} closed after ${next} messages`)))
      })
      for (let i = 0; i < MESSAGES; i++) ws.send(`${s}:${i}`)
      await done
      ws.close(1000)
      await once(ws, 'close')
      return { received: next, outOfOrder }
    }),
  )

  const seconds = (Date.now() - started) / 1000
  t.equal(
    results.reduce((n, r) => n + r.received, 0),
    SOCKETS * MESSAGES,
    'every message echoed',
  )
  t.equal(
    results.reduce((n, r) => n + r.outOfOrder, 0),
    0,
    'every message in order',
  )
  await waitFor(
    () => g.gw.openWebSockets === 0 && up.wss.clients.size === 0 && numOpenSockets() === 0 && up.openSockets() === 0,
    'all proxied sockets to close',
    30_000,
  )
  t.pass(`${SOCKETS * MESSAGES} round trips in ${seconds.toFixed(1)} s`)
})
