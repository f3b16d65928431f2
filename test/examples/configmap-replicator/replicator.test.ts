// The example operator end to end against the real embedded API server.
import t from 'tap'
import { join } from 'node:path'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { Manager, isNotFound, type KObject } from '../../../src/runtime/index.ts'
import { silentLogger } from '../../../src/runtime/log.ts'
import { REPLICATION, setupReplicator, type Replication } from '../../../examples/configmap-replicator/replicator.ts'
import { eventually } from '../../runtime/integration/fault-proxy.ts'

const CM = { apiVersion: 'v1', kind: 'ConfigMap' }
const crdFile = join(import.meta.dirname, '..', '..', '..', 'examples', 'configmap-replicator', 'crd.yaml')

t.test('replicates, repairs, follows the source, prunes and cleans up', async (t) => {
  const env = await startTestEnv({ crds: [crdFile] })
  t.teardown(() => env.stop())
  const c = env.client
  for (const ns of ['src', 'b', 'c', 'd']) await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  await c.create({ ...CM, metadata: { name: 'settings', namespace: 'src' }, data: { color: 'blue' } })
  const mgr = new Manager({ kubeConfig: env.kubeConfig, logger: silentLogger() })
  setupReplicator(mgr)
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })

  const copy = (ns: string) =>
    c.get<KObject>(CM, 'team', ns).catch((e: unknown) => {
      if (isNotFound(e)) return undefined
      throw e
    })
  const color = async (ns: string) => ((await copy(ns))?.data as { color?: string } | undefined)?.color

  await c.create({
    ...REPLICATION,
    metadata: { name: 'team' },
    spec: { source: { namespace: 'src', name: 'settings' }, targetNamespaces: ['b', 'c'] },
  })
  await eventually(async () => (await color('b')) === 'blue' && (await color('c')) === 'blue', 'copies in b and c')
  const r = await c.get<Replication>(REPLICATION, 'team')
  t.same(r.metadata?.finalizers, ['replicator.example.dev/cleanup'], 'finalizer added')
  await eventually(async () => (await c.get<Replication>(REPLICATION, 'team')).status?.copies === 2, 'status copies = 2')
  const ready = (await c.get<Replication>(REPLICATION, 'team')).status?.conditions?.find((x) => x.type === 'Ready')
  t.equal(ready?.status, 'True')
  t.equal(ready?.observedGeneration, r.metadata?.generation)
  t.equal((await copy('b'))?.metadata?.ownerReferences?.[0]?.uid, r.metadata?.uid, 'copies are controlled by the replication')

  await c.patch(CM, 'team', 'b', { data: { color: 'tampered' } }, 'application/merge-patch+json')
  await eventually(async () => (await color('b')) === 'blue', 'a tampered copy is repaired (Owns)')
  await c.delete(CM, 'team', 'c')
  await eventually(async () => (await color('c')) === 'blue', 'a deleted copy is recreated')

  await c.patch(CM, 'settings', 'src', { data: { color: 'green' } }, 'application/merge-patch+json')
  await eventually(async () => (await color('b')) === 'green' && (await color('c')) === 'green', 'source change propagates (Watches)')

  await c.patch(REPLICATION, 'team', undefined, { spec: { targetNamespaces: ['b', 'd'] } }, 'application/merge-patch+json')
  await eventually(async () => (await copy('c')) === undefined && (await color('d')) === 'green', 'retargeted: c pruned, d added')

  await c.delete(REPLICATION, 'team')
  await eventually(async () => (await copy('b')) === undefined && (await copy('d')) === undefined, 'cleanup removed the copies')
  await eventually(async () => (await c.get(REPLICATION, 'team').catch(() => undefined)) === undefined, 'replication deleted after cleanup')
})

t.test('a missing source is reported in status, then picked up when it appears', async (t) => {
  const env = await startTestEnv({ crds: [crdFile] })
  t.teardown(() => env.stop())
  const c = env.client
  for (const ns of ['src', 'x']) await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  const mgr = new Manager({ kubeConfig: env.kubeConfig, logger: silentLogger() })
  setupReplicator(mgr)
  const run = mgr.start()
  t.teardown(async () => {
    mgr.stop()
    await run
  })
  await c.create({
    ...REPLICATION,
    metadata: { name: 'late' },
    spec: { source: { namespace: 'src', name: 'later' }, targetNamespaces: ['x'] },
  })
  await eventually(
    async () => (await c.get<Replication>(REPLICATION, 'late')).status?.conditions?.[0]?.reason === 'SourceMissing',
    'SourceMissing reported',
  )
  await c.create({ ...CM, metadata: { name: 'later', namespace: 'src' }, data: { k: 'v' } })
  await eventually(
    async () => ((await c.get<KObject>(CM, 'late', 'x').catch(() => undefined))?.data as { k?: string } | undefined)?.k === 'v',
    'copied once the source exists',
  )
  await eventually(
    async () => (await c.get<Replication>(REPLICATION, 'late')).status?.conditions?.[0]?.status === 'True',
    'Ready turns True',
  )
})
