// Object semantics of kube-apiserver over the store: create, update (main and status endpoints),
// delete with finalizers and propagation policies, and the system fields (uid, timestamps,
// resourceVersion, generation) the server owns.
//
// Guarantees
// - Every request runs to commit without yielding to the event loop, so a read-check-write (e.g.
//   the resourceVersion precondition) cannot interleave with another write.
// - A write either commits whole or changes nothing; dry runs never commit.
// - generation increases only when something outside metadata (and status, where status is a
//   subresource) changes; an update that changes nothing commits nothing and keeps the RV.

import { randomUUID, randomInt } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { admit, checkEnvelope, type FieldValidation } from './admission.ts'
import { CRD_CLEANUP_FINALIZER, CRD_GR, NAMESPACE_GR } from './builtin-types.ts'
import { crdStatus, defaultCrd } from './crd.ts'
import type { ResourceRegistry } from './registry.ts'
import { apiVersionOf, versionInfo, type ResourceType, type ResourceVersionInfo } from './resource-type.ts'
import { fieldError } from './schema/index.ts'
import { ApiError, errors } from './status.ts'
import type { ObjectStore, StoredObject } from './store.ts'
import type { KObject } from './types.ts'
import type { UserInfo } from './user.ts'

export interface WriteContext {
  dryRun: boolean
  fieldValidation: FieldValidation
  fieldManager: string
  /** Texts for the Warning response header. */
  warnings: string[]
  /** The write already carries its managedFields (server-side apply computed them). */
  managedFieldsSet?: boolean
  /** Who asks (absent for the server's own writes): write guards decide on it. */
  user?: UserInfo
  /** The request's verb as authorized (create, update, patch...); an apply patch that creates needs `create` too. */
  verb?: string
}

/**
 * Checks a write with its final object before it commits (RBAC: escalation prevention on roles
 * and bindings, `create` for a patch that creates). Throws an ApiError (403) to refuse.
 */
export type WriteGuard = (args: {
  type: ResourceType
  obj: KObject
  old: KObject | undefined
  subresource?: string
  ctx: WriteContext
}) => void

export interface WriteResult {
  obj: KObject
  /** The serialized object, when it is exactly what was stored. */
  json?: string
  created?: boolean
  /** For deletes: whether the object is gone (false: marked for deletion, finalizers pending). */
  deleted?: boolean
}

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground'

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy
  orphanDependents?: boolean
  preconditions?: { uid?: string; resourceVersion?: string }
}

/** Hook the managed-fields tracker plugs into (server-side apply lives outside this module). */
export type ManagedFieldsUpdater = (args: {
  oldObj: KObject | undefined
  newObj: KObject
  manager: string
  subresource?: string
  type: ResourceType
  version: ResourceVersionInfo
}) => void

const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public']

export const GC_FINALIZERS = { foreground: 'foregroundDeletion', orphan: 'orphan' } as const

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'

function generatedName(prefix: string): string {
  let s = ''
  for (let i = 0; i < 5; i++) s += NAME_CHARS[randomInt(NAME_CHARS.length)]
  return `${prefix.slice(0, 253 - 5)}${s}`
}

/** The part of an object whose change bumps metadata.generation. */
function generationPart(o: KObject, t: ResourceType, v: ResourceVersionInfo): unknown {
  if (t.gr === CRD_GR) return o.spec
  const { metadata: _m, status: _s, ...rest } = o
  return v.statusSubresource ? rest : { ...rest, status: o.status }
}

// A write is a no-op when nothing but the RV or managedFields timestamps would change; a change of
// field ownership alone (e.g. kubectl's client-side → server-side apply migration) is a real write.
function withoutVolatile(o: KObject): unknown {
  const mf = Array.isArray(o.metadata.managedFields)
    ? o.metadata.managedFields.map((e) => (e && typeof e === 'object' ? { ...(e as object), time: undefined } : e))
    : o.metadata.managedFields
  return { ...o, metadata: { ...o.metadata, managedFields: mf, resourceVersion: undefined } }
}

export class ObjectService {
  readonly store: ObjectStore
  readonly registry: ResourceRegistry
  managedFields?: ManagedFieldsUpdater
  /** Runs after admission on every create and update (see WriteGuard); unset, writes are not guarded. */
  writeGuard?: WriteGuard

  constructor(store: ObjectStore, registry: ResourceRegistry) {
    this.store = store
    this.registry = registry
  }

  storageApiVersion(t: ResourceType): string {
    return apiVersionOf(t.group, t.versions[0].name)
  }

  get(t: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const o = this.store.get(t.gr, t.namespaced ? namespace : undefined, name)
    if (!o) throw errors.notFound(t.group, t.resource, name)
    return o
  }

  create(t: ResourceType, version: string, namespace: string | undefined, body: unknown, ctx: WriteContext): WriteResult {
    const v = versionInfo(t, version)!
    const obj = checkEnvelope(body, t, apiVersionOf(t.group, version), { defaultFromEndpoint: true })
    const m = obj.metadata
    if (t.namespaced) {
      if (!namespace) throw errors.methodNotAllowed('POST', `${t.resource} without a namespace; use /namespaces/<namespace>/${t.resource}`)
      if (m.namespace && m.namespace !== namespace)
        throw errors.badRequest(
          `the namespace of the provided object (${String(m.namespace)}) does not match the namespace sent on the request (${namespace})`,
        )
      m.namespace = namespace
    } else delete m.namespace
    if (!m.name && typeof m.generateName === 'string' && m.generateName) m.name = generatedName(m.generateName)
    const ts = now()
    m.uid = randomUUID()
    m.creationTimestamp = ts
    delete m.resourceVersion
    delete m.deletionTimestamp
    delete m.deletionGracePeriodSeconds
    if (t.tracksGeneration) m.generation = 1
    else delete m.generation
    if (v.statusSubresource) delete obj.status
    obj.apiVersion = this.storageApiVersion(t)
    this.#systemDefaults(t, obj, undefined, ts)
    admit(t, v, obj, undefined, ctx)
    this.writeGuard?.({ type: t, obj, old: undefined, ctx })
    if (t.namespaced) this.#checkNamespaceWritable(namespace!)
    if (!t.builtin && this.store.get(CRD_GR, undefined, t.gr)?.obj.metadata.deletionTimestamp) {
      throw errors.methodNotAllowed('POST', `${t.gr}: create is not allowed while the custom resource definition is terminating`)
    }
    if (this.store.get(t.gr, m.namespace, m.name!)) throw errors.alreadyExists(t.group, t.resource, m.name!)
    if (t.gr === CRD_GR) {
      obj.status = crdStatus(obj, undefined, ts)
      // Deleting the CRD then first deletes its objects (their own finalizers respected), as upstream.
      if (!m.finalizers?.includes(CRD_CLEANUP_FINALIZER)) m.finalizers = [...(m.finalizers ?? []), CRD_CLEANUP_FINALIZER]
    }
    if (!ctx.managedFieldsSet) this.managedFields?.({ oldObj: undefined, newObj: obj, manager: ctx.fieldManager, type: t, version: v })
    if (ctx.dryRun) return { obj, created: true }
    const [e] = this.store.commit([{ op: 'put', gr: t.gr, obj }])
    return { obj: e.cur.obj, json: e.cur.json, created: true }
  }

  update(
    t: ResourceType,
    version: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource: string | undefined,
    ctx: WriteContext,
  ): WriteResult {
    const v = versionInfo(t, version)!
    const obj = checkEnvelope(body, t, apiVersionOf(t.group, version), { defaultFromEndpoint: true })
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw errors.badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`)
    if (t.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace)
      throw errors.badRequest(
        `the namespace of the provided object (${String(obj.metadata.namespace)}) does not match the namespace sent on the request (${namespace})`,
      )
    const cur = this.get(t, namespace, name)
    return this.updateFrom(t, v, cur, obj, subresource, ctx, !t.allowUnconditionalUpdate)
  }

  /** Replaces `cur` with `incoming` under update semantics (used by PUT, patches and apply). */
  updateFrom(
    t: ResourceType,
    v: ResourceVersionInfo,
    cur: StoredObject,
    incoming: KObject,
    subresource: string | undefined,
    ctx: WriteContext,
    requireRv: boolean,
  ): WriteResult {
    const old = cur.obj
    const name = old.metadata.name!
    const rv = incoming.metadata.resourceVersion
    if (rv !== undefined && rv !== '') {
      if (String(rv) !== old.metadata.resourceVersion)
        throw errors.conflict(
          t.group,
          t.resource,
          name,
          'the object has been modified; please apply your changes to the latest version and try again',
        )
    } else if (requireRv) {
      throw errors.invalid(t.group, t.kind, name, [
        fieldError('metadata.resourceVersion', 'FieldValueInvalid', 'must be specified for an update', 0),
      ])
    }
    if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
      throw errors.conflict(
        t.group,
        t.resource,
        name,
        `Precondition failed: UID in precondition: ${String(incoming.metadata.uid)}, UID in object meta: ${old.metadata.uid}`,
      )
    }
    let obj: KObject
    if (subresource === 'finalize') {
      // A namespace's finalize subresource changes spec.finalizers and nothing else.
      obj = structuredClone(old)
      obj.spec = { ...(old.spec as object), finalizers: (incoming.spec as { finalizers?: unknown } | undefined)?.finalizers ?? [] }
    } else if (subresource === 'status') {
      obj = structuredClone(old)
      if ('status' in incoming) obj.status = incoming.status
      else delete obj.status
      if (incoming.metadata.managedFields !== undefined) obj.metadata.managedFields = incoming.metadata.managedFields
    } else {
      obj = incoming
      if (v.statusSubresource) {
        if (old.status !== undefined) obj.status = structuredClone(old.status)
        else delete obj.status
      }
    }
    const m = obj.metadata
    for (const k of [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'resourceVersion',
    ] as const) {
      if (old.metadata[k] === undefined) delete m[k]
      else m[k] = old.metadata[k] as never
    }
    obj.apiVersion = this.storageApiVersion(t)
    if (old.metadata.deletionTimestamp) {
      const before = new Set(old.metadata.finalizers ?? [])
      const added = (m.finalizers ?? []).filter((f) => !before.has(f))
      if (added.length)
        throw errors.invalid(t.group, t.kind, name, [
          fieldError(
            'metadata.finalizers',
            'FieldValueForbidden',
            `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          ),
        ])
    }
    const ts = now()
    this.#systemDefaults(t, obj, old, ts, subresource === 'finalize')
    admit(t, v, obj, old, ctx)
    this.writeGuard?.({ type: t, obj, old, subresource, ctx })
    if (t.tracksGeneration && !isDeepStrictEqual(generationPart(obj, t, v), generationPart(old, t, v)))
      m.generation = (old.metadata.generation ?? 0) + 1
    if (t.gr === CRD_GR && subresource !== 'status' && !m.deletionTimestamp) obj.status = crdStatus(obj, old, ts)
    if (!ctx.managedFieldsSet)
      this.managedFields?.({ oldObj: old, newObj: obj, manager: ctx.fieldManager, subresource, type: t, version: v })
    if (isDeepStrictEqual(withoutVolatile(obj), withoutVolatile(old))) return { obj: old, json: cur.json }
    if (m.deletionTimestamp && (m.finalizers ?? []).length === 0 && !this.#namespaceHolds(t, obj)) {
      if (ctx.dryRun) return { obj, deleted: true }
      return this.finalize(t, obj)
    }
    if (ctx.dryRun) return { obj }
    const [e] = this.store.commit([{ op: 'put', gr: t.gr, obj }])
    return { obj: e.cur.obj, json: e.cur.json }
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions, ctx: WriteContext): WriteResult {
    const cur = this.get(t, namespace, name)
    const old = cur.obj
    const pre = opts.preconditions
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw errors.conflict(
        t.group,
        t.resource,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      )
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw errors.conflict(
        t.group,
        t.resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      )
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : 'Background')
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw errors.invalid('', 'DeleteOptions', '', [
        fieldError('propagationPolicy', 'FieldValueNotSupported', 'supported values: "Foreground", "Background", "Orphan"', policy),
      ])
    }
    const finalizers = (old.metadata.finalizers ?? []).filter((f) => f !== GC_FINALIZERS.foreground && f !== GC_FINALIZERS.orphan)
    const hadGc = (old.metadata.finalizers ?? []).filter((f) => f === GC_FINALIZERS.foreground || f === GC_FINALIZERS.orphan)
    if (policy === 'Foreground') finalizers.push(GC_FINALIZERS.foreground)
    else if (policy === 'Orphan') finalizers.push(GC_FINALIZERS.orphan)
    else if (old.metadata.deletionTimestamp) finalizers.push(...hadGc)
    const isNamespace = t.gr === NAMESPACE_GR
    if (isNamespace && PROTECTED_NAMESPACES.includes(name))
      throw errors.forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`)
    if (finalizers.length === 0 && !isNamespace && !old.metadata.deletionTimestamp) {
      if (ctx.dryRun) return { obj: old, json: cur.json, deleted: true }
      return this.finalize(t, structuredClone(old))
    }
    const obj = structuredClone(old)
    const m = obj.metadata
    if (!m.deletionTimestamp) {
      m.deletionTimestamp = now()
      m.deletionGracePeriodSeconds = 0
      if (t.tracksGeneration) m.generation = (m.generation ?? 0) + 1
    }
    if (finalizers.length) m.finalizers = finalizers
    else delete m.finalizers
    if (isNamespace) obj.status = { ...(obj.status as object | undefined), phase: 'Terminating' }
    if (isDeepStrictEqual(obj, old)) return { obj: old, json: cur.json, deleted: false }
    if (ctx.dryRun) return { obj, deleted: false }
    const [e] = this.store.commit([{ op: 'put', gr: t.gr, obj }])
    return { obj: e.cur.obj, json: e.cur.json, deleted: false }
  }

  /** Removes the object for good (finalizers done). A CRD takes its custom objects with it. */
  finalize(t: ResourceType, last: KObject): WriteResult {
    if (t.gr === CRD_GR) {
      const spec = last.spec as { group: string; names: { plural: string } }
      this.store.dropResource(`${spec.names.plural}.${spec.group}`)
    }
    const [e] = this.store.commit([{ op: 'delete', gr: t.gr, obj: last }])
    return { obj: e.cur.obj, json: e.cur.json, deleted: true }
  }

  /** A write by the server itself (controllers): no admission, no preconditions. */
  systemUpdate(t: ResourceType, cur: StoredObject, mutate: (o: KObject) => void): WriteResult {
    const obj = structuredClone(cur.obj)
    mutate(obj)
    if (isDeepStrictEqual(obj, cur.obj)) return { obj: cur.obj, json: cur.json }
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && !this.#namespaceHolds(t, obj))
      return this.finalize(t, obj)
    const [e] = this.store.commit([{ op: 'put', gr: t.gr, obj }])
    return { obj: e.cur.obj, json: e.cur.json }
  }

  // A namespace is gone only when both its metadata.finalizers and spec.finalizers are empty.
  #namespaceHolds(t: ResourceType, o: KObject): boolean {
    return t.gr === NAMESPACE_GR && ((o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0
  }

  #checkNamespaceWritable(namespace: string): void {
    const ns = this.store.get(NAMESPACE_GR, undefined, namespace)
    if (!ns) throw errors.notFound('', 'namespaces', namespace)
    if (ns.obj.metadata.deletionTimestamp) {
      throw new ApiError('Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, {
        name: namespace,
        kind: 'namespaces',
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      })
    }
  }

  // Fields the server fills for particular kinds (kube's registry strategies).
  #systemDefaults(t: ResourceType, obj: KObject, old: KObject | undefined, _ts: string, finalizing = false): void {
    if (t.gr === NAMESPACE_GR) {
      const spec = (obj.spec ?? {}) as { finalizers?: string[] }
      if (!old) spec.finalizers = ['kubernetes']
      else if (!finalizing) spec.finalizers = (old.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []
      obj.spec = spec
      if (!old) obj.status = { phase: 'Active' }
      else if (obj.status === undefined) obj.status = old.status
      if (typeof obj.metadata.name === 'string' && obj.metadata.labels?.['kubernetes.io/metadata.name'] !== obj.metadata.name) {
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name }
      }
    } else if (t.gr === CRD_GR) defaultCrd(obj)
  }
}
