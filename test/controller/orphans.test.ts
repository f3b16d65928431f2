// Orphan collection (controller/orphans.ts) on a FakeClock: a container whose owner exists in
// neither cache nor the API server (embedded, envtest) is deleted only after it was seen orphaned
// for the whole grace period; one whose owner the API server still has is never touched; the
// sweep interval runs on the same clock. The backend is a STUB listing in-memory containers.
import t from 'tap'
import pino from 'pino'
import { join } from 'node:path'
import { startTestEnv } from '../../src/runtime/envtest/index.ts'
import { FakeClock, Store, type EventRecorder } from '../../src/runtime/index.ts'
import type { Container } from '../../src/providers/index.ts'
import { GAMESERVER, type DevServer, type GameServer } from '../../controller/kinds.ts'
import { OrphanCollector } from '../../controller/orphans.ts'
import type { ProviderRegistry } from '../../controller/provider-registry.ts'
import { eventLog } from './steps/stub-agent.ts'

const CRDS = join(import.meta.dirname, '..', '..', 'crds')
const GRACE = 60_000

t.test('an orphan is deleted after the grace period on the clock; a live owner is never touched', async (t) => {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const live = await env.client.create<GameServer>({
    ...GAMESERVER,
    metadata: { name: 'alive', namespace: 'default' },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'] } },
  } as unknown as GameServer)
  const container = (vmid: number, ownerUid: string) =>
    ({ provider: 'process', vmid, ownerUid, state: 'running', resources: { cores: 1, memoryMiB: 1, diskGiB: 1 } }) as Container
  let containers = [container(100, 'gone-uid'), container(101, live.metadata.uid as string)]
  const deleted: number[] = []
  const backend = {
    list: async () => containers,
    delete: async (ref: { vmid: number }) => {
      deleted.push(ref.vmid)
      containers = containers.filter((c) => c.vmid !== ref.vmid)
    },
  }
  const providers = {
    all: async () => [{ name: 'stub', backend, resource: { metadata: { name: 'stub' } } }],
  } as unknown as ProviderRegistry
  const clock = new FakeClock()
  const { events, recorder } = eventLog()
  const orphans = new OrphanCollector({
    client: env.client,
    providers,
    gameServers: new Store<GameServer>(),
    devServers: new Store<DevServer>(),
    synced: () => true,
    recorder: recorder as unknown as EventRecorder,
    log: pino({ level: 'silent' }),
    graceMs: GRACE,
    intervalMs: 30_000,
    clock,
  })
  const signal = new AbortController().signal

  t.same(await orphans.sweep(signal), [], 'first seen: the grace period starts')
  clock.advance(GRACE - 1)
  t.same(await orphans.sweep(signal), [], 'not yet')
  clock.advance(1)
  t.match(await orphans.sweep(signal), [{ provider: 'stub', vmid: 100, ownerUid: 'gone-uid' }])
  t.same(deleted, [100], 'the container whose owner the API server still has stays')
  t.match(events, [{ type: 'Warning', reason: 'OrphanDeleted', message: /deleted container 100/ }])

  // The loop sleeps on the clock between sweeps: nothing more happens until the interval passes.
  containers.push(container(102, 'also-gone'))
  const stop = new AbortController()
  const loop = orphans.start(stop.signal)
  await clock.settle()
  clock.advance(30_000 + GRACE)
  await clock.settle(50)
  clock.advance(30_000)
  await clock.settle(50)
  stop.abort()
  await loop
  t.same(deleted, [100, 102], 'the loop swept again on the clock and deleted the new orphan after its grace period')
})
