// The RBAC authorizer over the live store, with kube-apiserver's semantics
// (plugin/pkg/auth/authorizer/rbac/rbac.go and pkg/registry/rbac/validation/rule.go):
// a request is allowed when one rule of a role bound to the user allows it. ClusterRoleBindings
// apply everywhere; RoleBindings only to requests in their own namespace (and may reference a
// ClusterRole, whose rules then apply in that namespace only). There are no deny rules.
//
// Guarantees
// - Cheap per request: bindings come from an index by subject (binding-index.ts) and roles are
//   single map lookups in the store; nothing is cached that a write could make stale.
// - Allow reasons read as kube's: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to
//   Group "z"`. A denial has no reason unless a binding referenced a role that does not exist
//   (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`), exactly as kube-apiserver.

import type { Decision, RequestAttributes } from '../authorizer.ts'
import { aggregateMessage } from '../status.ts'
import type { ObjectStore } from '../store.ts'
import type { UserInfo } from '../user.ts'
import { type BindingIndex, subjectAppliesTo } from './binding-index.ts'
import { ruleAllows } from './rules.ts'
import {
  CLUSTER_ROLE_GR,
  ROLE_GR,
  RBAC_GROUP,
  rulesOf,
  subjectsOf,
  type BindingObject,
  type PolicyRule,
  type RoleRef,
  type Subject,
} from './types.ts'

export interface ResourceRuleInfo {
  verbs: string[]
  apiGroups: string[]
  resources: string[]
  resourceNames?: string[]
}
export interface NonResourceRuleInfo {
  verbs: string[]
  nonResourceURLs: string[]
}

/** What a user may do in a namespace (SelfSubjectRulesReview's status). */
export interface SubjectRules {
  resourceRules: ResourceRuleInfo[]
  nonResourceRules: NonResourceRuleInfo[]
  /** True when some binding could not be resolved (its role is missing): the lists may lack rules. */
  incomplete: boolean
  evaluationError?: string
}

/** Called with each rule that applies, and where it comes from; return false to stop. */
type Visitor = (rule: PolicyRule, source: () => string) => boolean

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`
  return `${s.kind} ${JSON.stringify(s.name)}`
}

export class RbacAuthorizer {
  #store: ObjectStore
  #index: BindingIndex

  constructor(store: ObjectStore, index: BindingIndex) {
    this.#store = store
    this.#index = index
  }

  /** The rules a role reference grants, resolved in `bindingNamespace` ("" for a ClusterRoleBinding); throws an Error naming a missing role. */
  roleReferenceRules(ref: RoleRef, bindingNamespace: string): PolicyRule[] {
    if (ref.kind === 'ClusterRole') {
      const r = this.#store.get(CLUSTER_ROLE_GR, undefined, ref.name)
      if (!r) throw new Error(`clusterrole.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found`)
      return rulesOf(r.obj)
    }
    if (ref.kind === 'Role') {
      const r = bindingNamespace ? this.#store.get(ROLE_GR, bindingNamespace, ref.name) : undefined
      if (!r) throw new Error(`role.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found`)
      return rulesOf(r.obj)
    }
    throw new Error(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`)
  }

  /**
   * Visits the rules that apply to `user` in `namespace` ("" for cluster scope and non-resource
   * requests): ClusterRoleBindings first, then the namespace's RoleBindings. Returns the errors met.
   */
  visitRulesFor(user: UserInfo, namespace: string, visit: Visitor): string[] {
    const errors: string[] = []
    const scopes: Array<string | undefined> = namespace ? [undefined, namespace] : [undefined]
    for (const scope of scopes) {
      for (const b of this.#index.bindingsFor(user, scope)) {
        const binding = b.obj as BindingObject
        const subject = subjectsOf(binding).find((s) => subjectAppliesTo(user, s, scope))
        if (!subject) continue
        let rules: PolicyRule[]
        try {
          rules = this.roleReferenceRules(binding.roleRef, scope ?? '')
        } catch (err) {
          errors.push((err as Error).message)
          continue
        }
        const source = () =>
          scope === undefined
            ? `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, '')}`
            : `RoleBinding ${JSON.stringify(`${binding.metadata.name}/${scope}`)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, scope)}`
        for (const rule of rules) if (!visit(rule, source)) return errors
      }
    }
    return errors
  }

  /** Whether `user` may do what `attrs` describe. */
  authorize(user: UserInfo, attrs: RequestAttributes): Decision {
    let reason: string | undefined
    const namespace = attrs.resourceRequest ? attrs.namespace : ''
    const errors = this.visitRulesFor(user, namespace, (rule, source) => {
      if (!ruleAllows(attrs, rule)) return true
      reason = `RBAC: allowed by ${source()}`
      return false
    })
    if (reason) return { allowed: true, reason }
    return errors.length ? { allowed: false, reason: `RBAC: ${aggregateMessage(errors)}` } : { allowed: false }
  }

  /** Every rule that applies to `user` in `namespace`, and the resolution errors met. */
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = []
    const errors = this.visitRulesFor(user, namespace, (rule) => {
      rules.push(rule)
      return true
    })
    return { rules, errors }
  }

  /** What SelfSubjectRulesReview (`kubectl auth can-i --list`) reports for `user` in `namespace`. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    const { rules, errors } = this.policyRulesFor(user, namespace)
    const resourceRules: ResourceRuleInfo[] = []
    const nonResourceRules: NonResourceRuleInfo[] = []
    for (const r of rules) {
      if (r.resources?.length) {
        resourceRules.push({
          verbs: [...r.verbs],
          apiGroups: [...(r.apiGroups ?? [])],
          resources: [...r.resources],
          ...(r.resourceNames?.length ? { resourceNames: [...r.resourceNames] } : {}),
        })
      }
      if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs] })
    }
    return {
      resourceRules,
      nonResourceRules,
      incomplete: errors.length > 0,
      ...(errors.length ? { evaluationError: aggregateMessage(errors) } : {}),
    }
  }
}
