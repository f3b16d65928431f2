// Serves /openapi/v3 (index + one document per group-version) and /openapi/v2 from the
// documents the openapi module builds, rebuilt lazily whenever the set of CRDs changes.
// A fastify plugin: server.ts registers it with the prefix /openapi, inside the server's
// authentication and error handling like every route.

import type { FastifyPluginAsync } from 'fastify'
import { CRD_GR } from './builtin-types.ts'
import { buildOpenApiV3, openApiV2, type OpenApiV3Set } from './openapi/index.ts'
import type { ResourceRegistry } from './registry.ts'
import { errors } from './status.ts'
import type { ObjectStore } from './store.ts'

const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'

/** gnostic openapi_v2.Document {swagger: "2.0", info: {title, version}} in proto wire format. */
function emptyV2Protobuf(): Buffer {
  const str = (field: number, s: string) => Buffer.concat([Buffer.from([(field << 3) | 2, Buffer.byteLength(s)]), Buffer.from(s)])
  const info = Buffer.concat([str(1, 'Kubernetes'), str(2, 'v1.32.0')])
  return Buffer.concat([str(1, '2.0'), Buffer.from([(2 << 3) | 2, info.length]), info])
}

export interface OpenApiRoutesOptions {
  registry: ResourceRegistry
  store: ObjectStore
}

export const openApiRoutes: FastifyPluginAsync<OpenApiRoutesOptions> = async (app, { registry, store }) => {
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
  app.get('/v3', async (_req, reply) => reply.type('application/json').send(currentV3().rootJson))
  app.get('/v3/*', async (req, reply) => {
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
  app.get('/v2', async (req, reply) => {
    const accept = String(req.headers.accept ?? '')
    if (accept.includes(OPENAPI_V2_PROTOBUF)) {
      // kubectl asks for v2 (protobuf only) when a kind is missing from v3, i.e. not served at all;
      // a document without paths lets it go on to report the unknown kind, as it does against kube.
      return reply.header('content-type', OPENAPI_V2_PROTOBUF).send(emptyV2Protobuf())
    }
    if (accept && !/application\/json|\*\/\*/.test(accept)) throw errors.notAcceptable(accept)
    if (!v2 || v2.gen !== registry.generation) v2 = { gen: registry.generation, json: JSON.stringify(openApiV2(crds())) }
    return reply.type('application/json').send(v2.json)
  })
}
