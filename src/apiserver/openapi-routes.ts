// Serves /openapi/v3 (index + one document per group-version) and /openapi/v2 from the
// documents the openapi module builds, rebuilt lazily whenever the set of CRDs changes.

import type { FastifyInstance } from 'fastify'
import { CRD_GR } from './builtin-types.ts'
import { buildOpenApiV3, openApiV2, type OpenApiV3Set } from './openapi/index.ts'
import type { ResourceRegistry } from './registry.ts'
import { errors } from './status.ts'
import type { ObjectStore } from './store.ts'

export function registerOpenApiRoutes(app: FastifyInstance, registry: ResourceRegistry, store: ObjectStore): void {
  let v3: { gen: number; set: OpenApiV3Set; rootJson: string } | undefined
  let v2: { gen: number; json: string } | undefined
  const crds = () => store.list(CRD_GR).map((o) => o.obj)
  const currentV3 = () => {
    if (!v3 || v3.gen !== registry.generation) {
      const set = buildOpenApiV3(crds())
      v3 = { gen: registry.generation, set, rootJson: JSON.stringify(set.root) }
    }
    return v3
  }
  app.get('/openapi/v3', async (_req, reply) => reply.type('application/json').send(currentV3().rootJson))
  app.get('/openapi/v3/*', async (req, reply) => {
    const [path, query] = req.url.split('?')
    const p = decodeURIComponent(path.slice('/openapi/v3/'.length))
    const doc = currentV3().set.documents.get(p)
    if (!doc) throw errors.resourceNotFound(path)
    const hash = new URLSearchParams(query ?? '').get('hash')
    if (hash !== null && hash !== doc.hash) {
      return reply.code(301).header('Location', currentV3().set.root.paths[p].serverRelativeURL).send()
    }
    if (hash !== null) reply.header('Cache-Control', 'public, immutable')
    else reply.header('Cache-Control', 'no-cache, private')
    return reply.type('application/json').header('ETag', `"${doc.hash}"`).send(doc.json)
  })
  app.get('/openapi/v2', async (req, reply) => {
    const accept = String(req.headers.accept ?? '')
    if (accept && !/application\/json|\*\/\*/.test(accept)) throw errors.notAcceptable(accept)
    if (!v2 || v2.gen !== registry.generation) v2 = { gen: registry.generation, json: JSON.stringify(openApiV2(crds())) }
    return reply.type('application/json').send(v2.json)
  })
}
