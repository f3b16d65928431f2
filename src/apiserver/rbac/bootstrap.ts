// Reconciles the bootstrap policy (bootstrap-policy.ts) into the store at every start, as
// kube-apiserver's RBAC post-start hook does.
//
// Expected flow
// 1. A missing ClusterRole or ClusterRoleBinding is created.
// 2. One annotated rbac.authorization.kubernetes.io/autoupdate: "true" gets back what it lacks:
//    labels and annotations, rules not covered by its current rules (roles without an
//    aggregationRule), aggregation selectors, binding subjects. A binding whose roleRef differs is
//    deleted and created again (roleRef is immutable).
// 3. Anything an operator set to autoupdate "false" is left as they made it.
// Guarantees
// - Nothing is removed from a role or binding: an operator's additions survive restarts.
// - Idempotent: a start that finds everything in place writes nothing.

import { isDeepStrictEqual } from 'node:util'
import { systemCtx } from '../controllers.ts'
import type { ResourceRegistry } from '../registry.ts'
import type { ObjectService } from '../service.ts'
import type { KObject } from '../types.ts'
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, bootstrapMetadata } from './bootstrap-policy.ts'
import { covers } from './rules.ts'
import {
  AUTOUPDATE_ANNOTATION,
  CLUSTER_ROLE_BINDING_GR,
  CLUSTER_ROLE_GR,
  RBAC_GROUP,
  rulesOf,
  subjectsOf,
  type BindingObject,
  type RoleObject,
} from './types.ts'

const API_VERSION = `${RBAC_GROUP}/v1`

/** Adds the entries of `want` that `have` lacks (existing values win). */
function mergeMissing(have: Record<string, string> | undefined, want: Record<string, string>): Record<string, string> {
  return { ...want, ...have }
}

function autoupdate(o: KObject): boolean {
  return o.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'true'
}

export function reconcileBootstrapPolicy(service: ObjectService, registry: ResourceRegistry): void {
  const roleType = registry.byGr(CLUSTER_ROLE_GR)
  const bindingType = registry.byGr(CLUSTER_ROLE_BINDING_GR)
  if (!roleType || !bindingType) throw new Error('the RBAC kinds are not registered; the bootstrap policy cannot be applied')
  const store = service.store

  for (const want of BOOTSTRAP_CLUSTER_ROLES) {
    const meta = bootstrapMetadata(want.name, want.labels)
    const cur = store.get(CLUSTER_ROLE_GR, undefined, want.name)
    if (!cur) {
      service.create(
        roleType,
        'v1',
        undefined,
        {
          apiVersion: API_VERSION,
          kind: 'ClusterRole',
          metadata: meta,
          rules: want.rules,
          ...(want.aggregationRule ? { aggregationRule: want.aggregationRule } : {}),
        },
        systemCtx(),
      )
      continue
    }
    if (!autoupdate(cur.obj)) continue
    service.systemUpdate(roleType, cur, (o) => {
      const role = o as RoleObject
      role.metadata.labels = mergeMissing(role.metadata.labels, meta.labels)
      role.metadata.annotations = mergeMissing(role.metadata.annotations, meta.annotations)
      if (want.aggregationRule) {
        const selectors = [...(role.aggregationRule?.clusterRoleSelectors ?? [])]
        for (const s of want.aggregationRule.clusterRoleSelectors ?? [])
          if (!selectors.some((x) => isDeepStrictEqual(x, s))) selectors.push(s)
        role.aggregationRule = { clusterRoleSelectors: selectors }
        return
      }
      const rules = rulesOf(role)
      const missing = want.rules.filter((r) => !covers(rules, [r]).covered)
      if (missing.length) role.rules = [...rules, ...missing]
    })
  }

  for (const want of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) {
    const meta = bootstrapMetadata(want.name)
    const roleRef = { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: want.role }
    const body = { apiVersion: API_VERSION, kind: 'ClusterRoleBinding', metadata: meta, roleRef, subjects: want.subjects }
    let cur = store.get(CLUSTER_ROLE_BINDING_GR, undefined, want.name)
    if (cur && autoupdate(cur.obj) && !isDeepStrictEqual((cur.obj as BindingObject).roleRef, roleRef)) {
      service.delete(bindingType, undefined, want.name, { preconditions: { uid: cur.obj.metadata.uid } }, systemCtx())
      cur = store.get(CLUSTER_ROLE_BINDING_GR, undefined, want.name)
    }
    if (!cur) {
      service.create(bindingType, 'v1', undefined, structuredClone(body), systemCtx())
      continue
    }
    if (!autoupdate(cur.obj)) continue
    service.systemUpdate(bindingType, cur, (o) => {
      const b = o as BindingObject
      b.metadata.labels = mergeMissing(b.metadata.labels, meta.labels)
      b.metadata.annotations = mergeMissing(b.metadata.annotations, meta.annotations)
      const subjects = subjectsOf(b)
      const missing = want.subjects.filter(
        (s) => !subjects.some((x) => x.kind === s.kind && x.name === s.name && (x.namespace ?? '') === (s.namespace ?? '')),
      )
      if (missing.length) b.subjects = [...subjects, ...missing]
    })
  }
}
