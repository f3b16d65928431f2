// Write guards of the RBAC kinds (kube's pkg/registry/rbac/*/policybased): nobody grants through a
// Role, ClusterRole or binding a permission they do not hold themselves, and a server-side apply
// that creates an object needs `create` on it (kube's patch handler authorizes that separately).
//
// Rules
// - Role / ClusterRole create or update: every rule must be covered by the writer's own rules in
//   that namespace (cluster-wide for ClusterRoles), unless the writer may `escalate` that kind
//   there. A ClusterRole that has (or had) an aggregationRule needs full authority (`*` on
//   everything), since it may gather any rule.
// - RoleBinding / ClusterRoleBinding create or update: the writer may `bind` the referenced role
//   (by name) in the binding's namespace (cluster-wide for ClusterRoleBindings), or holds every rule
//   of that role there. A missing role is a 404, as kube.
// - Members of system:masters, and the server's own writes (no user), pass. An update that only
//   touches ownerReferences or finalizers passes (the garbage collector must be able to finish).
// Errors
// - 403 Forbidden worded as kube-apiserver: `roles.rbac.authorization.k8s.io "x" is forbidden:
//   user "u" (groups=["g"]) is attempting to grant RBAC permissions not currently held:\n{...}`.

import { isDeepStrictEqual } from 'node:util'
import type { RequestAttributes } from '../authorizer.ts'
import type { ResourceType } from '../resource-type.ts'
import type { WriteGuard } from '../service.ts'
import { ApiError, errors } from '../status.ts'
import type { KObject } from '../types.ts'
import { GROUP_MASTERS, type UserInfo } from '../user.ts'
import type { RbacAuthorizer } from './rbac-authorizer.ts'
import { compactRules, compactString, covers, goQuotedList } from './rules.ts'
import {
  ALL,
  CLUSTER_ROLE_BINDING_GR,
  CLUSTER_ROLE_GR,
  RBAC_GROUP,
  ROLE_BINDING_GR,
  ROLE_GR,
  rulesOf,
  type BindingObject,
  type PolicyRule,
  type RoleObject,
} from './types.ts'

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: [ALL], apiGroups: [ALL], resources: [ALL] },
  { verbs: [ALL], nonResourceURLs: [ALL] },
]

function resourceAttrs(
  verb: string,
  group: string,
  resource: string,
  namespace: string,
  name: string,
  subresource = '',
): RequestAttributes {
  return { verb, resourceRequest: true, path: '', apiGroup: group, apiVersion: '*', resource, subresource, namespace, name }
}

/** An update that changes nothing but what the garbage collector may change (kube's IsOnlyMutatingGCFields). */
function onlyGcFields(obj: KObject, old: KObject | undefined): boolean {
  if (!old) return false
  const strip = (o: KObject) => ({
    ...o,
    metadata: { ...o.metadata, ownerReferences: undefined, finalizers: undefined, managedFields: undefined, resourceVersion: undefined },
  })
  return isDeepStrictEqual(strip(obj), strip(old))
}

export class EscalationGuard {
  #authz: RbacAuthorizer

  constructor(authz: RbacAuthorizer) {
    this.#authz = authz
  }

  /** The WriteGuard to set on ObjectService. */
  readonly guard: WriteGuard = ({ type, obj, old, subresource, ctx }) => {
    const user = ctx.user
    if (!user) return
    if (ctx.verb === 'patch' && !old) this.#requireCreate(user, type, obj, subresource)
    if (user.groups.includes(GROUP_MASTERS)) return
    switch (type.gr) {
      case ROLE_GR:
      case CLUSTER_ROLE_GR:
        return this.#checkRole(user, type, obj as RoleObject, old as RoleObject | undefined)
      case ROLE_BINDING_GR:
      case CLUSTER_ROLE_BINDING_GR:
        return this.#checkBinding(user, type, obj as BindingObject, old)
    }
  }

  // kube's patch handler: an apply that creates is authorized as a create too.
  #requireCreate(user: UserInfo, type: ResourceType, obj: KObject, subresource: string | undefined): void {
    const name = obj.metadata.name ?? ''
    const namespace = type.namespaced ? (obj.metadata.namespace ?? '') : ''
    if (this.#authz.authorize(user, resourceAttrs('create', type.group, type.resource, namespace, name, subresource ?? '')).allowed) return
    const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'
    const resource = subresource ? `${type.resource}/${subresource}` : type.resource
    throw errors.forbiddenObject(
      type.group,
      type.resource,
      name,
      `User "${user.name}" cannot create resource "${resource}" in API group "${type.group}" ${scope} (server-side apply of an object that does not exist yet creates it, which needs the create verb)`,
    )
  }

  #may(user: UserInfo, verb: string, resource: string, namespace: string, name: string, group = RBAC_GROUP): boolean {
    return this.#authz.authorize(user, resourceAttrs(verb, group, resource, namespace, name)).allowed
  }

  /** Throws 403 unless `user` holds every rule of `rules` in `namespace`. */
  #confirmNoEscalation(user: UserInfo, type: ResourceType, name: string, namespace: string, rules: PolicyRule[], message?: string): void {
    const owner = this.#authz.policyRulesFor(user, namespace)
    const { covered, missing } = covers(owner.rules, rules)
    if (covered) return
    if (message) throw errors.forbiddenObject(type.group, type.resource, name, message)
    const lines = [...new Set(compactRules(missing).map(compactString))].sort()
    let why = `user ${JSON.stringify(user.name)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`
    if (owner.errors.length) why += `; resolution errors: [${owner.errors.join(' ')}]`
    throw errors.forbiddenObject(type.group, type.resource, name, why)
  }

  #checkRole(user: UserInfo, type: ResourceType, obj: RoleObject, old: RoleObject | undefined): void {
    if (onlyGcFields(obj, old)) return
    const name = obj.metadata.name ?? ''
    const namespace = type.gr === ROLE_GR ? (obj.metadata.namespace ?? '') : ''
    if (this.#may(user, 'escalate', type.resource, namespace, name)) return
    this.#confirmNoEscalation(user, type, name, namespace, rulesOf(obj))
    if (type.gr === CLUSTER_ROLE_GR && (obj.aggregationRule || old?.aggregationRule)) {
      this.#confirmNoEscalation(user, type, name, '', FULL_AUTHORITY, 'must have cluster-admin privileges to use the aggregationRule')
    }
  }

  #checkBinding(user: UserInfo, type: ResourceType, obj: BindingObject, old: KObject | undefined): void {
    if (onlyGcFields(obj, old)) return
    const name = obj.metadata.name ?? ''
    const namespace = type.gr === ROLE_BINDING_GR ? (obj.metadata.namespace ?? '') : ''
    const ref = obj.roleRef
    const refResource = ref.kind === 'Role' ? 'roles' : ref.kind === 'ClusterRole' ? 'clusterroles' : ''
    if (refResource && this.#may(user, 'bind', refResource, namespace, ref.name, ref.apiGroup)) return
    let rules: PolicyRule[]
    try {
      rules = this.#authz.roleReferenceRules(ref, namespace)
    } catch (err) {
      if (refResource) throw errors.notFound(RBAC_GROUP, refResource, ref.name)
      throw new ApiError('BadRequest', (err as Error).message)
    }
    this.#confirmNoEscalation(user, type, name, namespace, rules)
  }
}
