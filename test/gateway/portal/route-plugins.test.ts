// One route-registration style: every portal route module is a fastify plugin that adds its
// routes relative to the prefix it is registered with (the portal registers them inside its /api
// plugin), never absolute ones on whatever instance it is given; the API server's OpenAPI routes
// likewise under /openapi. The route-enumeration security tests (test/security/portal-routes.test.ts)
// check that the running portal's routes stay authenticated.
import t from 'tap'
import Fastify, { type FastifyPluginAsync } from 'fastify'
import { agentFileRoutes } from '../../../src/gateway/portal/agent-files.ts'
import { catalogRoutes } from '../../../src/gateway/portal/catalog-routes.ts'
import { eventRoutes, EventStreams } from '../../../src/gateway/portal/events-routes.ts'
import { ideRoutes } from '../../../src/gateway/portal/ide-routes.ts'
import { serverRoutes } from '../../../src/gateway/portal/server-routes.ts'
import { tokenRoutes } from '../../../src/gateway/portal/token-routes.ts'
import { openApiRoutes } from '../../../src/apiserver/openapi-routes.ts'

async function routesOf(plugin: FastifyPluginAsync<any>, prefix: string, opts: Record<string, unknown> = {}): Promise<string[]> {
  const app = Fastify()
  const urls: string[] = []
  app.addHook('onRoute', (r) => {
    urls.push(`${[r.method].flat().join(',')} ${r.url}`)
  })
  await app.register(plugin, { prefix, ...opts })
  await app.ready()
  await app.close()
  return urls
}

t.test('portal route modules are plugins whose routes all sit under the prefix they are given', async (t) => {
  const modules: Array<[string, FastifyPluginAsync<any>, Record<string, unknown>]> = [
    ['server-routes', serverRoutes, {}],
    ['catalog-routes', catalogRoutes, {}],
    ['ide-routes', ideRoutes, {}],
    ['events-routes', eventRoutes, { streams: new EventStreams() }],
    ['token-routes', tokenRoutes, { tokens: {} }],
    ['agent-files', agentFileRoutes, {}],
  ]
  for (const [name, plugin, opts] of modules) {
    const urls = await routesOf(plugin, '/prefix-under-test', opts)
    t.ok(urls.length > 0, `${name} adds routes`)
    t.same(
      urls.filter((u) => !u.split(' ')[1]!.startsWith('/prefix-under-test/')),
      [],
      `${name}: every route under its prefix`,
    )
  }
})

t.test('the API server OpenAPI routes are a plugin registered under /openapi', async (t) => {
  const urls = await routesOf(openApiRoutes, '/openapi', { registry: {}, store: {} })
  t.same(urls.filter((u) => u.startsWith('GET ')).sort(), ['GET /openapi/v2', 'GET /openapi/v3', 'GET /openapi/v3/*'])
})

t.test('EventStreams counts open streams and ends them all at once', async (t) => {
  const streams = new EventStreams()
  const ended: number[] = []
  const ends = [0, 1, 2].map((i) => {
    const end = (): void => {
      if (streams.delete(end)) ended.push(i)
    }
    streams.add(end)
    return end
  })
  t.equal(streams.open, 3)
  ends[1]!()
  t.equal(streams.open, 2)
  streams.closeAll()
  t.same(ended.sort(), [0, 1, 2])
  t.equal(streams.open, 0)
})
