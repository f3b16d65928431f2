// The HTTP forwarding path against an upstream of the test's own: large bodies both ways with
// backpressure, chunked uploads, HEAD, and a client that goes away aborting the upstream request.
import t from 'tap'
import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signIn, startGateway, waitFor } from '../fixtures.ts'

const BIG = 8 * 1024 * 1024

t.test('bodies, HEAD and aborts through the proxy', async (t) => {
  let upstreamClosed = 0
  const seen: IncomingMessage[] = []
  const up = createServer((req, res) => {
    seen.push(req)
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': BIG })
      res.end(Buffer.alloc(BIG, 7))
      return
    }
    if (req.url === '/hang') {
      req.socket.once('close', () => {
        upstreamClosed++
      })
      res.writeHead(200)
      res.write('partial')
      return
    }
    let n = 0
    req.on('data', (c: Buffer) => {
      n += c.length
    })
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', connection: 'keep-alive' })
      res.end(JSON.stringify({ n, te: req.headers['transfer-encoding'] ?? null }))
    })
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  t.teardown(
    () =>
      new Promise<void>((r) => {
        up.closeAllConnections()
        up.close(() => r())
      }),
  )
  const g = await startGateway()
  t.teardown(() => g.gw.close())
  g.routes.set(9, { address: `127.0.0.1:${(up.address() as AddressInfo).port}`, ready: true, name: 'x', namespace: 'y', uid: 'uid-1' })
  const cookie = await signIn(g, 9)

  const call = (path: string, method = 'GET', body?: (req: ReturnType<typeof request>) => void) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; bytes: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: g.gw.port, path, method, agent: false, headers: { host: g.host(9), cookie, origin: g.origin(9) } },
        (res) => {
          let bytes = 0
          let text = ''
          res.on('data', (c: Buffer) => {
            bytes += c.length
            if (text.length < 1000) text += c.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes, text }))
        },
      )
      req.on('error', reject)
      if (body) body(req)
      else req.end()
    })

  const big = await call('/big')
  t.equal(big.status, 200)
  t.equal(big.bytes, BIG, '8 MiB response arrives whole')

  const upload = await call('/upload', 'POST', (req) => {
    // No content-length: chunked from the client, re-framed to the upstream.
    for (let i = 0; i < 64; i++) req.write(Buffer.alloc(16 * 1024, 1))
    req.end()
  })
  t.equal(upload.status, 200)
  t.equal(JSON.parse(upload.text).n, 64 * 16 * 1024, 'chunked 1 MiB upload arrives whole')
  t.equal(upload.headers['x-upstream'], 'yes')
  t.not(upload.headers.connection, 'keep-alive', "the upstream's connection header is not passed on")

  const head = await call('/upload', 'HEAD')
  t.equal(head.status, 200)
  t.equal(head.bytes, 0)

  // A client that goes away mid-response takes the upstream request with it.
  await new Promise<void>((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: g.gw.port, path: '/hang', agent: false, headers: { host: g.host(9), cookie } },
      (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      },
    )
    req.on('error', () => {})
    req.end()
  })
  await waitFor(() => upstreamClosed === 1, 'the upstream request to be aborted')
  t.equal(upstreamClosed, 1)
})

t.test('the connection pool of an upstream nobody uses any more is closed', async (t) => {
  let connections = 0
  let open = 0
  const up = createServer((_req, res) => res.end('hi'))
  up.on('connection', (s) => {
    connections++
    open++
    s.once('close', () => {
      open--
    })
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  t.teardown(
    () =>
      new Promise<void>((r) => {
        up.closeAllConnections()
        up.close(() => r())
      }),
  )
  const g = await startGateway({ idleUpstreamPoolMs: 200 })
  t.teardown(() => g.gw.close())
  g.routes.set(11, { address: `127.0.0.1:${(up.address() as AddressInfo).port}`, ready: true, name: 'x', namespace: 'y', uid: 'uid-1' })
  const cookie = await signIn(g, 11)
  const get = () =>
    new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: g.gw.port, path: '/x', agent: false, headers: { host: g.host(11), cookie } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode!))
      })
        .on('error', reject)
        .end()
    })

  t.equal(await get(), 200)
  t.equal(g.gw.pooledUpstreams, 1)
  t.equal(open, 1, 'a kept-alive upstream connection')
  // The dev server goes away: nothing uses its pool for a whole period.
  g.routes.delete(11)
  await waitFor(() => g.gw.pooledUpstreams === 0 && open === 0, 'the idle pool and its connection to be closed', 5000)
  t.pass('pool and upstream connection closed')

  // It comes back: a fresh pool, a fresh connection.
  g.routes.set(11, { address: `127.0.0.1:${(up.address() as AddressInfo).port}`, ready: true, name: 'x', namespace: 'y', uid: 'uid-1' })
  t.equal(await get(), 200)
  t.equal(g.gw.pooledUpstreams, 1)
  t.equal(connections, 2)
})
