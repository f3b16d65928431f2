// Owner references: mark objects a controller creates as controlled by their owner, so garbage
// collection deletes them with it and Owns(kind) routes their events back to the owner.

import type { KObject, OwnerReference } from './client/objects.ts'
import { ErrorCodes, RuntimeError } from './errors.ts'

/** The reference to put in a child: controller=true, blockOwnerDeletion=true. */
export function controllerReference(owner: KObject): OwnerReference {
  const m = owner.metadata
  if (!owner.apiVersion || !owner.kind || !m?.name || !m.uid) {
    throw new RuntimeError(
      ErrorCodes.INVALID_OPTION,
      'an owner needs apiVersion, kind, metadata.name and metadata.uid: pass the object as read from the API server',
    )
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }
}

/** The reference marked controller=true, if any. */
export function getControllerOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true)
}

export function isOwnedBy(obj: KObject, owner: KObject): boolean {
  const uid = owner.metadata?.uid
  return uid !== undefined && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)
}

/**
 * Sets `owner` as the controller of `obj` (in place; returns obj). Fails with RT_OWNER_CONFLICT
 * when another object already controls it: two controllers fighting over one child is a bug.
 * Cluster-scoped owners may own namespaced objects, not the reverse; namespaced owners must
 * share the child's namespace.
 */
export function setControllerReference<T extends KObject>(owner: KObject, obj: T): T {
  const ref = controllerReference(owner)
  const ownerNs = owner.metadata?.namespace
  if (ownerNs && obj.metadata?.namespace !== ownerNs) {
    throw new RuntimeError(
      ErrorCodes.OWNER_CONFLICT,
      `${owner.kind} ${ownerNs}/${ref.name} cannot own an object in namespace ${obj.metadata?.namespace ?? '(cluster scope)'}: owners must share the namespace`,
    )
  }
  const current = getControllerOf(obj)
  if (current !== undefined && current.uid !== ref.uid) {
    throw new RuntimeError(
      ErrorCodes.OWNER_CONFLICT,
      `${obj.kind ?? 'object'} ${obj.metadata?.name} is already controlled by ${current.kind} ${current.name}; remove that reference first`,
    )
  }
  obj.metadata ??= {}
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid)
  obj.metadata.ownerReferences = [...others, ref]
  return obj
}
