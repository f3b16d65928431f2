// The table of served resources: built-ins plus one entry per established CRD. Lookups by
// group/version/resource for routing, by "resource.group" for storage, and change notification
// so discovery documents are rebuilt only when the set of resources changes.

import { builtinTypes } from './builtin-types.ts'
import { versionInfo, type ResourceType } from './resource-type.ts'

export class ResourceRegistry {
  #byGr = new Map<string, ResourceType>()
  #generation = 0

  constructor() {
    for (const t of builtinTypes()) this.#byGr.set(t.gr, t)
  }

  /** Increments whenever a resource is added, changed or removed (discovery caches key on it). */
  get generation(): number {
    return this.#generation
  }

  all(): ResourceType[] {
    return [...this.#byGr.values()]
  }

  byGr(gr: string): ResourceType | undefined {
    return this.#byGr.get(gr)
  }

  /** The type served at group/version/resource, matched exactly: "/api/v1/x.example.com" never names the group's "x". */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const t = this.#byGr.get(group ? `${resource}.${group}` : resource)
    return t && t.group === group && t.resource === resource && versionInfo(t, version) ? t : undefined
  }

  /** Whether group/version is served at all. */
  servesGroupVersion(group: string, version: string): boolean {
    for (const t of this.#byGr.values()) if (t.group === group && versionInfo(t, version)) return true
    return false
  }

  set(t: ResourceType): void {
    this.#byGr.set(t.gr, t)
    this.#generation++
  }

  remove(gr: string): void {
    if (this.#byGr.delete(gr)) this.#generation++
  }
}
