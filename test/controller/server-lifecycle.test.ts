// The delete path run again from a cache that has not yet seen the deletion: the finalizer was
// released a moment ago and the API server removed the object, so releasing it again meets a 404.
// That is expected: the reconcile ends quietly (debug), not as a failure logged at error and retried.
import t from 'tap'
import pino from 'pino'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { startTestEnv } from '../../src/runtime/envtest/index.ts'
import { ApiError, realClock, Store, type ReconcileContext } from '../../src/runtime/index.ts'
import { shareStubToken, startWorld } from './steps/fixtures.ts'
import { serverReconciler } from '../../controller/server-lifecycle.ts'
import type { ReconcilerDeps } from '../../controller/reconciler-deps.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { GAMESERVER, SERVER_FINALIZER, type GameServer } from '../../controller/kinds.ts'

const CRDS = join(import.meta.dirname, '..', '..', 'crds')

t.test('a cleanup from a stale cache after the object is gone ends at debug, not as an error', async (t) => {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const client = env.client
  const created = await client.create<GameServer>({
    ...GAMESERVER,
    metadata: { name: 'squid', namespace: 'default', finalizers: [SERVER_FINALIZER] },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
  } as unknown as GameServer)
  await client.delete(GAMESERVER, 'squid', 'default')
  const stale = await client.get<GameServer>(GAMESERVER, 'squid', 'default')
  t.ok(stale.metadata.deletionTimestamp, 'marked for deletion, finalizer pending')
  await client.patch(GAMESERVER, 'squid', 'default', { metadata: { finalizers: null } }, 'application/merge-patch+json')

  const lines: Array<{ level: number; msg: string }> = []
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)))
        cb()
      },
    }),
  )
  const stopped: string[] = []
  const watches = {
    stop: (key: string) => {
      stopped.push(key)
    },
  } as unknown as AgentWatches
  const store = { getByName: () => stale } as unknown as Store<GameServer>
  const deps = {
    client,
    log,
    providers: { forPlacement: async () => ({ ok: true, name: 'local', resource: {}, backend: { observe: async () => undefined } }) },
    recorder: { event: () => {} },
    providerGoneGraceMs: 0,
    clock: realClock,
  } as unknown as ReconcilerDeps
  const reconcile = serverReconciler(deps, store, watches, gameServerKind, async () => undefined)
  const ctx: ReconcileContext = { signal: new AbortController().signal, log, reconcileID: 'r' }

  const result = await reconcile({ namespace: 'default', name: 'squid' }, ctx)
  t.equal(result, undefined, 'the reconcile succeeds: nothing is left to do')
  t.same(
    lines.filter((l) => l.level >= 40),
    [],
    'nothing at warn or error',
  )
  t.match(lines, [{ level: 20, msg: /already deleted/ }], 'one debug line says why')
  t.ok(stopped.includes('default/squid'), 'the agent watch of the gone server is stopped')

  // A 404 from the cleanup while the object still exists is a real failure and still surfaces.
  await client.create<GameServer>({
    ...GAMESERVER,
    metadata: { name: 'kraken', namespace: 'default', finalizers: [SERVER_FINALIZER] },
    spec: created.spec,
  } as unknown as GameServer)
  await client.delete(GAMESERVER, 'kraken', 'default')
  const pending = await client.get<GameServer>(GAMESERVER, 'kraken', 'default')
  const failing = {
    ...deps,
    providers: {
      forPlacement: async () => {
        throw new ApiError(404, 'GET', '/apis/x', { reason: 'NotFound', code: 404 })
      },
    },
  } as unknown as ReconcilerDeps
  const live = serverReconciler(
    failing,
    { getByName: () => pending } as unknown as Store<GameServer>,
    watches,
    gameServerKind,
    async () => undefined,
  )
  const outcome = await Promise.resolve(live({ namespace: 'default', name: 'kraken' }, ctx)).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.match(outcome, { statusCode: 404 }, 'not swallowed: the object is still there')
})

// The delete path asks the kind how its workload stops (gameServerKind: POST /game/stop through the
// typed agent client) — shared code does not branch on the kind. STUB agent and backend: steps/stub-agent.ts.
t.test('deleting a GameServer stops its game through the agent, deletes the container, releases the finalizer', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  const uid = w.gameServer.metadata.uid as string
  await w.backend.ensure({ identity: { ownerUid: uid } } as never)
  await w.backend.start({ ownerUid: uid, vmid: 100 })
  await w.env.client.patch(GAMESERVER, 'squid', 'default', { metadata: { finalizers: [SERVER_FINALIZER] } }, 'application/merge-patch+json')
  await w.env.client.delete(GAMESERVER, 'squid', 'default')
  const deleting = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  const store = new Store<GameServer>()
  store.apply(deleting)
  const stopped: string[] = []
  const watches = {
    stop: (key: string) => {
      stopped.push(key)
    },
  } as unknown as AgentWatches
  const reconcile = serverReconciler(w.deps, store, watches, gameServerKind, async () => undefined)
  await reconcile({ namespace: 'default', name: 'squid' }, { signal: new AbortController().signal, log: w.deps.log, reconcileID: 'd' })
  t.equal(w.agent.count('POST /game/stop'), 1, 'the game stopped gracefully first')
  t.same(w.backend.calls.slice(-2), ['observe', 'delete'])
  t.match(w.events, [{ type: 'Normal', reason: 'ContainerDeleted', message: 'container 100 deleted from provider stub' }])
  t.same(stopped, ['default/squid'])
  const gone = await w.env.client.get(GAMESERVER, 'squid', 'default').then(
    () => false,
    (err: unknown) => (err as { statusCode?: number }).statusCode === 404,
  )
  t.ok(gone, 'the finalizer was released and the object is gone')
})
