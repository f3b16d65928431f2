// The ClusterRole aggregation controller (kube-controller-manager's clusterrole-aggregation): a
// ClusterRole with aggregationRule.clusterRoleSelectors gets as rules the union of the rules of
// every other ClusterRole its selectors match, and keeps them as ClusterRoles come, change and go.
//
// Expected flow
// 1. observe() marks the controller dirty when a ClusterRole changed (its rules or labels may
//    change some aggregate); the owning Controllers schedules a sweep.
// 2. sweep() recomputes every aggregated ClusterRole and writes the ones whose rules differ, in
//    passes until nothing changes (view feeds edit, edit feeds admin), at most one pass per role.
// Guarantees
// - Stable order, as kube: selectors in order, matched roles by name, each rule once (first seen).
// - No write when the rules are already right; writes go through ObjectService.systemUpdate, so
//   watchers see them like any change.
// Caveats
// - A selector that does not parse matches nothing (validation refuses such selectors on write).

import { isDeepStrictEqual } from 'node:util'
import type { BuiltinController } from '../controllers.ts'
import type { ResourceRegistry } from '../registry.ts'
import { labelSelectorFromObject, type LabelSelector } from '../selectors/index.ts'
import type { ObjectService } from '../service.ts'
import type { StoreEvent, StoredObject } from '../store.ts'
import { CLUSTER_ROLE_GR, rulesOf, type PolicyRule, type RoleObject } from './types.ts'

function selectorsOf(role: RoleObject): LabelSelector[] {
  const out: LabelSelector[] = []
  for (const s of role.aggregationRule?.clusterRoleSelectors ?? []) {
    try {
      out.push(labelSelectorFromObject(s))
    } catch {
      /* matches nothing */
    }
  }
  return out
}

export class ClusterRoleAggregator implements BuiltinController {
  #service: ObjectService
  #registry: ResourceRegistry
  #dirty = true

  constructor(service: ObjectService, registry: ResourceRegistry) {
    this.#service = service
    this.#registry = registry
  }

  observe(events: readonly StoreEvent[]): boolean {
    if (events.some((e) => e.gr === CLUSTER_ROLE_GR)) this.#dirty = true
    return this.#dirty
  }

  /** The rules `role` should have: the union of the rules of the ClusterRoles it selects (`all` in name order, as the store lists them). */
  aggregatedRules(role: RoleObject, all: readonly StoredObject[]): PolicyRule[] {
    const rules: PolicyRule[] = []
    for (const sel of selectorsOf(role)) {
      for (const other of all) {
        if (other.obj.metadata.name === role.metadata.name || !sel.matches(other.obj.metadata.labels)) continue
        for (const r of rulesOf(other.obj)) if (!rules.some((x) => isDeepStrictEqual(x, r))) rules.push(r)
      }
    }
    return rules
  }

  /** Recomputes every aggregated ClusterRole now. */
  resync(): void {
    this.#dirty = true
    this.sweep()
  }

  sweep(): void {
    if (!this.#dirty) return
    const type = this.#registry.byGr(CLUSTER_ROLE_GR)
    if (!type) return
    const store = this.#service.store
    const aggregated = () => store.list(CLUSTER_ROLE_GR).filter((o) => (o.obj as RoleObject).aggregationRule)
    const passes = aggregated().length + 1
    for (let pass = 0; pass < passes; pass++) {
      let changed = false
      for (const role of aggregated()) {
        const cur = store.get(CLUSTER_ROLE_GR, undefined, role.obj.metadata.name!)
        if (!cur) continue
        const want = this.aggregatedRules(cur.obj as RoleObject, store.list(CLUSTER_ROLE_GR))
        if (isDeepStrictEqual(rulesOf(cur.obj), want)) continue
        this.#service.systemUpdate(type, cur, (o) => {
          ;(o as RoleObject).rules = want
        })
        changed = true
      }
      if (!changed) break
    }
    this.#dirty = false
  }
}
