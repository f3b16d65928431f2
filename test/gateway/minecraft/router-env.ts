// Test environment for the Minecraft router: the embedded API server in-process with our CRDs, the
// whole gateway service against it (its informer cache is what the router reads), and the router on a
// random loopback port. GameServer statuses are written by the test, as the controller would.

import type { Test } from 'tap'
import { GAMESERVER, type GameServer } from '../../../src/api/index.ts'
import { PatchType } from '../../../src/runtime/index.ts'
import { startMinecraftRouter, type MinecraftRouter, type MinecraftRouterOptions } from '../../../src/gateway/minecraft/index.ts'
import type { ServerChange } from '../../../src/gateway/portal/informers.ts'
import { gameSpec, NS, readyConditions, startPortal, type PortalEnv } from '../portal/portal-env.ts'
import { SUFFIX } from '../fixtures.ts'

export { SUFFIX }

export interface RouterEnv {
  portal: PortalEnv
  router: MinecraftRouter
  port: number
  /** Creates a GameServer whose game listens on `port`. */
  createGame(name: string, port: number, over?: Record<string, unknown>, namespace?: string): Promise<void>
  /** Writes its status and resolves once the router's cache shows it. */
  setStatus(name: string, status: Record<string, unknown>, namespace?: string): Promise<void>
  /** The GameServer as the API server has it. */
  get(name: string, namespace?: string): Promise<GameServer>
  /** The router's writes to the API (patch calls), as it made them: name and body. */
  patches: Array<{ name: string; body: unknown }>
}

export const running = () => ({ phase: 'Running', address: '127.0.0.1', conditions: readyConditions(true), sleep: null })

export const containerSleep = (since = new Date(Date.now() - 60_000).toISOString()) => ({
  phase: 'Sleeping',
  sleep: { level: 'container', since, reason: 'no players for 60 s' },
  conditions: readyConditions(false),
  address: null,
})

export async function startRouterEnv(t: Test, extra: Partial<MinecraftRouterOptions> = {}): Promise<RouterEnv> {
  const portal = await startPortal(t)
  const { svc, env } = portal
  const patches: RouterEnv['patches'] = []
  const router = await startMinecraftRouter({
    listen: { host: '127.0.0.1', port: 0 },
    cache: svc.informers,
    client: {
      patch: ((ref, name, namespace, body, type, opts) => {
        patches.push({ name, body })
        return env.client.patch(ref, name, namespace, body, type, opts)
      }) as PortalEnv['env']['client']['patch'],
    },
    suffix: SUFFIX,
    systemNamespace: 'zlh-system',
    ...extra,
  })
  t.teardown(() => router.close())
  const untilCached = (name: string, namespace: string, pred: (gs: GameServer) => boolean): Promise<void> => {
    const now = svc.informers.get('GameServer', namespace, name) as GameServer | undefined
    if (now && pred(now)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        svc.informers.events.off('change', on)
        reject(new Error(`the informer cache never showed the expected ${namespace}/${name}`))
      }, 30_000)
      const on = (c: ServerChange): void => {
        const o = c.object
        if (o.kind !== 'GameServer' || o.metadata.name !== name || o.metadata.namespace !== namespace || !pred(o)) return
        clearTimeout(timer)
        svc.informers.events.off('change', on)
        resolve()
      }
      svc.informers.events.on('change', on)
    })
  }

  return {
    portal,
    router,
    port: router.address.port,
    async createGame(name, port, over = {}, namespace = NS) {
      if (namespace !== NS)
        await env.client
          .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as never)
          .catch((e: { statusCode?: number }) => (e.statusCode === 409 ? undefined : Promise.reject(e)))
      const created = await env.client.create({
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'GameServer',
        metadata: { name, namespace },
        spec: gameSpec({ server: { command: ['flying-squid'], port }, ...over }),
      } as never)
      await untilCached(name, namespace, (gs) => gs.metadata.uid === (created as GameServer).metadata.uid)
    },
    async setStatus(name, status, namespace = NS) {
      const written = await env.client.patch(GAMESERVER, name, namespace, { status }, PatchType.merge, {
        subresource: 'status',
        fieldManager: 'zlh-controller',
      })
      await untilCached(name, namespace, (gs) => gs.metadata.resourceVersion === written.metadata?.resourceVersion)
    },
    async get(name, namespace = NS) {
      return (await env.client.get(GAMESERVER, name, namespace)) as unknown as GameServer
    },
    patches,
  }
}
