// Discovery documents: /api, /apis, /apis/<group>, the per group-version APIResourceLists, and
// aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) as kubectl 1.30+ asks for it. Built
// from the registry plus the fixed endpoints that store nothing (the review APIs, TokenRequest:
// ExtraResource), and cached until the set of resources changes.

import { createHash } from 'node:crypto'
import type { ResourceRegistry } from './registry.ts'
import { apiVersionOf, type ResourceType } from './resource-type.ts'

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
const SUB_VERBS = ['get', 'patch', 'update']
const BUILTIN_GROUP_ORDER = [
  '',
  'coordination.k8s.io',
  'events.k8s.io',
  'apiextensions.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'rbac.authorization.k8s.io',
]

export interface GroupInfo {
  name: string
  versions: string[]
}

/**
 * A served resource that is not in the registry (create-only endpoints). `resource` may be
 * "parent/sub" for a subresource of a registered resource; `responseGroup`/`responseVersion`
 * name the kind's group when it differs from the URL's (serviceaccounts/token → authentication.k8s.io).
 */
export interface ExtraResource {
  group: string
  version: string
  resource: string
  kind: string
  namespaced: boolean
  verbs: string[]
  responseGroup?: string
  responseVersion?: string
}

export const DISCOVERY_V2_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'
export const DISCOVERY_V2BETA1_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'

export interface Doc {
  body: string
  etag: string
}

function doc(o: unknown): Doc {
  const body = JSON.stringify(o)
  return { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` }
}

function versionOrder(a: string, b: string): number {
  // Kubernetes version priority: GA > beta > alpha, higher numbers first.
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v)
    if (!m) return [0, 0, 0]
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)]
  }
  const ra = rank(a)
  const rb = rank(b)
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i]
  return a.localeCompare(b)
}

export class Discovery {
  #registry: ResourceRegistry
  #extras: ExtraResource[]
  #cacheGen = -1
  #cache = new Map<string, Doc>()

  constructor(registry: ResourceRegistry, extras: ExtraResource[] = []) {
    this.#registry = registry
    this.#extras = extras
  }

  #extrasOf(group: string, version: string): ExtraResource[] {
    return this.#extras.filter((e) => e.group === group && e.version === version)
  }

  /** Whether group/version is served at all (registry or extras). */
  servesGroupVersion(group: string, version: string): boolean {
    return this.#registry.servesGroupVersion(group, version) || this.#extrasOf(group, version).length > 0
  }

  #cached(key: string, build: () => unknown): Doc {
    if (this.#cacheGen !== this.#registry.generation) {
      this.#cache.clear()
      this.#cacheGen = this.#registry.generation
    }
    let d = this.#cache.get(key)
    if (!d) {
      d = doc(build())
      this.#cache.set(key, d)
    }
    return d
  }

  groups(): GroupInfo[] {
    const byGroup = new Map<string, Set<string>>()
    const add = (group: string, version: string) => {
      let s = byGroup.get(group)
      if (!s) {
        s = new Set()
        byGroup.set(group, s)
      }
      s.add(version)
    }
    for (const t of this.#registry.all()) for (const v of t.versions) add(t.group, v.name)
    for (const e of this.#extras) add(e.group, e.version)
    const names = [...byGroup.keys()].sort((a, b) => {
      const ia = BUILTIN_GROUP_ORDER.indexOf(a)
      const ib = BUILTIN_GROUP_ORDER.indexOf(b)
      if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib)
      return a.localeCompare(b)
    })
    return names.map((name) => ({ name, versions: [...byGroup.get(name)!].sort(versionOrder) }))
  }

  #resourcesOf(group: string, version: string): ResourceType[] {
    return this.#registry
      .all()
      .filter((t) => t.group === group && t.versions.some((v) => v.name === version))
      .sort((a, b) => a.resource.localeCompare(b.resource))
  }

  apiVersions(serverAddress: string): Doc {
    return this.#cached(`api:${serverAddress}`, () => ({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }))
  }

  #groupJson(g: GroupInfo) {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }))
    return { name: g.name, versions, preferredVersion: versions[0] }
  }

  apiGroupList(): Doc {
    return this.#cached('apis', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groups()
        .filter((g) => g.name !== '')
        .map((g) => this.#groupJson(g)),
    }))
  }

  apiGroup(group: string): Doc | undefined {
    const g = this.groups().find((x) => x.name === group && group !== '')
    if (!g) return undefined
    return this.#cached(`group:${group}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...this.#groupJson(g) }))
  }

  resourceList(group: string, version: string): Doc | undefined {
    if (!this.servesGroupVersion(group, version)) return undefined
    return this.#cached(`gv:${group}/${version}`, () => {
      const resources: unknown[] = []
      for (const t of this.#resourcesOf(group, version)) {
        const v = t.versions.find((x) => x.name === version)!
        const r: Record<string, unknown> = {
          name: t.resource,
          singularName: t.singular,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: VERBS,
        }
        if (t.shortNames.length) r.shortNames = t.shortNames
        if (t.categories.length) r.categories = t.categories
        r.storageVersionHash = createHash('sha256').update(`${t.group}/${t.versions[0].name}/${t.kind}`).digest('base64').slice(0, 11)
        resources.push(r)
        if (v.statusSubresource)
          resources.push({ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: SUB_VERBS })
        if (t.gr === 'namespaces')
          resources.push({ name: 'namespaces/finalize', singularName: '', namespaced: false, kind: 'Namespace', verbs: ['update'] })
      }
      for (const e of this.#extrasOf(group, version)) {
        const sub = e.resource.includes('/')
        if (sub && !this.#registry.lookup(group, version, e.resource.split('/')[0])) continue
        resources.push({
          name: e.resource,
          singularName: sub ? '' : e.kind.toLowerCase(),
          namespaced: e.namespaced,
          kind: e.kind,
          verbs: e.verbs,
          ...(e.responseGroup !== undefined ? { group: e.responseGroup, version: e.responseVersion ?? version } : {}),
        })
      }
      resources.sort((a, b) => ((a as { name: string }).name < (b as { name: string }).name ? -1 : 1))
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources }
    })
  }

  /** Aggregated discovery for /api (legacy core group) or /apis (all named groups). */
  aggregated(legacy: boolean, version: 'v2' | 'v2beta1'): Doc {
    return this.#cached(`agg:${legacy}:${version}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items: this.groups()
        .filter((g) => (g.name === '') === legacy)
        .map((g) => ({
          metadata: { name: g.name, creationTimestamp: null },
          versions: g.versions.map((ver) => ({
            version: ver,
            resources: [
              ...this.#resourcesOf(g.name, ver).map((t) => {
                const v = t.versions.find((x) => x.name === ver)!
                const kind = { group: t.group, version: ver, kind: t.kind }
                const r: Record<string, unknown> = {
                  resource: t.resource,
                  responseKind: kind,
                  scope: t.namespaced ? 'Namespaced' : 'Cluster',
                  singularResource: t.singular,
                  verbs: VERBS,
                }
                if (t.shortNames.length) r.shortNames = t.shortNames
                if (t.categories.length) r.categories = t.categories
                const subs: unknown[] = []
                if (v.statusSubresource) subs.push({ subresource: 'status', responseKind: kind, verbs: SUB_VERBS })
                for (const e of this.#extrasOf(g.name, ver)) {
                  if (e.resource.startsWith(`${t.resource}/`))
                    subs.push({
                      subresource: e.resource.slice(t.resource.length + 1),
                      responseKind: { group: e.responseGroup ?? g.name, version: e.responseVersion ?? ver, kind: e.kind },
                      verbs: e.verbs,
                    })
                }
                if (subs.length) r.subresources = subs
                return r
              }),
              ...this.#extrasOf(g.name, ver)
                .filter((e) => !e.resource.includes('/'))
                .map((e) => ({
                  resource: e.resource,
                  responseKind: { group: e.group, version: ver, kind: e.kind },
                  scope: e.namespaced ? 'Namespaced' : 'Cluster',
                  singularResource: e.kind.toLowerCase(),
                  verbs: e.verbs,
                })),
            ].sort((a, b) => (String(a.resource) < String(b.resource) ? -1 : 1)),
            freshness: 'Current',
          })),
        })),
    }))
  }
}

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-zlh',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'node',
  platform: `${process.platform}/${process.arch}`,
}
