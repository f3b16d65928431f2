// GET /api/events: a Server-Sent-Events stream of server status changes in the caller's namespaces
// (tenancy.ts: every namespace the caller holds, admin: all; `?namespace=` narrows it to one of them).
// The first event is `snapshot` (every server's status view); then one `status` event per change
// ({type: added|updated|deleted, server: view}); a comment line every 15 s keeps proxies from
// timing the stream out. Level-based: after a reconnect, the new snapshot is the truth.

import type { FastifyPluginAsync } from 'fastify'
import type { ServerChange, ServerInformers } from './informers.ts'
import { principalOf } from './auth.ts'
import { namespaceQuery } from './server-routes.ts'
import { statusView } from './status-view.ts'
import { inNamespaces, listedNamespaces, tenancyOf } from './tenancy.ts'

const HEARTBEAT_MS = 15_000

export interface EventRoutesDeps {
  informers: ServerInformers
  /** The portal's namespace: home of tokens issued without namespaces. */
  namespace: string
  ideUrlFor(vmid: number): string
}

/** The open event streams of one portal: counted, and all ended at once on shutdown. */
export class EventStreams {
  readonly #ends = new Set<() => void>()
  get open(): number {
    return this.#ends.size
  }
  add(end: () => void): void {
    this.#ends.add(end)
  }
  /** False when `end` was already removed (the stream ended before). */
  delete(end: () => void): boolean {
    return this.#ends.delete(end)
  }
  closeAll(): void {
    for (const end of [...this.#ends]) end()
  }
}

export interface EventRoutesOptions extends EventRoutesDeps {
  streams: EventStreams
}

/** The route above, as a fastify plugin the portal registers under its /api prefix. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, deps) => {
  const { streams } = deps
  app.get(
    '/events',
    {
      config: { scope: 'servers:read' },
      schema: {
        tags: ['servers'],
        summary: "Server-Sent Events of the caller's namespaces: `snapshot`, then `status` per change",
        querystring: namespaceQuery,
      },
    },
    (req, reply) => {
      // Decided before the stream starts: a namespace that is not the caller's is a plain 404.
      const { reach, requested } = tenancyOf(principalOf(req), deps.namespace, req.query)
      const shown = listedNamespaces(reach, requested)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      })
      let id = 0
      const send = (event: string, data: unknown): void => {
        res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      }
      send('snapshot', { items: deps.informers.listIn(shown).map((o) => statusView(o, deps.ideUrlFor)) })
      const onChange = (c: ServerChange): void => {
        if (!inNamespaces(shown, c.object.metadata.namespace)) return
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
    },
  )
}
