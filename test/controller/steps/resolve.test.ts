// Step resolve (controller/steps/resolve.ts): runtime references against RuntimeCatalogs, then
// the ContainerProvider; an outcome names the condition, reason, phase and requeue.
import t from 'tap'
import { Store } from '../../../src/runtime/index.ts'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import type { ContainerProvider, RuntimeCatalog } from '../../../controller/kinds.ts'
import { ProviderRegistry } from '../../../controller/provider-registry.ts'
import { describeResolved, resolveProvider, resolveRuntimes } from '../../../controller/steps/resolve.ts'
import { verifiedCatalog } from './fixtures.ts'

const catalogs = new Store<RuntimeCatalog>()
catalogs.apply(verifiedCatalog('node', ['20', '22'], { stable: '22' }))

t.test('resolved references continue with the catalog entry (url, sha256)', async (t) => {
  const r = resolveRuntimes(
    [
      { name: 'node', version: '20' },
      { name: 'node', channel: 'stable' },
    ],
    catalogs,
    undefined,
    undefined,
  )
  t.equal(r.next, 'continue')
  if (r.next !== 'continue') return
  t.match(r.value, [
    { name: 'node', version: '20', url: /node-20\.tar\.gz$/ },
    { name: 'node', version: '22', channel: 'stable' },
  ])
  t.equal(describeResolved(r.value), 'node 20, node 22 (stable)')
})

t.test('a channel follower holds its installed version until the rollout admits the new one', async (t) => {
  const held = resolveRuntimes([{ name: 'node', channel: 'stable' }], catalogs, { runtimes: [{ name: 'node', version: '20' }] }, undefined)
  t.match(held, { next: 'continue', value: [{ version: '20' }] })
  const admitted = resolveRuntimes(
    [{ name: 'node', channel: 'stable' }],
    catalogs,
    { runtimes: [{ name: 'node', version: '20' }] },
    { 'rollout.zerolaghub.dev/node': '22' },
  )
  t.match(admitted, { next: 'continue', value: [{ version: '22' }] })
})

t.test(
  'an unresolvable reference fails: RuntimeResolved with the catalog reason, Ready RuntimeUnresolved, Pending until a container exists',
  async (t) => {
    const r = resolveRuntimes(
      [
        { name: 'node', version: '22' },
        { name: 'node', version: '0.0.1' },
      ],
      catalogs,
      undefined,
      undefined,
    )
    t.match(r, {
      next: 'fail',
      halt: {
        condition: 'RuntimeResolved',
        reason: 'VersionNotFound',
        readyReason: 'RuntimeUnresolved',
        phase: 'PendingUntilCreated',
        requeueAfterMs: 30_000,
        message: /has no version 0\.0\.1/,
      },
    })
    t.match(resolveRuntimes([{ name: 'java', version: '21' }], catalogs, undefined, undefined), {
      next: 'fail',
      halt: { reason: 'CatalogNotFound' },
    })
  },
)

t.test(
  'the provider: a missing or absent default provider fails Provisioned, phase Pending (ContainerProviders from the API server)',
  async (t) => {
    const env = await startTestEnv()
    t.teardown(() => env.stop())
    const registry = new ProviderRegistry(env.client, new Store<ContainerProvider>(), { stateDir: t.testdir() })
    t.teardown(() => registry.close())
    const signal = new AbortController().signal
    t.match(await resolveProvider(registry, { providerRef: { name: 'nope' } }, signal), {
      next: 'fail',
      halt: { condition: 'Provisioned', reason: 'ProviderNotFound', phase: 'Pending', requeueAfterMs: 60_000 },
    })
    t.match(await resolveProvider(registry, undefined, signal), { next: 'fail', halt: { reason: 'NoDefaultProvider' } })
  },
)
