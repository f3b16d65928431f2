// The identities and permissions of manifests/base (the one source of truth for the controller's
// and the gateway's RBAC, on a real cluster and on the embedded default alike): the Namespace,
// ServiceAccounts, ClusterRoles, ClusterRoleBindings, Roles and RoleBindings of the files
// kustomization.yaml lists, with its `labels`, applied by server-side apply. The Deployments,
// Services, Ingresses and CRD copies of the base are left out (`zlh up` runs the components itself
// and installs the CRDs from crds/).
//
// Guarantees: the objects are read from the same files `kubectl apply -k manifests/` reads; the
// apply order is namespaces, roles, service accounts, then bindings, so a binding never names a
// role that is not there yet; a re-apply with the same field manager drops rules removed from a file.
// Caveats: only the kustomize features the base uses are honoured (`resources` files and
// `labels[].pairs`); a directory entry (crds) is skipped. A binding whose roleRef changed is
// rejected by the API server (roleRef is immutable, as on a cluster): delete it first.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { serverSideApply, type Client, type KObject } from '../../runtime/index.ts'

export const MANIFESTS_BASE = join(import.meta.dirname, '..', '..', '..', 'manifests', 'base')

/** The ServiceAccounts the components run as (rbac-controller.yaml, rbac-gateway.yaml). */
export const CONTROLLER_SERVICE_ACCOUNT = { namespace: 'zlh-system', name: 'zlh-controller' } as const
export const GATEWAY_SERVICE_ACCOUNT = { namespace: 'zlh-system', name: 'zlh-gateway' } as const

/** Kinds taken from the base, in the order they are applied. */
export const RBAC_KINDS = ['Namespace', 'ClusterRole', 'Role', 'ServiceAccount', 'ClusterRoleBinding', 'RoleBinding'] as const

interface Kustomization {
  resources?: string[]
  labels?: Array<{ pairs?: Record<string, string> }>
}

/** The RBAC objects (and namespaces) of the kustomize base at `baseDir`, in apply order. */
export function baseRbacObjects(baseDir: string = MANIFESTS_BASE): KObject[] {
  const kustomizationFile = join(baseDir, 'kustomization.yaml')
  const k = parse(readFileSync(kustomizationFile, 'utf8')) as Kustomization | null
  if (!k?.resources?.length) throw new Error(`${kustomizationFile} lists no resources: it is where zlh reads its RBAC from`)
  const labels = Object.assign({}, ...(k.labels ?? []).map((l) => l.pairs ?? {})) as Record<string, string>
  const objs: KObject[] = []
  for (const entry of k.resources) {
    const path = join(baseDir, entry)
    if (statSync(path).isDirectory()) continue
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`)
      const obj = doc.toJS() as KObject | null
      if (obj === null || !(RBAC_KINDS as readonly string[]).includes(obj.kind ?? '')) continue
      obj.metadata = { ...obj.metadata, labels: { ...labels, ...obj.metadata?.labels } }
      objs.push(obj)
    }
  }
  const rank = (o: KObject): number => (RBAC_KINDS as readonly string[]).indexOf(o.kind ?? '')
  return objs
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o)
}

/** Server-side applies `objs` (default: the base's) with `client`, which must hold what they grant
 * (RBAC's escalation check): the admin identity. Returns what was applied, for the caller's log. */
export async function applyBaseRbac(client: Client, opts: { fieldManager: string; objs?: KObject[] }): Promise<string[]> {
  const applied: string[] = []
  for (const obj of opts.objs ?? baseRbacObjects()) {
    try {
      await serverSideApply(client, obj, { fieldManager: opts.fieldManager })
    } catch (err) {
      throw new Error(
        `applying ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name} from manifests/base: ${(err as Error).message}`,
        { cause: err },
      )
    }
    applied.push(`${obj.kind}/${obj.metadata?.name}`)
  }
  return applied
}
