// Kubernetes RBAC for the embedded API server: rbac.authorization.k8s.io/v1 Roles, ClusterRoles
// and their bindings, enforced with kube-apiserver's semantics. Start with createRbac().
//
// Contract
// - createRbac({ store, service, registry, controllers }) indexes the bindings already stored,
//   follows every later commit (store.onStage, so the next request sees a new binding), and
//   registers the ClusterRole aggregation controller with `controllers`.
// - authorizer.authorize(user, attrs) → Decision: allowed with a kube-worded reason, or denied
//   (no reason, unless a binding referenced a missing role). authorizer.rulesFor(user, namespace)
//   → what SelfSubjectRulesReview / `kubectl auth can-i --list` reports.
// - writeGuard: set it as ObjectService.writeGuard. It refuses (403) roles and bindings that grant
//   what the writer does not hold (escalation prevention) and a server-side apply that creates an
//   object without `create` on it. Writes with no ctx.user (the server's own) pass.
// - bootstrap(): reconciles the default roles and bindings (cluster-admin, admin, edit, view,
//   system:discovery, system:basic-user, system:public-info-viewer, zlh:viewers) and aggregates
//   at once, so the first request after start already sees complete roles. Call it once, after
//   Controllers.bootstrap() and before serving.
// Guarantees
// - Fail closed: a user with no binding that allows a request is denied; there are no deny rules.

import type { Controllers } from '../controllers.ts'
import type { ResourceRegistry } from '../registry.ts'
import type { ObjectService, WriteGuard } from '../service.ts'
import type { ObjectStore } from '../store.ts'
import { ClusterRoleAggregator } from './aggregation.ts'
import { BindingIndex } from './binding-index.ts'
import { reconcileBootstrapPolicy } from './bootstrap.ts'
import { EscalationGuard } from './escalation.ts'
import { RbacAuthorizer } from './rbac-authorizer.ts'

export { RbacAuthorizer } from './rbac-authorizer.ts'
export type { SubjectRules, ResourceRuleInfo, NonResourceRuleInfo } from './rbac-authorizer.ts'
export { ClusterRoleAggregator } from './aggregation.ts'
export { BOOTSTRAP_CLUSTER_ROLES, BOOTSTRAP_CLUSTER_ROLE_BINDINGS } from './bootstrap-policy.ts'
export { covers, ruleAllows, compactString } from './rules.ts'
export * from './types.ts'

export interface Rbac {
  authorizer: RbacAuthorizer
  writeGuard: WriteGuard
  aggregator: ClusterRoleAggregator
  bootstrap(): void
}

export function createRbac(opts: {
  store: ObjectStore
  service: ObjectService
  registry: ResourceRegistry
  controllers: Controllers
}): Rbac {
  const index = new BindingIndex(opts.store)
  opts.store.onStage((events) => index.observe(events))
  const authorizer = new RbacAuthorizer(opts.store, index)
  const aggregator = new ClusterRoleAggregator(opts.service, opts.registry)
  opts.controllers.add(aggregator)
  const guard = new EscalationGuard(authorizer)
  return {
    authorizer,
    writeGuard: guard.guard,
    aggregator,
    bootstrap() {
      reconcileBootstrapPolicy(opts.service, opts.registry)
      aggregator.resync()
    },
  }
}
