// The portal's routes as fastify holds them: starts the portal (test/gateway/portal/portal-env.ts)
// with an onRoute hook installed on the gateway's fastify instance, through fastify's
// `fastify.initialization` diagnostics channel, before the gateway registers anything. Security
// tests enumerate these instead of a hand-written list, so a new route is attacked the day it lands.
import type { Test } from 'tap'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { startPortal, type PortalEnv } from '../gateway/portal/portal-env.ts'

export interface RouteEntry {
  method: string
  url: string
  scope: unknown
}

/** Starts the portal with an onRoute hook on the gateway's fastify instance installed before any route. */
export async function startPortalRecordingRoutes(
  t: Test,
  extra: Parameters<typeof startPortal>[1] = {},
): Promise<{ p: PortalEnv; routes: RouteEntry[] }> {
  // Every fastify instance created meanwhile (the embedded API server is one too), by instance.
  const tables = new Map<FastifyInstance, RouteEntry[]>()
  const onInit = (message: unknown): void => {
    const app = (message as { fastify: FastifyInstance }).fastify
    const routes: RouteEntry[] = []
    tables.set(app, routes)
    app.addHook('onRoute', (r: RouteOptions) => {
      for (const method of [r.method].flat())
        routes.push({ method, url: r.url, scope: (r.config as { scope?: unknown } | undefined)?.scope })
    })
  }
  subscribe('fastify.initialization', onInit)
  try {
    const p = await startPortal(t, extra)
    const routes = tables.get(p.svc.gateway.app)
    if (!routes) throw new Error("the gateway's fastify instance was not seen: did fastify stop publishing fastify.initialization?")
    return { p, routes }
  } finally {
    unsubscribe('fastify.initialization', onInit)
  }
}
