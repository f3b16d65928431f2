// HTTP handling of /api/v1/... and /apis/<group>/<version>/... resource requests: maps method,
// path and query onto the object service, list, watch and patch, and shapes the response
// (JSON, YAML, Table, PartialObjectMetadata) the client asked for. Writes carry the requesting
// user and the authorized verb (WriteContext.user/verb) so write guards (RBAC's escalation checks,
// `create` for an apply that creates) decide on who asked.
// Size: kept whole on purpose: every verb goes through the same parsed request, negotiation and
// admission path here, and each verb's own work is already delegated (list.ts, watch-stream.ts, patch.ts, apply/).

import type { FastifyReply, FastifyRequest } from 'fastify'
import { stringify as toYaml } from 'yaml'
import { checkEnvelope, type FieldValidation } from './admission.ts'
import {
  bodyFormat,
  decodeBody,
  isProtobufRepresentation,
  negotiateMedia,
  partialApiVersion,
  type Negotiated,
  type Representation,
} from './negotiate.ts'
import { Lister, selection } from './list.ts'
import { canEncodeProtobuf, encodeProtobufObject, PROTOBUF } from './protobuf-encode.ts'
import { queryBool } from './query-bool.ts'
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts'
import type { PathTarget } from './paths.ts'
import type { ResourceRegistry } from './registry.ts'
import { apiVersionOf, ownershipSchema, versionInfo, type ResourceType } from './resource-type.ts'
import type { DeleteOptions, ObjectService, WriteContext, WriteResult } from './service.ts'
import { applyPatch, ApplyError, conflictCauses, conflictMessage } from './apply/index.ts'
import { ApiError, errors, successStatus } from './status.ts'
import type { StoredObject } from './store.ts'
import { isObject, type KObject } from './types.ts'
import type { UserInfo } from './user.ts'
import type { WatchHub } from './watch-hub.ts'
import { serveWatch } from './watch-stream.ts'

type ResourceTarget = Extract<PathTarget, { type: 'resource' }>

/** Who asks and the verb the request was authorized as. */
export interface RequestIdentity {
  user: UserInfo
  verb: string
}

export type TableRenderer = (
  t: ResourceType,
  version: string,
  objs: KObject[],
  opts: { includeObject: 'None' | 'Metadata' | 'Object'; listMeta?: Record<string, unknown>; noHeaders?: boolean },
) => unknown

export interface ResourceHandlerOptions {
  watchBookmarkIntervalMs: number
  watchMaxBufferedBytes: number
  defaultWatchTimeoutSeconds: number
  listSnapshotTtlMs: number
}

interface Wired {
  obj: KObject
  json?: string
}

function wire(o: Wired, apiVersion: string): string {
  if (o.json !== undefined && o.obj.apiVersion === apiVersion) return o.json
  return JSON.stringify(o.obj.apiVersion === apiVersion ? o.obj : { ...o.obj, apiVersion })
}

function param(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name)
  return v === null ? undefined : v
}

// kube-apiserver's reading of a boolean parameter; the authorizer decides list vs watch with the same one.
const boolParam = queryBool

export class ResourceHandler {
  readonly service: ObjectService
  readonly registry: ResourceRegistry
  readonly hub: WatchHub
  readonly lister: Lister
  readonly opts: ResourceHandlerOptions
  renderTable?: TableRenderer

  constructor(service: ObjectService, registry: ResourceRegistry, hub: WatchHub, opts: ResourceHandlerOptions) {
    this.service = service
    this.registry = registry
    this.hub = hub
    this.lister = new Lister(service.store, opts.listSnapshotTtlMs)
    this.opts = opts
  }

  async handle(req: FastifyRequest, reply: FastifyReply, target: ResourceTarget, identity?: RequestIdentity): Promise<void> {
    const { group, version, resource, namespace, name, subresource } = target
    const t = this.registry.lookup(group, version, resource)
    if (!t) throw errors.resourceNotFound(`${apiVersionOf(group, version)}, Resource=${resource}`)
    if (namespace !== undefined && !t.namespaced)
      throw errors.resourceNotFound(`${resource} is cluster-scoped; drop /namespaces/${namespace}`)
    const v = versionInfo(t, version)!
    if (
      subresource !== undefined &&
      !(subresource === 'status' && v.statusSubresource) &&
      !(subresource === 'finalize' && t.gr === 'namespaces')
    ) {
      throw errors.resourceNotFound(`${t.resource}/${subresource}`)
    }
    const q = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '')
    const apiVersion = apiVersionOf(group, version)
    const method = req.method
    const watch = target.legacyWatch || boolParam(q, 'watch')
    if (method === 'GET' || method === 'HEAD') {
      if (name !== undefined && !watch) return this.#get(req, reply, t, version, apiVersion, namespace, name)
      return this.#list(req, reply, t, version, apiVersion, namespace, q, watch, name)
    }
    const ctx = this.#writeContext(req, q, identity)
    if (method === 'POST') {
      if (name !== undefined) throw errors.methodNotAllowed('POST', `a named ${t.kind}; use PUT or PATCH to change it`)
      const body = decodeBody(
        req.body as Buffer,
        bodyFormat(req.headers['content-type'], t.builtin ? ['json', 'yaml', 'protobuf'] : ['json', 'yaml']),
      )
      const r = this.service.create(t, version, namespace, body, ctx)
      return this.#sendObject(req, reply, 201, t, version, apiVersion, r, ctx)
    }
    if (name === undefined) {
      if (method === 'DELETE') return this.#deleteCollection(req, reply, t, version, apiVersion, namespace, q, ctx)
      throw errors.methodNotAllowed(method, `the ${t.resource} collection`)
    }
    if (method === 'PUT') {
      const body = decodeBody(
        req.body as Buffer,
        bodyFormat(req.headers['content-type'], t.builtin ? ['json', 'yaml', 'protobuf'] : ['json', 'yaml']),
      )
      const r = this.service.update(t, version, namespace, name, body, subresource, ctx)
      return this.#sendObject(req, reply, 200, t, version, apiVersion, r, ctx)
    }
    if (method === 'PATCH') return this.#patch(req, reply, t, version, apiVersion, namespace, name, subresource, q, ctx)
    if (method === 'DELETE') {
      const opts = this.#deleteOptions(req, q)
      // Negotiated before deleting (handlers/delete.go): an answer the client cannot take deletes nothing.
      const rep = this.#representation(req, t, apiVersion)
      const r = this.service.delete(t, namespace, name, opts, ctx)
      // As kube-apiserver (handlers/delete.go, registry/store.go finalizeDelete): gone at once → a success
      // Status unless the kind returns its deleted object; pending → the object, 202 if orphanDependents=false.
      if (r.deleted && !t.deleteReturnsObject) {
        this.#warn(reply, ctx)
        return sendStatus(reply, rep, successStatus({ name, group: t.group, kind: t.resource, uid: r.obj.metadata.uid }))
      }
      return this.#sendObject(req, reply, !r.deleted && opts.orphanDependents === false ? 202 : 200, t, version, apiVersion, r, ctx)
    }
    throw errors.methodNotAllowed(method, t.resource)
  }

  #writeContext(req: FastifyRequest, q: URLSearchParams, identity: RequestIdentity | undefined): WriteContext {
    const dry = q.getAll('dryRun')
    for (const d of dry) if (d !== 'All') throw errors.badRequest(`Invalid dry run value: ${d}. Supported values are "All"`)
    const fv = param(q, 'fieldValidation') ?? 'Warn'
    if (!['Strict', 'Warn', 'Ignore'].includes(fv)) throw errors.badRequest(`fieldValidation ${fv} is invalid; use Strict, Warn or Ignore`)
    const ua = String(req.headers['user-agent'] ?? 'unknown')
    const manager = param(q, 'fieldManager') ?? ua.split('/')[0].slice(0, 128)
    if (manager.length > 128) throw errors.badRequest('fieldManager must be at most 128 characters')
    return {
      dryRun: dry.length > 0,
      fieldValidation: fv as FieldValidation,
      fieldManager: manager,
      warnings: [],
      ...(identity ? { user: identity.user, verb: identity.verb } : {}),
    }
  }

  #deleteOptions(req: FastifyRequest, q: URLSearchParams): DeleteOptions {
    let body: Record<string, unknown> = {}
    const raw = req.body as Buffer | undefined
    if (raw && raw.length > 0) {
      const parsed = decodeBody(raw, bodyFormat(req.headers['content-type'], ['json', 'yaml', 'protobuf']))
      if (!isObject(parsed)) throw errors.badRequest('the body of a DELETE must be DeleteOptions')
      body = parsed
      if (Array.isArray(body.dryRun) && body.dryRun.some((d) => d !== 'All'))
        throw errors.badRequest('Invalid dry run value. Supported values are "All"')
    }
    const policy = (body.propagationPolicy ?? param(q, 'propagationPolicy')) as DeleteOptions['propagationPolicy']
    const orphan = body.orphanDependents ?? (q.has('orphanDependents') ? boolParam(q, 'orphanDependents') : undefined)
    return {
      propagationPolicy: policy,
      orphanDependents: orphan as boolean | undefined,
      preconditions: isObject(body.preconditions) ? (body.preconditions as DeleteOptions['preconditions']) : undefined,
    }
  }

  #warn(reply: FastifyReply, ctx: WriteContext): void {
    if (ctx.warnings.length)
      reply.header(
        'Warning',
        ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
      )
  }

  // Protobuf answers only for kinds with a complete protobuf schema; others fall back along Accept.
  // `answer`: what the response carries; a metadata-only kind that does not fit it is a 406, as
  // kube-apiserver's transform answers (an object as PartialObjectMetadataList, a list as PartialObjectMetadata).
  #representation(req: FastifyRequest, t: ResourceType, apiVersion: string, answer?: 'object' | 'list'): Representation {
    const allowed: Representation[] = ['yaml', 'partial', 'partial-v1beta1', 'partial-protobuf', 'partial-v1beta1-protobuf']
    if (this.renderTable) allowed.push('table')
    if (canEncodeProtobuf(apiVersion, t.kind)) allowed.push('protobuf')
    const chosen = negotiateMedia(req.headers.accept, allowed)
    if (answer !== undefined) checkPartialShape(chosen, answer === 'list' ? t.listKind : t.kind, answer === 'list')
    return chosen.representation
  }

  #sendObject(
    req: FastifyRequest,
    reply: FastifyReply,
    code: number,
    t: ResourceType,
    version: string,
    apiVersion: string,
    r: WriteResult | StoredObject,
    ctx?: WriteContext,
  ): void {
    if (ctx) this.#warn(reply, ctx)
    const rep = this.#representation(req, t, apiVersion, 'object')
    if (rep === 'json') {
      reply.code(code).type('application/json').send(wire(r, apiVersion))
      return
    }
    if (rep === 'protobuf') {
      reply
        .code(code)
        .type(PROTOBUF)
        .send(encodeProtobufObject({ ...r.obj, apiVersion }))
      return
    }
    this.#sendOther(reply, code, rep, t, version, apiVersion, [r.obj], undefined, req)
  }

  #sendOther(
    reply: FastifyReply,
    code: number,
    rep: Representation,
    t: ResourceType,
    version: string,
    apiVersion: string,
    objs: KObject[],
    listMeta: Record<string, unknown> | undefined,
    req: FastifyRequest,
  ): void {
    const asApi = (o: KObject) => (o.apiVersion === apiVersion ? o : { ...o, apiVersion })
    if (rep === 'table' && this.renderTable) {
      const q = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '')
      const inc = (param(q, 'includeObject') ?? 'Metadata') as 'None' | 'Metadata' | 'Object'
      if (!['None', 'Metadata', 'Object'].includes(inc)) throw errors.badRequest('includeObject must be None, Metadata or Object')
      reply
        .code(code)
        .type('application/json')
        .send(JSON.stringify(this.renderTable(t, version, objs.map(asApi), { includeObject: inc, listMeta: listMeta ?? {} })))
      return
    }
    const metaVersion = partialApiVersion(rep)
    if (metaVersion) {
      const partial = (o: KObject) => ({ kind: 'PartialObjectMetadata', apiVersion: metaVersion, metadata: o.metadata })
      const body = listMeta
        ? { kind: 'PartialObjectMetadataList', apiVersion: metaVersion, metadata: listMeta, items: objs.map(partial) }
        : partial(objs[0])
      if (isProtobufRepresentation(rep)) {
        reply
          .code(code)
          .header('content-type', `${PROTOBUF};as=${body.kind};g=meta.k8s.io;v=${metaVersion.split('/')[1]}`)
          .send(encodeProtobufObject(body))
        return
      }
      reply
        .code(code)
        .header('content-type', `application/json;as=${body.kind};g=meta.k8s.io;v=${metaVersion.split('/')[1]}`)
        .send(Buffer.from(JSON.stringify(body)))
      return
    }
    const body = listMeta ? { apiVersion, kind: t.listKind, metadata: listMeta, items: objs.map(asApi) } : asApi(objs[0])
    if (rep === 'yaml') {
      reply.code(code).type('application/yaml').send(toYaml(body))
      return
    }
    reply.code(code).type('application/json').send(JSON.stringify(body))
  }

  #get(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    version: string,
    apiVersion: string,
    namespace: string | undefined,
    name: string,
  ): void {
    if (t.namespaced && namespace === undefined)
      throw errors.resourceNotFound(`${t.resource} is namespaced; use /namespaces/<namespace>/${t.resource}/${name}`)
    this.#sendObject(req, reply, 200, t, version, apiVersion, this.service.get(t, namespace, name))
  }

  async #list(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    version: string,
    apiVersion: string,
    namespace: string | undefined,
    q: URLSearchParams,
    watch: boolean,
    name: string | undefined,
  ): Promise<void> {
    let fieldSelector = param(q, 'fieldSelector') ?? ''
    if (name !== undefined) fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`
    const sel = selection(t, version, namespace, param(q, 'labelSelector'), fieldSelector)
    // A watch's events are objects, each transformed alone; a list is one answer.
    const rep = this.#representation(req, t, apiVersion, watch ? undefined : 'list')
    if (watch) {
      if (rep === 'yaml') throw errors.notAcceptable(String(req.headers.accept))
      // A metadata-only watch: every event's object (bookmarks too) is a PartialObjectMetadata.
      const metaVersion = partialApiVersion(rep)
      const rv = param(q, 'resourceVersion')
      if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv))
        throw errors.badRequest(`resourceVersion "${rv}" is not a valid resource version`)
      const timeout = param(q, 'timeoutSeconds')
      if (timeout !== undefined && !/^\d+$/.test(timeout)) throw errors.badRequest('timeoutSeconds must be a non-negative integer')
      const sendInitial = boolParam(q, 'sendInitialEvents')
      if (sendInitial && param(q, 'resourceVersionMatch') !== 'NotOlderThan')
        throw errors.badRequest('sendInitialEvents requires resourceVersionMatch=NotOlderThan')
      const store = this.service.store
      // Start from durable state only: a watch must never see a resourceVersion a crash could take back.
      await store.settled()
      reply.hijack()
      serveWatch(
        reply.raw,
        this.hub,
        {
          gr: t.gr,
          kind: metaVersion ? 'PartialObjectMetadata' : t.kind,
          listKind: metaVersion ? 'PartialObjectMetadataList' : t.listKind,
          apiVersion: metaVersion ?? apiVersion,
          matches: sel.matches,
          initial: () => this.lister.list(t, namespace, sel, 0, undefined).items,
          currentRv: store.rv,
          latestRv: () => store.rv,
          resourceVersion: rv,
          sendInitialEvents: sendInitial,
          allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
          timeoutMs: (timeout !== undefined ? Number(timeout) : this.opts.defaultWatchTimeoutSeconds) * 1000,
          bookmarkIntervalMs: this.opts.watchBookmarkIntervalMs,
          maxBufferedBytes: this.opts.watchMaxBufferedBytes,
          wire:
            rep === 'table'
              ? this.#tableWire(t, version, apiVersion, q)
              : metaVersion
                ? (o) => JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: metaVersion, metadata: o.obj.metadata })
                : (o) => wire(o, apiVersion),
          ...(rep === 'protobuf' ? { protobuf: (o: StoredObject) => encodeProtobufObject({ ...o.obj, apiVersion }) } : {}),
          ...(metaVersion && isProtobufRepresentation(rep)
            ? {
                protobuf: (o: StoredObject) =>
                  encodeProtobufObject({ kind: 'PartialObjectMetadata', apiVersion: metaVersion, metadata: o.obj.metadata }),
              }
            : {}),
        },
        {},
      )
      return
    }
    const limitStr = param(q, 'limit')
    if (limitStr !== undefined && !/^\d+$/.test(limitStr)) throw errors.badRequest('limit must be a non-negative integer')
    const page = this.lister.list(t, namespace, sel, Number(limitStr ?? 0), param(q, 'continue') || undefined)
    const listMeta: Record<string, unknown> = { resourceVersion: String(page.rv) }
    if (page.continue) {
      listMeta.continue = page.continue
      listMeta.remainingItemCount = page.remainingItemCount
    }
    if (rep === 'json') {
      let body = `{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(t.listKind)},"metadata":${JSON.stringify(listMeta)},"items":[`
      body += page.items.map((o) => wire(o, apiVersion)).join(',')
      body += ']}'
      reply.code(200).type('application/json').send(body)
      return
    }
    if (rep === 'protobuf') {
      reply
        .code(200)
        .type(PROTOBUF)
        .send(encodeProtobufObject({ apiVersion, kind: t.listKind, metadata: listMeta, items: page.items.map((o) => o.obj) }))
      return
    }
    this.#sendOther(
      reply,
      200,
      rep,
      t,
      version,
      apiVersion,
      page.items.map((o) => o.obj),
      listMeta,
      req,
    )
  }

  // kubectl get -w asks for Table events: one row per event, column headers only on the first.
  #tableWire(t: ResourceType, version: string, apiVersion: string, q: URLSearchParams): (o: StoredObject) => string {
    let first = true
    const inc = (param(q, 'includeObject') ?? 'Metadata') as 'None' | 'Metadata' | 'Object'
    return (o) => {
      const obj = o.obj.apiVersion === apiVersion ? o.obj : { ...o.obj, apiVersion }
      const s = JSON.stringify(this.renderTable!(t, version, [obj], { includeObject: inc, noHeaders: !first }))
      first = false
      return s
    }
  }

  #patch(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    version: string,
    apiVersion: string,
    namespace: string | undefined,
    name: string,
    subresource: string | undefined,
    q: URLSearchParams,
    ctx: WriteContext,
  ): void {
    const formats = t.builtin
      ? (['json-patch', 'merge-patch', 'strategic-merge-patch', 'apply-patch'] as const)
      : (['json-patch', 'merge-patch', 'apply-patch'] as const)
    const format = bodyFormat(req.headers['content-type'], [...formats])
    const patch = decodeBody(req.body as Buffer, format)
    const v = versionInfo(t, version)!
    if (t.namespaced && namespace === undefined)
      throw errors.resourceNotFound(`${t.resource} is namespaced; use /namespaces/<namespace>/${t.resource}/${name}`)
    const live = this.service.store.get(t.gr, t.namespaced ? namespace : undefined, name)
    if (format === 'apply-patch') return this.#apply(req, reply, t, version, apiVersion, namespace, name, subresource, q, ctx, patch, live)
    if (!live) throw errors.notFound(t.group, t.resource, name)
    const base = { ...live.obj, apiVersion }
    const patched =
      format === 'json-patch'
        ? applyJsonPatch(base, patch)
        : format === 'merge-patch'
          ? applyMergePatch(base, patch)
          : applyStrategicMergePatch(base, patch)
    const obj = checkEnvelope(patched, t, apiVersion)
    const r = this.service.updateFrom(t, v, live, obj, subresource, ctx, false)
    this.#sendObject(req, reply, 200, t, version, apiVersion, r, ctx)
  }

  // Server-side apply: merge the configuration by field ownership; conflicts are 409s naming fields and managers.
  #apply(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    version: string,
    apiVersion: string,
    namespace: string | undefined,
    name: string,
    subresource: string | undefined,
    q: URLSearchParams,
    ctx: WriteContext,
    patch: unknown,
    live: StoredObject | undefined,
  ): void {
    if (!q.has('fieldManager')) throw errors.badRequest('PATCH with application/apply-patch+yaml requires the fieldManager query parameter')
    const cfg = checkEnvelope(patch, t, apiVersion)
    if (cfg.metadata.name !== undefined && cfg.metadata.name !== name)
      throw errors.badRequest(`the name of the object (${String(cfg.metadata.name)}) does not match the name on the URL (${name})`)
    if (t.namespaced && cfg.metadata.namespace !== undefined && cfg.metadata.namespace !== namespace)
      throw errors.badRequest(
        `the namespace of the provided object (${String(cfg.metadata.namespace)}) does not match the namespace sent on the request (${namespace})`,
      )
    if (live && cfg.metadata.resourceVersion !== undefined && String(cfg.metadata.resourceVersion) !== live.obj.metadata.resourceVersion) {
      throw errors.conflict(
        t.group,
        t.resource,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      )
    }
    if (live && cfg.metadata.uid !== undefined && cfg.metadata.uid !== live.obj.metadata.uid)
      throw errors.conflict(
        t.group,
        t.resource,
        name,
        `Precondition failed: UID in precondition: ${String(cfg.metadata.uid)}, UID in object meta: ${live.obj.metadata.uid}`,
      )
    if (!live && subresource) throw errors.notFound(t.group, t.resource, name)
    const v = versionInfo(t, version)!
    let r
    try {
      r = applyPatch({
        live: live && (live.obj.apiVersion === apiVersion ? live.obj : { ...live.obj, apiVersion }),
        patch: cfg,
        manager: ctx.fieldManager,
        force: boolParam(q, 'force'),
        schema: ownershipSchema(t, v),
        subresource,
        statusSubresource: v.statusSubresource,
      })
    } catch (err) {
      if (err instanceof ApplyError) throw errors.badRequest(err.message)
      throw err
    }
    if (r.conflicts?.length)
      throw new ApiError('Conflict', conflictMessage(r.conflicts), {
        name,
        group: t.group,
        kind: t.resource,
        causes: conflictCauses(r.conflicts),
      })
    const applied = { ...ctx, managedFieldsSet: true }
    if (!live) {
      const obj = r.object as KObject
      obj.metadata = { ...obj.metadata, name }
      return this.#sendObject(req, reply, 201, t, version, apiVersion, this.service.create(t, version, namespace, obj, applied), ctx)
    }
    if (!r.changed) return this.#sendObject(req, reply, 200, t, version, apiVersion, live, ctx)
    const obj = checkEnvelope(structuredClone(r.object), t, apiVersion)
    this.#sendObject(req, reply, 200, t, version, apiVersion, this.service.updateFrom(t, v, live, obj, subresource, applied, false), ctx)
  }

  #deleteCollection(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    version: string,
    apiVersion: string,
    namespace: string | undefined,
    q: URLSearchParams,
    ctx: WriteContext,
  ): void {
    const sel = selection(t, version, namespace, param(q, 'labelSelector'), param(q, 'fieldSelector'))
    const opts = this.#deleteOptions(req, q)
    // Negotiated first: an answer the client cannot take is refused before anything is deleted.
    const rep = this.#representation(req, t, apiVersion, 'list')
    const items = this.lister.list(t, namespace, sel, 0, undefined).items
    const out: KObject[] = []
    for (const o of items) {
      try {
        out.push(this.service.delete(t, o.obj.metadata.namespace, o.obj.metadata.name!, opts, ctx).obj)
      } catch (err) {
        if (!(err instanceof Error && 'reason' in err && (err as { reason: string }).reason === 'NotFound')) throw err
      }
    }
    this.#warn(reply, ctx)
    // As a list answer: in the negotiated representation (protobuf, metadata-only, Table, YAML, JSON).
    const listMeta = { resourceVersion: String(this.service.store.rv) }
    if (rep === 'protobuf') {
      reply
        .code(200)
        .type(PROTOBUF)
        .send(encodeProtobufObject({ apiVersion, kind: t.listKind, metadata: listMeta, items: out }))
      return
    }
    if (rep === 'json') {
      reply
        .code(200)
        .type('application/json')
        .send(JSON.stringify({ apiVersion, kind: t.listKind, metadata: listMeta, items: out.map((o) => ({ ...o, apiVersion })) }))
      return
    }
    this.#sendOther(reply, 200, rep, t, version, apiVersion, out, listMeta, req)
  }
}

/** Throws 406 when a metadata-only `as` does not fit the answer (a list asked for as one object, or the reverse). */
function checkPartialShape(chosen: Negotiated, answerKind: string, isList: boolean): void {
  if (partialApiVersion(chosen.representation) === undefined || chosen.as === undefined) return
  if ((chosen.as === 'PartialObjectMetadataList') !== isList) throw errors.partialShapeMismatch(chosen.as, answerKind, isList)
}

// A Status answer (a finished DELETE) in the negotiated serializer: kube-apiserver passes a Status
// through every transform (handlers/response.go), so Table and metadata-only requests get it as is.
function sendStatus(reply: FastifyReply, rep: Representation, status: Record<string, unknown>): void {
  if (isProtobufRepresentation(rep)) {
    reply.code(200).type(PROTOBUF).send(encodeProtobufObject(status))
    return
  }
  if (rep === 'yaml') {
    reply.code(200).type('application/yaml').send(toYaml(status))
    return
  }
  reply.code(200).type('application/json').send(JSON.stringify(status))
}
