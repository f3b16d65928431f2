// ConfigMap replicator: copies one ConfigMap into namespaces and keeps the copies exact (README.md).
import {
  deletionStarted,
  finalizer,
  generationChanged,
  isNotFound,
  objectKey,
  or,
  patchStatus,
  serverSideApply,
  setCondition,
  controllerReference,
  type Condition,
  type KObject,
  type Manager,
} from '../../src/runtime/index.ts'

export const REPLICATION = { apiVersion: 'replicator.example.dev/v1alpha1', kind: 'ConfigMapReplication' }
const CONFIGMAP = { apiVersion: 'v1', kind: 'ConfigMap' }

export interface Replication extends KObject {
  spec: { source: { namespace: string; name: string }; targetNamespaces: string[] }
  status?: { copies?: number; observedGeneration?: number; conditions?: Condition[] }
}

export function setupReplicator(mgr: Manager): void {
  const replications = mgr.reflectorFor<Replication>(REPLICATION).store
  const configMaps = mgr.reflectorFor(CONFIGMAP).store
  replications.addIndexer('source', (r) => [`${r.spec.source.namespace}/${r.spec.source.name}`])
  mgr
    .controller('configmap-replicator')
    .for<Replication>(REPLICATION, { predicates: [or(generationChanged, deletionStarted)] })
    .owns(CONFIGMAP)
    .watches(CONFIGMAP, (cm) => replications.byIndex('source', objectKey(cm)).map((r) => ({ name: r.metadata?.name ?? '' })))
    .complete(async ({ name }, { signal }) => {
      const r = replications.getByName(name)
      if (r === undefined) return
      const copies = configMaps.byIndex('owner', r.metadata?.uid ?? '')
      return finalizer(
        mgr.client,
        'replicator.example.dev/cleanup',
        r,
        async (ev) => {
          const wanted = ev.type === 'apply' ? new Set(ev.object.spec.targetNamespaces) : new Set<string>()
          for (const cm of copies) {
            if (!wanted.has(cm.metadata?.namespace ?? ''))
              await mgr.client.delete(CONFIGMAP, name, cm.metadata?.namespace).catch(ignoreNotFound)
          }
          if (ev.type === 'cleanup') return
          const { source } = r.spec
          const from = configMaps.getByName(source.name, source.namespace)
          const ready =
            from === undefined
              ? { status: 'False' as const, reason: 'SourceMissing', message: `ConfigMap ${source.namespace}/${source.name} not found` }
              : { status: 'True' as const, reason: 'Replicated', message: `copied to ${wanted.size} namespaces` }
          for (const namespace of from === undefined ? [] : wanted) {
            const copy = {
              ...CONFIGMAP,
              metadata: { name, namespace, ownerReferences: [controllerReference(ev.object)] },
              data: from?.data,
            }
            await serverSideApply(mgr.client, copy, { fieldManager: 'configmap-replicator', signal })
          }
          const conditions = setCondition(r.status?.conditions, { type: 'Ready', ...ready, observedGeneration: r.metadata?.generation })
          const status = { copies: from === undefined ? 0 : wanted.size, observedGeneration: r.metadata?.generation, conditions }
          await patchStatus(mgr.client, REPLICATION, name, undefined, status, { signal })
        },
        signal,
      )
    })
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err
}
