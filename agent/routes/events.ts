// GET /events: the state stream (Server-Sent Events). On connect: one `snapshot` event with
// every component's state; then one `state` event per hub update, each with an increasing id;
// a comment line every keepAliveMs (15 s; ZLH_AGENT_SSE_KEEPALIVE_MS) keeps proxies from closing an idle stream.
//
// Guarantees: events are written in id order; a client that does not read is dropped once its
// unsent backlog passes MAX_BACKLOG (it reconnects and gets a fresh snapshot) instead of growing
// the agent's memory; every stream is ended when the agent shuts down.
import type { ServerResponse } from 'node:http'
import type { AgentRoutePlugin } from '../context.ts'

const MAX_BACKLOG = 4 * 1024 * 1024

export const eventRoutes: AgentRoutePlugin = async (app, { ctx }) => {
  const streams = new Set<ServerResponse>()
  const keepAliveMs = Number(process.env.ZLH_AGENT_SSE_KEEPALIVE_MS ?? 15_000)

  app.addHook('preClose', async () => {
    for (const res of streams) res.end()
    streams.clear()
  })

  app.get(
    '/events',
    {
      schema: {
        summary: 'state stream (text/event-stream): `snapshot` on connect, then `state` per change',
        tags: ['status'],
        response: { 200: { description: 'text/event-stream', type: 'string' } },
      },
    },
    async (req, reply) => {
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      streams.add(res)
      const send = (text: string): void => {
        if (res.writableLength > MAX_BACKLOG) {
          req.log.warn('event stream client is not reading; closing its stream')
          cleanup()
          res.destroy()
          return
        }
        res.write(text)
      }
      const unsubscribe = ctx.hub.subscribe((event) => {
        send(`id: ${event.id}\nevent: state\ndata: ${JSON.stringify(event)}\n\n`)
      })
      const snapshot = ctx.hub.snapshot()
      send(`retry: 1000\nid: ${snapshot.id}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`)
      const keepAlive = setInterval(() => send(`: keep-alive ${Date.now()}\n\n`), keepAliveMs)
      function cleanup(): void {
        clearInterval(keepAlive)
        unsubscribe()
        streams.delete(res)
      }
      res.on('close', cleanup)
    },
  )
}
