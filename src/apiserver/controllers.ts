// The server's built-in controllers, as kube-controller-manager runs them next to a real
// apiserver: the garbage collector (ownerReferences with background, foreground and orphan
// propagation), namespace lifecycle (a deleted namespace is emptied, then removed), Event expiry,
// and bootstrap of the default namespaces. Other built-in controllers (RBAC's ClusterRole
// aggregation) join their sweeps through add().
//
// Expected flow
// 1. observe() sees every commit and keeps small indexes (objects with owners, objects waiting
//    on a GC finalizer, terminating namespaces); when one of them matters it schedules a sweep.
// 2. A sweep runs on a later tick, acting through ObjectService like any client would, so its
//    writes are ordinary commits that watchers see.
// Guarantees
// - Foreground: the owner keeps `foregroundDeletion` until no dependent with blockOwnerDeletion
//   remains. Orphan: dependents lose the owner reference before the owner goes. Background: the
//   owner goes at once and dependents whose owners are all gone are deleted afterwards.
// - A namespace is removed only once no object in it is left.
// - A controller switched off (`disabled`: 'garbage-collector', 'namespace') never acts, so a real
//   kube-controller-manager can run it against this server: ownerReferences, the GC finalizers and
//   a terminating namespace's `kubernetes` finalizer then wait for that client. CRD cleanup and
//   Event expiry are the API server's own jobs and always run.
// Caveats
// - Event expiry counts from the event's last timestamp, checked every ttl/4 (at most a minute).

import { CRD_CLEANUP_FINALIZER, CRD_GR, EVENT_GRS, NAMESPACE_GR } from './builtin-types.ts'
import type { ResourceRegistry } from './registry.ts'
import { GC_FINALIZERS, type ObjectService, type WriteContext } from './service.ts'
import { ApiError } from './status.ts'
import type { StoreEvent, StoredObject } from './store.ts'
import type { KObject } from './types.ts'

const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease']

/** The built-in controllers that can be switched off, named as kube-controller-manager's `--controllers` name them (without "-controller"). */
export const SWITCHABLE_CONTROLLERS = ['garbage-collector', 'namespace'] as const
export type SwitchableController = (typeof SWITCHABLE_CONTROLLERS)[number]

/** Parses a comma-separated list of switchable controller names; throws naming the unknown one. */
export function parseControllerList(list: string): SwitchableController[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const n of names) {
    if (!(SWITCHABLE_CONTROLLERS as readonly string[]).includes(n))
      throw new Error(`unknown built-in controller "${n}"; the ones that can be disabled are ${SWITCHABLE_CONTROLLERS.join(', ')}`)
  }
  return names as SwitchableController[]
}

/** The context of the server's own writes: no user, so write guards let them pass. */
export function systemCtx(): WriteContext {
  return { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'zlh-apiserver', warnings: [] }
}

function hasGcFinalizer(o: KObject): boolean {
  return (
    !!o.metadata.deletionTimestamp &&
    (o.metadata.finalizers ?? []).some((f) => f === GC_FINALIZERS.foreground || f === GC_FINALIZERS.orphan)
  )
}

/**
 * A controller that runs on the built-in controllers' sweeps (e.g. RBAC's ClusterRole
 * aggregation): observe() sees every staged commit and says whether a sweep is needed; sweep()
 * acts through ObjectService on a later tick. Errors thrown by sweep() are retried like theirs.
 */
export interface BuiltinController {
  observe(events: readonly StoreEvent[]): boolean
  sweep(): void
}

interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
}

// The condition as it should read now; the old one (same type, status, reason and message) is
// kept as is, so a sweep that finds nothing new writes nothing.
function condition(existing: Condition[] | undefined, want: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const old = existing?.find((c) => c.type === want.type)
  if (old && old.status === want.status && old.reason === want.reason && old.message === want.message) return old
  return { ...want, lastTransitionTime: old && old.status === want.status ? old.lastTransitionTime : now }
}

export class Controllers {
  #service: ObjectService
  #registry: ResourceRegistry
  #dependents = new Map<string, StoredObject>()
  #waiting = new Map<string, StoredObject>()
  #terminating = new Set<string>()
  /** Names of CRDs being deleted ("plural.group", which is also their objects' storage prefix). */
  #terminatingCrds = new Set<string>()
  #scheduled = false
  #stopped = false
  #timers: NodeJS.Timeout[] = []
  #eventTtlMs: number
  #added: BuiltinController[] = []
  #disabled: ReadonlySet<SwitchableController>

  constructor(
    service: ObjectService,
    registry: ResourceRegistry,
    opts: { eventTtlSeconds: number; disabled?: readonly SwitchableController[] },
  ) {
    this.#service = service
    this.#registry = registry
    this.#eventTtlMs = opts.eventTtlSeconds * 1000
    this.#disabled = new Set(opts.disabled ?? [])
  }

  bootstrap(): void {
    const store = this.#service.store
    for (const gr of store.resources()) for (const o of store.list(gr)) this.#index(o)
    const nsType = this.#registry.byGr(NAMESPACE_GR)!
    for (const name of BOOTSTRAP_NAMESPACES) {
      if (!store.get(NAMESPACE_GR, undefined, name))
        this.#service.create(nsType, 'v1', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, systemCtx())
    }
    const every = Math.min(60_000, Math.max(1000, this.#eventTtlMs / 4))
    this.#timers.push(setInterval(() => this.#expireEvents(), every).unref())
    this.#schedule()
  }

  /** Runs `c` on these controllers' sweeps from now on (and schedules a first sweep). */
  add(c: BuiltinController): void {
    this.#added.push(c)
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    for (const t of this.#timers) clearInterval(t)
  }

  observe(events: StoreEvent[]): void {
    let sweep = false
    for (const e of events) {
      const o = e.cur
      if (e.type === 'DELETED') {
        this.#dependents.delete(o.key)
        this.#waiting.delete(o.key)
        if (e.gr === NAMESPACE_GR) this.#terminating.delete(o.obj.metadata.name!)
        if (e.gr === CRD_GR) this.#terminatingCrds.delete(o.obj.metadata.name!)
        if (this.#dependents.size > 0 || this.#waiting.size > 0 || this.#terminating.size > 0 || this.#terminatingCrds.has(e.gr))
          sweep = true
      } else {
        this.#index(o)
        if (
          o.obj.metadata.ownerReferences?.length ||
          hasGcFinalizer(o.obj) ||
          ((e.gr === NAMESPACE_GR || e.gr === CRD_GR) && o.obj.metadata.deletionTimestamp)
        )
          sweep = true
        if (this.#terminatingCrds.has(e.gr)) sweep = true
        if (this.#terminating.size > 0 && o.obj.metadata.namespace && this.#terminating.has(o.obj.metadata.namespace)) sweep = true
      }
    }
    for (const c of this.#added) if (c.observe(events)) sweep = true
    if (sweep) this.#schedule()
  }

  #index(o: StoredObject): void {
    if (o.obj.metadata.ownerReferences?.length) this.#dependents.set(o.key, o)
    else this.#dependents.delete(o.key)
    if (hasGcFinalizer(o.obj)) this.#waiting.set(o.key, o)
    else this.#waiting.delete(o.key)
    if (o.gr === NAMESPACE_GR) {
      if (o.obj.metadata.deletionTimestamp) this.#terminating.add(o.obj.metadata.name!)
      else this.#terminating.delete(o.obj.metadata.name!)
    }
    if (o.gr === CRD_GR) {
      if (o.obj.metadata.deletionTimestamp && o.obj.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER))
        this.#terminatingCrds.add(o.obj.metadata.name!)
      else this.#terminatingCrds.delete(o.obj.metadata.name!)
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#stopped) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#stopped) return
      try {
        if (!this.#disabled.has('garbage-collector')) this.#collectGarbage()
        if (!this.#disabled.has('namespace')) this.#finishNamespaces()
        this.#finishCrds()
        for (const c of this.#added) c.sweep()
      } catch (err) {
        // A failed step is retried on the next sweep; nothing here may take the server down.
        process.emitWarning(`apiserver controllers: ${(err as Error).message}`)
        setTimeout(() => this.#schedule(), 1000).unref()
      }
    })
  }

  #dependentsOf(uid: string): StoredObject[] {
    const out: StoredObject[] = []
    for (const d of this.#dependents.values()) if (d.obj.metadata.ownerReferences!.some((r) => r.uid === uid)) out.push(d)
    return out
  }

  #current(o: StoredObject): StoredObject | undefined {
    return this.#service.store.get(o.gr, o.obj.metadata.namespace, o.obj.metadata.name!)
  }

  #delete(o: StoredObject, policy: 'Background' | 'Foreground'): void {
    const t = this.#registry.byGr(o.gr)
    if (!t) return
    try {
      this.#service.delete(
        t,
        o.obj.metadata.namespace,
        o.obj.metadata.name!,
        { propagationPolicy: policy, preconditions: { uid: o.obj.metadata.uid } },
        systemCtx(),
      )
    } catch (err) {
      if (!(err instanceof ApiError && (err.reason === 'NotFound' || err.reason === 'Conflict'))) throw err
    }
  }

  #update(o: StoredObject, mutate: (k: KObject) => void): void {
    const t = this.#registry.byGr(o.gr)
    const cur = this.#current(o)
    if (t && cur) this.#service.systemUpdate(t, cur, mutate)
  }

  #collectGarbage(): void {
    const store = this.#service.store
    for (const owner of [...this.#waiting.values()]) {
      const uid = owner.obj.metadata.uid!
      const fins = owner.obj.metadata.finalizers ?? []
      const deps = this.#dependentsOf(uid)
      if (fins.includes(GC_FINALIZERS.orphan)) {
        for (const d of deps)
          this.#update(d, (k) => {
            k.metadata.ownerReferences = k.metadata.ownerReferences!.filter((r) => r.uid !== uid)
            if (!k.metadata.ownerReferences.length) delete k.metadata.ownerReferences
          })
        this.#update(owner, (k) => {
          k.metadata.finalizers = k.metadata.finalizers!.filter((f) => f !== GC_FINALIZERS.orphan)
        })
      } else if (fins.includes(GC_FINALIZERS.foreground)) {
        for (const d of deps) {
          if (!d.obj.metadata.deletionTimestamp)
            this.#delete(d, this.#dependentsOf(d.obj.metadata.uid!).length ? 'Foreground' : 'Background')
        }
        const blocking = this.#dependentsOf(uid).filter((d) =>
          d.obj.metadata.ownerReferences!.some((r) => r.uid === uid && r.blockOwnerDeletion === true),
        )
        if (blocking.length === 0)
          this.#update(owner, (k) => {
            k.metadata.finalizers = k.metadata.finalizers!.filter((f) => f !== GC_FINALIZERS.foreground)
          })
      }
    }
    for (const d of [...this.#dependents.values()]) {
      const refs = d.obj.metadata.ownerReferences!
      const alive = refs.filter((r) => {
        const owner = store.byUid(r.uid)
        return (
          owner !== undefined && (owner.obj.metadata.namespace === undefined || owner.obj.metadata.namespace === d.obj.metadata.namespace)
        )
      })
      if (alive.length === refs.length) continue
      if (alive.length === 0) {
        if (!d.obj.metadata.deletionTimestamp) this.#delete(d, 'Background')
      } else
        this.#update(d, (k) => {
          k.metadata.ownerReferences = alive
        })
    }
  }

  #finishNamespaces(): void {
    const store = this.#service.store
    for (const name of [...this.#terminating]) {
      const ns = store.get(NAMESPACE_GR, undefined, name)
      if (!ns) {
        this.#terminating.delete(name)
        continue
      }
      let remaining = 0
      for (const t of this.#registry.all()) {
        if (!t.namespaced) continue
        for (const o of store.list(t.gr, name)) {
          if (!o.obj.metadata.deletionTimestamp) this.#delete(o, 'Background')
          if (this.#current(o)) remaining++
        }
      }
      const nsType = this.#registry.byGr(NAMESPACE_GR)!
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
      this.#service.systemUpdate(nsType, ns, (k) => {
        const status = (k.status ?? {}) as { phase?: string; conditions?: Condition[] }
        status.phase = 'Terminating'
        status.conditions = [
          condition(
            status.conditions,
            {
              type: 'NamespaceContentRemaining',
              status: remaining ? 'True' : 'False',
              reason: remaining ? 'SomeResourcesRemain' : 'ContentDeleted',
              message: remaining ? `${remaining} objects remain` : 'All content successfully removed',
            },
            now,
          ),
        ]
        k.status = status
        if (remaining === 0) {
          const spec = (k.spec ?? {}) as { finalizers?: string[] }
          spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== 'kubernetes')
          k.spec = spec
        }
      })
    }
  }

  // A deleted CRD first deletes every one of its objects (waiting for their finalizers), then goes.
  #finishCrds(): void {
    const store = this.#service.store
    const crdType = this.#registry.byGr(CRD_GR)!
    for (const name of [...this.#terminatingCrds]) {
      const crd = store.get(CRD_GR, undefined, name)
      if (!crd) {
        this.#terminatingCrds.delete(name)
        continue
      }
      let remaining = 0
      for (const o of store.list(name)) {
        if (!o.obj.metadata.deletionTimestamp) this.#delete(o, 'Background')
        if (this.#current(o)) remaining++
      }
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
      this.#service.systemUpdate(crdType, crd, (k) => {
        const status = (k.status ?? {}) as { conditions?: Condition[] }
        const others = (status.conditions ?? []).filter((c) => c.type !== 'Terminating' && c.type !== 'Established')
        status.conditions = [
          ...others,
          condition(
            status.conditions,
            {
              type: 'Terminating',
              status: 'True',
              reason: remaining ? 'InstanceDeletionInProgress' : 'InstanceDeletionCompleted',
              message: remaining ? `${remaining} instances remain` : 'removed all instances',
            },
            now,
          ),
        ]
        k.status = status
        if (remaining === 0) k.metadata.finalizers = (k.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER)
      })
    }
  }

  #expireEvents(): void {
    if (this.#stopped) return
    const cutoff = Date.now() - this.#eventTtlMs
    for (const gr of EVENT_GRS) {
      for (const o of this.#service.store.list(gr)) {
        const e = o.obj as KObject & {
          lastTimestamp?: string
          eventTime?: string
          series?: { lastObservedTime?: string }
          deprecatedLastTimestamp?: string
        }
        const last = Math.max(
          ...[
            e.lastTimestamp,
            e.eventTime,
            e.series?.lastObservedTime,
            e.deprecatedLastTimestamp,
            e.metadata.creationTimestamp ?? undefined,
          ]
            .map((s) => (s ? Date.parse(s) : 0))
            .filter((n) => !Number.isNaN(n)),
        )
        if (last < cutoff) this.#delete(o, 'Background')
      }
    }
  }
}
