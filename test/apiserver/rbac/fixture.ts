// An RBAC engine over a real ObjectStore/ObjectService in a temp dir (no HTTP), wired as the API
// server wires it: controllers observe staged commits, the write guard is set, bootstrap applied.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { RequestAttributes } from '../../../src/apiserver/authorizer.ts'
import { Controllers, systemCtx } from '../../../src/apiserver/controllers.ts'
import { createRbac, type Rbac } from '../../../src/apiserver/rbac/index.ts'
import { ResourceRegistry } from '../../../src/apiserver/registry.ts'
import { ObjectService, type WriteContext } from '../../../src/apiserver/service.ts'
import { ObjectStore } from '../../../src/apiserver/store.ts'
import type { KObject } from '../../../src/apiserver/types.ts'
import { GROUP_AUTHENTICATED, type UserInfo } from '../../../src/apiserver/user.ts'

export interface RbacFixture {
  rbac: Rbac
  store: ObjectStore
  service: ObjectService
  registry: ResourceRegistry
  /** Creates (as the server itself) or, with `user`, as that user through the write guard. */
  create(obj: Record<string, unknown>, user?: UserInfo, verb?: string): KObject
  /** Replaces an object (as the server, or as `user`). */
  update(obj: Record<string, unknown>, user?: UserInfo): KObject
  remove(apiVersion: string, kind: string, name: string, namespace?: string): void
  /** Lets the controllers' sweeps run (aggregation). */
  settle(): Promise<void>
}

const PLURAL: Record<string, string> = {
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
  Namespace: 'namespaces',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  Lease: 'leases',
}

export function user(name: string, ...groups: string[]): UserInfo {
  return { name, groups: [...groups, GROUP_AUTHENTICATED] }
}

/** Resource request attributes (kube's authorizer.AttributesRecord). */
export function res(verb: string, group: string, resource: string, namespace = '', name = '', subresource = ''): RequestAttributes {
  return { verb, resourceRequest: true, path: '', apiGroup: group, apiVersion: 'v1', resource, subresource, namespace, name }
}

/** Non-resource request attributes. */
export function url(verb: string, path: string): RequestAttributes {
  return { verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' }
}

export async function rbacFixture(t: Test): Promise<RbacFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-rbac-'))
  const store = new ObjectStore(join(dir, 'state.db'))
  const registry = new ResourceRegistry()
  const service = new ObjectService(store, registry)
  const controllers = new Controllers(service, registry, { eventTtlSeconds: 3600 })
  store.onStage((events) => controllers.observe(events))
  controllers.bootstrap()
  const rbac = createRbac({ store, service, registry, controllers })
  service.writeGuard = rbac.writeGuard
  rbac.bootstrap()
  t.teardown(async () => {
    controllers.stop()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const typeOf = (o: Record<string, unknown>) => {
    const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)]
    const t = registry.lookup(group!, version!, PLURAL[String(o.kind)] ?? '')
    if (!t) throw new Error(`no type for ${String(o.apiVersion)} ${String(o.kind)}`)
    return { t, version: version! }
  }
  const ctx = (u?: UserInfo, verb?: string): WriteContext => ({ ...systemCtx(), ...(u ? { user: u, verb: verb ?? 'create' } : {}) })
  return {
    rbac,
    store,
    service,
    registry,
    create(obj, u, verb) {
      const { t, version } = typeOf(obj)
      const ns = (obj.metadata as { namespace?: string }).namespace
      return service.create(t, version, ns, structuredClone(obj), ctx(u, verb)).obj
    },
    update(obj, u) {
      const { t, version } = typeOf(obj)
      const m = obj.metadata as { namespace?: string; name: string }
      return service.update(t, version, m.namespace, m.name, structuredClone(obj), undefined, ctx(u, 'update')).obj
    },
    remove(apiVersion, kind, name, namespace) {
      const { t } = typeOf({ apiVersion, kind })
      service.delete(t, namespace, name, {}, systemCtx())
    },
    async settle() {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
      await store.settled()
    },
  }
}
