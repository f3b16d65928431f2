// GET /api/events: a Server-Sent-Events stream of server status changes in the portal's namespace.
// The first event is `snapshot` (every server's status view); then one `status` event per change
// ({type: added|updated|deleted, server: view}); a comment line every 15 s keeps proxies from
// timing the stream out. Level-based: after a reconnect, the new snapshot is the truth.

import type { FastifyInstance } from 'fastify'
import type { ServerChange, ServerInformers } from './informers.ts'
import { statusView } from './status-view.ts'

const HEARTBEAT_MS = 15_000

export interface EventRoutesDeps {
  informers: ServerInformers
  namespace: string
  ideUrlFor(vmid: number): string
}

export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): { readonly openStreams: number; closeAll(): void } {
  const streams = new Set<() => void>()
  app.get('/events', {
    config: { scope: 'servers:read' },
    schema: { tags: ['servers'], summary: 'Server-Sent Events: `snapshot`, then `status` per change' },
  }, (req, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    })
    let id = 0
    const send = (event: string, data: unknown): void => { res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
    send('snapshot', { items: deps.informers.list(deps.namespace).map((o) => statusView(o, deps.ideUrlFor)) })
    const onChange = (c: ServerChange): void => {
      if (c.object.metadata.namespace !== deps.namespace) return
      send('status', { type: c.type, server: statusView(c.object, deps.ideUrlFor) })
    }
    deps.informers.events.on('change', onChange)
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS)
    const end = (): void => {
      if (!streams.delete(end)) return
      clearInterval(heartbeat)
      deps.informers.events.off('change', onChange)
      res.end()
    }
    streams.add(end)
    req.raw.once('close', end)
    res.once('close', end)
  })
  return {
    get openStreams() { return streams.size },
    closeAll() { for (const end of [...streams]) end() },
  }
}
