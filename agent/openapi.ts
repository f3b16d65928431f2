// The agent's OpenAPI document (GET /openapi.json), built on the first request for it, never at start.
//
// @fastify/swagger (and yaml, which it loads) registered on the agent would be loaded and wired
// into every route in every container, for a document only tools ask for. Instead the agent
// keeps the options of each route as fastify announces them (the same objects the plugin
// would keep, read when the document is built, after every plugin finished with them) and, on
// the first GET /openapi.json, registers @fastify/swagger with the same options on a separate,
// never-listening fastify instance, declares the same routes there (no handlers run, no schema
// is compiled) and asks it for the document.
//
// Guarantees: the document is the one the plugin registered on the agent itself produces (same
// options, same routes in the same order, HEAD routes left out as the plugin leaves them out);
// it is built once and served from memory afterwards.
import Fastify from 'fastify'
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { SwaggerOptions } from '@fastify/swagger'

/** Collects the routes of `app` from now on; returns the document builder (call it after `app` is ready). */
export function lazyOpenApiDocument(app: FastifyInstance, options: SwaggerOptions): () => Promise<unknown> {
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => {
    // The plugin skips fastify's HEAD routes (exposeHeadRoutes is not set), and the builder's
    // instance does not make them.
    if (route.method !== 'HEAD') routes.push(route)
  })
  let document: Promise<unknown> | undefined
  return () => {
    document ??= build(app, options, routes)
    // A failed build is not kept: the next request tries again.
    document.catch(() => {
      document = undefined
    })
    return document
  }
}

async function build(app: FastifyInstance, options: SwaggerOptions, routes: readonly RouteOptions[]): Promise<unknown> {
  const { default: swagger } = await import('@fastify/swagger')
  const builder = Fastify({ exposeHeadRoutes: false })
  // The route schemas are only read: nothing is validated or serialized on this instance.
  builder.setValidatorCompiler(() => () => true)
  builder.setSerializerCompiler(() => (data) => JSON.stringify(data))
  for (const schema of Object.values(app.getSchemas())) builder.addSchema(schema)
  await builder.register(swagger, options)
  const noHandler = async () => undefined
  for (const route of routes) {
    builder.route({ method: route.method, url: route.url, schema: route.schema, config: route.config, handler: noHandler })
  }
  await builder.ready()
  try {
    return builder.swagger()
  } finally {
    await builder.close()
  }
}
