// Security of the shipped manifests (issue 19, part M), decided by the embedded API server's RBAC
// with the roles of manifests/base applied as `kubectl apply -k` would:
//   - the controller may set owner references with blockOwnerDeletion under the
//     OwnerReferencesPermissionEnforcement admission plugin (`update` on <kind>/finalizers of its
//     servers; kubernetes docs "Admission Controllers Reference", OwnerReferencesPermissionEnforcement),
//     and that grant gives it no more than that: no update or delete of the servers themselves;
//   - the controller's Lease rights stay in its own namespace;
//   - the controller Deployment does not serve /metrics openly (test/manifests/deployments.test.ts
//     runs it as rendered: 401 without the token Secret, the token only from that Secret).
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO, startServer } from '../apiserver/harness.ts'

const rendered: any[] = await new Promise((resolve, reject) =>
  execFile('kubectl', ['kustomize', join(REPO, 'manifests')], { maxBuffer: 64 << 20 }, (e, out, err) =>
    e
      ? reject(new Error(err))
      : resolve(
          parseAllDocuments(out)
            .map((d) => d.toJS())
            .filter(Boolean),
        ),
  ),
)
const SERVED = new Set([
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ConfigMap',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
])

t.test('the controller ServiceAccount: finalizers of its servers, nothing more', async (t) => {
  const h = await startServer(t)
  const applied = await h.kubectl(['apply', '--server-side', '-f', '-'], {
    input: rendered
      .filter((o) => SERVED.has(o.kind))
      .map((o) => JSON.stringify(o))
      .join('\n'),
  })
  t.equal(applied.code, 0, applied.stderr)
  const canI = async (...args: string[]): Promise<string> =>
    (await h.kubectl(['auth', 'can-i', ...args, '--as', 'system:serviceaccount:zlh-system:zlh-controller'])).stdout.trim()
  for (const kind of ['gameservers', 'devservers']) {
    t.equal(
      await canI('update', `${kind}.zerolaghub.dev`, '--subresource=finalizers', '-n', 'tenant-a'),
      'yes',
      `update ${kind}/finalizers in any namespace`,
    )
    t.equal(await canI('update', `${kind}.zerolaghub.dev`, '-n', 'tenant-a'), 'no', `no update of ${kind} themselves`)
    t.equal(await canI('delete', `${kind}.zerolaghub.dev`, '-n', 'tenant-a'), 'no', `no delete of ${kind}`)
  }
  t.equal(await canI('update', 'runtimecatalogs.zerolaghub.dev', '--subresource=finalizers'), 'no', 'nothing on kinds that own no Secrets')
  t.equal(await canI('update', 'leases.coordination.k8s.io', '-n', 'zlh-system'), 'yes', 'its Lease in its own namespace')
  t.equal(await canI('update', 'leases.coordination.k8s.io', '-n', 'kube-system'), 'no', 'no Lease in kube-system')
})
