// Which RoleBindings and ClusterRoleBindings can apply to a user, found without scanning them all:
// every binding is indexed under each of its subjects (user name, group, or the user name a
// ServiceAccount subject authenticates as), per namespace for RoleBindings.
//
// Guarantees
// - observe() is fed every staged store event, so the index is current for the very next request
//   after a binding is written (the authorizer runs on every request).
// - bindingsFor() returns each binding at most once, ordered by name (kube's order is its cache's;
//   a fixed order keeps "allowed by ..." reasons stable).

import { serviceAccountUserName, type UserInfo } from '../user.ts'
import type { ObjectStore, StoreEvent, StoredObject } from '../store.ts'
import { CLUSTER_ROLE_BINDING_GR, ROLE_BINDING_GR, subjectsOf, type Subject } from './types.ts'

const userKey = (name: string) => `u\0${name}`
const groupKey = (name: string) => `g\0${name}`
const scoped = (namespace: string | undefined, key: string) => `${namespace ?? ''}\0${key}`

/** The user name a ServiceAccount subject stands for ("" when it names no namespace and has no default). */
export function subjectServiceAccountUser(subject: Subject, bindingNamespace: string | undefined): string {
  const ns = subject.namespace || bindingNamespace
  return ns ? serviceAccountUserName(ns, subject.name) : ''
}

/** Whether `subject` of a binding in `bindingNamespace` (undefined: a ClusterRoleBinding) names `user`. */
export function subjectAppliesTo(user: UserInfo, subject: Subject, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name
    case 'Group':
      return user.groups.includes(subject.name)
    case 'ServiceAccount': {
      const name = subjectServiceAccountUser(subject, bindingNamespace)
      return name !== '' && name === user.name
    }
    default:
      return false
  }
}

function subjectKey(subject: Subject, bindingNamespace: string | undefined): string | undefined {
  if (typeof subject?.name !== 'string') return undefined
  switch (subject.kind) {
    case 'User':
      return userKey(subject.name)
    case 'Group':
      return groupKey(subject.name)
    case 'ServiceAccount': {
      const name = subjectServiceAccountUser(subject, bindingNamespace)
      return name ? userKey(name) : undefined
    }
    default:
      return undefined
  }
}

export class BindingIndex {
  #bySubject = new Map<string, Set<string>>()
  #keysOf = new Map<string, string[]>()
  #bindings = new Map<string, StoredObject>()

  constructor(store: ObjectStore) {
    for (const gr of [ROLE_BINDING_GR, CLUSTER_ROLE_BINDING_GR]) for (const o of store.list(gr)) this.#put(o)
  }

  observe(events: readonly StoreEvent[]): void {
    for (const e of events) {
      if (e.gr !== ROLE_BINDING_GR && e.gr !== CLUSTER_ROLE_BINDING_GR) continue
      this.#remove(e.cur.key)
      if (e.type !== 'DELETED') this.#put(e.cur)
    }
  }

  /** ClusterRoleBindings (namespace undefined) or the RoleBindings of `namespace` that may name `user`. */
  bindingsFor(user: UserInfo, namespace: string | undefined): StoredObject[] {
    const keys = new Set<string>()
    for (const k of [userKey(user.name), ...user.groups.map(groupKey)]) {
      for (const b of this.#bySubject.get(scoped(namespace, k)) ?? []) keys.add(b)
    }
    const out: StoredObject[] = []
    for (const k of keys) {
      const b = this.#bindings.get(k)
      if (b) out.push(b)
    }
    return out.sort((a, b) => (a.obj.metadata.name! < b.obj.metadata.name! ? -1 : a.obj.metadata.name! > b.obj.metadata.name! ? 1 : 0))
  }

  #put(o: StoredObject): void {
    const ns = o.gr === ROLE_BINDING_GR ? o.obj.metadata.namespace : undefined
    const keys = new Set<string>()
    for (const s of subjectsOf(o.obj)) {
      const k = subjectKey(s, ns)
      if (k) keys.add(scoped(ns, k))
    }
    this.#bindings.set(o.key, o)
    this.#keysOf.set(o.key, [...keys])
    for (const k of keys) {
      let set = this.#bySubject.get(k)
      if (!set) {
        set = new Set()
        this.#bySubject.set(k, set)
      }
      set.add(o.key)
    }
  }

  #remove(bindingKey: string): void {
    for (const k of this.#keysOf.get(bindingKey) ?? []) {
      const set = this.#bySubject.get(k)
      set?.delete(bindingKey)
      if (set?.size === 0) this.#bySubject.delete(k)
    }
    this.#keysOf.delete(bindingKey)
    this.#bindings.delete(bindingKey)
  }
}
