// createApiServer: the embedded Kubernetes-compatible API server, wired together. Starts on
// HTTPS (generated CA + serving certificate) with bearer-token auth (tokens.json users and
// ServiceAccount tokens), serves discovery, health, version, OpenAPI, every registered resource
// and the create-only review/TokenRequest endpoints, and writes the kubeconfig only once serving.
//
// Guarantees
// - Every request target is parsed once, before routing (paths.ts): fastify routes its normal
//   form, authorization (authorizer.ts) and the resource handler read the same parsed target, and
//   a target with no single normal form (absolute-form, `..`, `//`, %2F...) is refused with 400.
// - Kubernetes RBAC (rbac/) decides every request and guards writes of roles and bindings
//   (escalation prevention); its default roles are in place before the port opens.
// - Every route needs a valid token except those declared anonymous (the health probes); the
//   request flow is kube-apiserver's: authenticate → impersonate (Impersonate-* headers, each
//   authorized) → authorize the routed attributes → handler, with the final user on every write.
// - Binds loopback unless told otherwise and refuses a non-loopback bind without TLS.
// - The kubeconfig (0600) exists only after the port is open, and holds the real port.
// - close() stops controllers, ends watches and closes the database; a later createApiServer on
//   the same dataDir resumes the same objects and resourceVersion sequence.

import { mkdirSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import type { KubeConfig } from '@kubernetes/client-node'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { entryGroups, loadTokens, type TokenEntry } from './auth.ts'
import { Authenticator, impersonate } from './authn/index.ts'
import { forbidden, requestAttributes, type Authorizer, type RuleResolver } from './authorizer.ts'
import { createRbac } from './rbac/index.ts'
import { CREATE_ONLY_DISCOVERY, isCreateOnly, serveCreateOnly } from './reviews/index.ts'
import { GROUP_MASTERS, GROUP_VIEWERS, type UserInfo } from './user.ts'
import { CRD_GR } from './builtin-types.ts'
import { Controllers, type SwitchableController } from './controllers.ts'
import { crdToType } from './crd.ts'
import { Discovery, DISCOVERY_V2_TYPE, DISCOVERY_V2BETA1_TYPE, VERSION_INFO, type Doc } from './discovery.ts'
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts'
import { negotiate } from './negotiate.ts'
import { parseApiPath, parseRequestTarget, type PathTarget, type RequestPath } from './paths.ts'
import { ensurePki } from './pki.ts'
import { ResourceRegistry } from './registry.ts'
import { ResourceHandler, type RequestIdentity } from './resource-handler.ts'
import { versionInfo } from './resource-type.ts'
import { ObjectService } from './service.ts'
import { builtinColumns, renderTable } from './table/index.ts'
import { trackUpdate } from './apply/index.ts'
import { openApiRoutes } from './openapi-routes.ts'
import { ownershipSchema } from './resource-type.ts'
import { ApiError, errors } from './status.ts'
import { ObjectStore } from './store.ts'
import { MAX_BODY_BYTES } from './limits.ts'
import { WatchHub } from './watch-hub.ts'

export { MAX_BODY_BYTES }

export interface ApiServerOptions {
  /** Directory for the database, PKI, tokens and (by default) the kubeconfig. */
  dataDir: string
  host?: string
  /** 0 (default) picks a free port. */
  port?: number
  /** HTTPS (default true). Plain HTTP is allowed only on loopback. */
  tls?: boolean
  /** Tokens accepted besides those in <dataDir>/tokens.json. */
  tokens?: TokenEntry[]
  /** Where to write the kubeconfig; default <dataDir>/kubeconfig. */
  kubeconfigPath?: string
  /** fastify/pino logger option; default off. */
  logger?: boolean | Record<string, unknown>
  /** Events kept per resource for watch resumption (default 10,000). */
  watchHistorySize?: number
  /** How often watches that allow bookmarks get one (default 60 s). */
  watchBookmarkIntervalMs?: number
  /** Lifetime of Events (default 1 h). */
  eventTtlSeconds?: number
  /** Built-in controllers not to run, so a real kube-controller-manager can (default: run all). */
  disableControllers?: readonly SwitchableController[]
  /** How long a paginated list's continue token stays valid (default 5 min). */
  listSnapshotTtlMs?: number
  /** 'fsync' makes every commit survive power loss too (slower); default survives process kill. */
  durability?: 'process' | 'fsync'
}

export interface ApiServer {
  /** https://127.0.0.1:<port> (or http://). */
  url: string
  port: number
  kubeconfigPath: string
  caPem?: string
  adminToken: string
  /** A token of tokens.json in group zlh:viewers (bound to the "view" ClusterRole), if any. */
  readOnlyToken?: string
  /** Every route served (method, URL pattern, whether it is served without a token), for audits and tests. */
  routes: ReadonlyArray<{ method: string; url: string; anonymous: boolean }>
  /** A client-node KubeConfig for this server (admin unless `token` is given). */
  kubeConfig(token?: string): KubeConfig
  /** The kubeconfig YAML for `token` (default admin). */
  kubeconfigYaml(token?: string): string
  close(): Promise<void>
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

const HEALTH_PATHS = ['/healthz', '/livez', '/readyz']

/** A request's target, parsed once before routing. */
interface RoutedTarget {
  path: RequestPath
  /** The API path it names, undefined outside /api and /apis. */
  api: PathTarget | undefined
}

/** Route config: `anonymous` routes are served without a token (they reveal nothing but liveness). */
interface RouteAccess {
  anonymous?: boolean
}

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1'
  const tls = opts.tls ?? true
  if (!tls && !isLoopback(host)) throw new Error(`refusing to serve plain HTTP on ${host}: a non-loopback bind needs TLS (drop tls: false)`)
  const dataDir = resolve(opts.dataDir)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const tokens = loadTokens(join(dataDir, 'tokens.json'), opts.tokens)
  const admin = tokens.find((t) => entryGroups(t).includes(GROUP_MASTERS))
  if (!admin)
    throw new Error(
      `no admin token (a user in group ${GROUP_MASTERS}) in ${join(dataDir, 'tokens.json')}; add one or delete the file to regenerate it`,
    )
  const reader = tokens.find((t) => entryGroups(t).includes(GROUP_VIEWERS) && !entryGroups(t).includes(GROUP_MASTERS))
  const pki = tls ? await ensurePki(join(dataDir, 'pki'), [host]) : undefined

  const store = new ObjectStore(join(dataDir, 'state.db'), opts.durability)
  const registry = new ResourceRegistry()
  for (const crd of store.list(CRD_GR)) registry.set(crdToType(crd.obj))
  const hub = new WatchHub(store.rv, opts.watchHistorySize ?? 10_000)
  const service = new ObjectService(store, registry)
  const controllers = new Controllers(service, registry, {
    eventTtlSeconds: opts.eventTtlSeconds ?? 3600,
    disabled: opts.disableControllers,
  })
  // The registry and the controllers' indexes follow changes at once (the next request or sweep
  // must see them); watchers hear of changes only once they are durable.
  store.onStage((events) => {
    for (const e of events) {
      if (e.gr !== CRD_GR) continue
      if (e.type === 'DELETED') registry.remove(crdToType(e.cur.obj).gr)
      else registry.set(crdToType(e.cur.obj))
    }
    controllers.observe(events)
  })
  store.onCommit((events) => hub.publish(events))
  // RBAC: its binding index follows every staged change; the default roles are reconciled before serving.
  const rbac = createRbac({ store, service, registry, controllers })
  service.writeGuard = rbac.writeGuard
  controllers.bootstrap()
  rbac.bootstrap()
  const handler = new ResourceHandler(service, registry, hub, {
    watchBookmarkIntervalMs: opts.watchBookmarkIntervalMs ?? 60_000,
    watchMaxBufferedBytes: 64 * 1024 * 1024,
    defaultWatchTimeoutSeconds: 1800,
    listSnapshotTtlMs: opts.listSnapshotTtlMs ?? 5 * 60_000,
  })
  const discovery = new Discovery(registry, CREATE_ONLY_DISCOVERY)
  const serviceAccounts = registry.byGr('serviceaccounts')!
  const auth = new Authenticator(tokens, join(dataDir, 'service-account.key'), (namespace, name) => {
    const sa = store.get(serviceAccounts.gr, namespace, name)?.obj
    return sa && { uid: sa.metadata.uid!, deleting: sa.metadata.deletionTimestamp !== undefined }
  })
  const authorizer: Authorizer & RuleResolver = rbac.authorizer
  const reviewDeps = { authenticator: auth, service, registry, authorizer }

  // Parsed before routing so that fastify routes the normal form; read back by raw request.
  const targets = new WeakMap<IncomingMessage, RoutedTarget | ApiError>()
  // Who each request acts as (after impersonation) and the verb it was authorized for.
  const identities = new WeakMap<IncomingMessage, RequestIdentity>()
  const identityOf = (req: FastifyRequest): RequestIdentity => {
    const id = identities.get(req.raw)
    if (!id) throw errors.internal('the request reached its handler unauthenticated')
    return id
  }
  const routedTarget = (req: FastifyRequest): RoutedTarget => {
    const t = targets.get(req.raw)
    if (t === undefined) throw errors.internal('the request target was not parsed before routing')
    if (t instanceof ApiError) throw t
    return t
  }
  const app: FastifyInstance = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: true,
    rewriteUrl(raw: IncomingMessage): string {
      try {
        const path = parseRequestTarget(raw.url ?? '')
        targets.set(raw, { path, api: parseApiPath(path.segments) })
        return `/${path.segments.map(encodeURIComponent).join('/')}${path.query ? `?${path.query}` : ''}`
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        // Routed nowhere; the onRequest hook answers with this 400 before any handler.
        targets.set(raw, err)
        return '/'
      }
    },
    ...(pki ? { https: { key: pki.keyPem, cert: pki.certPem } } : {}),
  } as Record<string, unknown>) as unknown as FastifyInstance
  const routes: Array<{ method: string; url: string; anonymous: boolean }> = []
  app.addHook('onRoute', (r) => {
    const anonymous = (r.config as RouteAccess | undefined)?.anonymous === true
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, anonymous })
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body))

  // Authentication, impersonation, then authorization on the parsed target, for every route but the anonymous ones.
  app.addHook('onRequest', async (req, reply) => {
    const target = routedTarget(req)
    if ((req.routeOptions.config as RouteAccess | undefined)?.anonymous === true) return
    const authenticated = await auth.authenticateHeader(req.headers.authorization)
    if (!authenticated) {
      sendStatus(
        reply,
        errors.unauthorized(
          authenticated === null
            ? undefined
            : 'Unauthorized: the bearer token is not valid here (unknown, expired, or its ServiceAccount is gone); use a token from the kubeconfig or tokens.json, or mint a new one with kubectl create token',
        ),
      )
      return reply
    }
    let user: UserInfo
    try {
      user = impersonate(req.raw.rawHeaders, authenticated, authorizer)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      sendStatus(reply, err)
      return reply
    }
    const attrs = requestAttributes(req.method, target.path.path, target.api, target.path.query)
    const decision = authorizer.authorize(user, attrs)
    if (!decision.allowed) {
      // Who was refused what (never a token), for whoever reads the server's log.
      req.log.info(
        {
          user: user.name,
          groups: user.groups,
          ...(user !== authenticated ? { impersonatedBy: authenticated.name } : {}),
          verb: attrs.verb,
          resource: attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource,
          apiGroup: attrs.apiGroup,
          namespace: attrs.namespace,
          name: attrs.name,
          path: attrs.resourceRequest ? undefined : attrs.path,
        },
        'request forbidden',
      )
      sendStatus(reply, forbidden(user, attrs, decision.reason))
      return reply
    }
    identities.set(req.raw, { user, verb: attrs.verb })
  })

  // No response leaves before the state it reflects is durable (group commit: see store.ts).
  app.addHook('onSend', async () => {
    await store.settled()
  })

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof ApiError) return sendStatus(reply, err)
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendStatus(reply, errors.tooLarge(MAX_BODY_BYTES))
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendStatus(reply, errors.unsupportedMediaType(String(req.headers['content-type'] ?? ''), ['application/json']))
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendStatus(reply, errors.badRequest(err.message))
    req.log.error({ err }, 'request failed')
    return sendStatus(reply, errors.internal(err.message))
  })
  app.setNotFoundHandler((req, reply) => sendStatus(reply, errors.resourceNotFound(routedTarget(req).path.path)))

  const plain = (reply: FastifyReply, text: string) =>
    reply.type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send(text)
  const anonymous: { config: RouteAccess } = { config: { anonymous: true } }
  for (const p of HEALTH_PATHS) {
    app.get(p, anonymous, async (_req, reply) => plain(reply, 'ok'))
    app.get(`${p}/*`, anonymous, async (_req, reply) => plain(reply, 'ok'))
  }
  app.get('/version', async (_req, reply) => reply.type('application/json').send(JSON.stringify(VERSION_INFO)))

  const sendDoc = (req: FastifyRequest, reply: FastifyReply, d: Doc, type = 'application/json') => {
    reply.header('ETag', d.etag).header('Cache-Control', 'public')
    if (req.headers['if-none-match'] === d.etag) return reply.code(304).send()
    // A Buffer keeps fastify from rewriting the media-type parameters clients match on.
    return reply.header('content-type', type).send(Buffer.from(d.body))
  }
  let serverAddress = ''
  const discoveryRoot = async (req: FastifyRequest, reply: FastifyReply, legacy: boolean) => {
    const rep = negotiate(req.headers.accept, ['discovery-v2', 'discovery-v2beta1'])
    if (rep === 'discovery-v2') return sendDoc(req, reply, discovery.aggregated(legacy, 'v2'), DISCOVERY_V2_TYPE)
    if (rep === 'discovery-v2beta1') return sendDoc(req, reply, discovery.aggregated(legacy, 'v2beta1'), DISCOVERY_V2BETA1_TYPE)
    return sendDoc(req, reply, legacy ? discovery.apiVersions(serverAddress) : discovery.apiGroupList())
  }
  app.get('/api', (req, reply) => discoveryRoot(req, reply, true))
  app.get('/apis', (req, reply) => discoveryRoot(req, reply, false))
  const api = async (req: FastifyRequest, reply: FastifyReply) => {
    const { path, api: target } = routedTarget(req)
    if (!target) throw errors.resourceNotFound(path.path)
    if (target.type === 'apis') return discoveryRoot(req, reply, false)
    if (target.type === 'group') {
      if (target.group === '') return discoveryRoot(req, reply, true)
      const d = discovery.apiGroup(target.group)
      if (!d) throw errors.resourceNotFound(`/apis/${target.group}`)
      return sendDoc(req, reply, d)
    }
    if (target.type === 'groupVersion') {
      const d = discovery.resourceList(target.group, target.version)
      if (!d) throw errors.resourceNotFound(path.path)
      if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(req.method, 'a discovery document')
      return sendDoc(req, reply, d)
    }
    if (isCreateOnly(target)) return serveCreateOnly(req, reply, target, identityOf(req).user, reviewDeps)
    await handler.handle(req, reply, target, identityOf(req))
    return reply
  }
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
  app.route({ method: [...methods], url: '/api/*', handler: api })
  app.route({ method: [...methods], url: '/apis/*', handler: api })

  const extensions = { app, registry, store, service, handler, hub }
  await registerExtensions(extensions)

  await app.listen({ host, port: opts.port ?? 0 })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0)
  const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  const hostPart = isIP(clientHost) === 6 ? `[${clientHost}]` : clientHost
  serverAddress = `${hostPart}:${port}`
  const url = `${tls ? 'https' : 'http'}://${hostPart}:${port}`
  const kubeconfigPath = resolve(opts.kubeconfigPath ?? join(dataDir, 'kubeconfig'))
  const yamlFor = (token = admin.token) =>
    kubeconfigYaml({ server: url, caPem: pki?.caPem, token, user: tokens.find((t) => t.token === token)?.user ?? 'user' })
  writeKubeconfig(kubeconfigPath, { server: url, caPem: pki?.caPem, token: admin.token, user: admin.user })

  let closed = false
  return {
    url,
    port,
    kubeconfigPath,
    caPem: pki?.caPem,
    adminToken: admin.token,
    readOnlyToken: reader?.token,
    routes,
    kubeconfigYaml: yamlFor,
    kubeConfig(token?: string) {
      // Loaded on first use: the client library costs ~85 MiB of RSS a bare server never needs.
      const { KubeConfig: KC } = createRequire(import.meta.url)('@kubernetes/client-node') as typeof import('@kubernetes/client-node')
      const kc = new KC()
      kc.loadFromString(yamlFor(token))
      return kc
    },
    async close() {
      if (closed) return
      closed = true
      controllers.stop()
      await app.close()
      await store.close()
    },
  }
}

function sendStatus(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(err.code).type('application/json').send(JSON.stringify(err.toStatus()))
}

/**
 * Optional modules hook in here. Route groups are fastify plugins registered with their prefix
 * (openapi-routes.ts under /openapi), so the hooks above (target parsing, authentication,
 * authorization, durability) and the error handlers apply to them as to the core routes. The
 * table renderer and managed-fields tracking are not routes: they are the handler's and the
 * service's optional strategies, set here so the core runs without them.
 */
export interface ServerParts {
  app: FastifyInstance
  registry: ResourceRegistry
  store: ObjectStore
  service: ObjectService
  handler: ResourceHandler
  hub: WatchHub
}

async function registerExtensions(parts: ServerParts): Promise<void> {
  parts.service.managedFields = ({ oldObj, newObj, manager, subresource, type, version }) => {
    newObj.metadata.managedFields = trackUpdate({
      oldObj,
      newObj,
      manager,
      subresource,
      schema: ownershipSchema(type, version),
      statusSubresource: version.statusSubresource,
    })
  }
  await parts.app.register(openApiRoutes, { prefix: '/openapi', registry: parts.registry, store: parts.store })
  parts.handler.renderTable = (t, version, objs, opts) => {
    const columns = t.builtin ? builtinColumns(t.kind) : (versionInfo(t, version)?.columns ?? [])
    return renderTable(objs, columns, opts)
  }
}
