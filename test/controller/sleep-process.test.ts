// Container-level sleep with real parts: the embedded API server, the process provider and the real
// agent it starts (no stand-ins). A DevServer (IDE off, nothing to install) idle past
// spec.idle.stopAfterSeconds is put to sleep: the provider stops its container (the agent process
// ends; the container is kept, not deleted) and status says Sleeping; while asleep a reconcile starts
// nothing; a wake request (the annotation, as the gateway writes it) starts the same container again
// and the server is Running. The idle clock is the FakeClock, started at the wall clock (Ready's
// transition time is stamped with it).
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pino from 'pino'
import { WAKE_REQUESTED_ANNOTATION, type DevServerStatus } from '../../src/api/index.ts'
import { ProcessBackend, randomPortBaseBelowEphemeral } from '../../src/providers/process/index.ts'
import { FakeClock, type ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { devServerKind } from '../../controller/devserver.ts'
import { DEVSERVER, type DevServer } from '../../controller/kinds.ts'
import type { ProviderRegistry } from '../../controller/provider-registry.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { startWorld } from './steps/fixtures.ts'

const cliPath = resolve(import.meta.dirname, '../../bin/zlh.js')
const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }
const watches = { ensure: () => {}, stop: () => {} } as unknown as AgentWatches
const merge = 'application/merge-patch+json'

t.setTimeout(180_000)

t.test('a DevServer sleeps through the process provider (container stopped, kept) and the wake annotation starts it again', async (t) => {
  const rootDir = mkdtempSync(join(tmpdir(), 'zlh-sleep-process-'))
  const backend = new ProcessBackend({ rootDir, portRangeStart: randomPortBaseBelowEphemeral(20), cliPath })
  const w = await startWorld(t, { clock: new FakeClock(Date.now()) })
  let ownerUid = ''
  t.teardown(async () => {
    await backend.delete({ ownerUid }).catch(() => undefined)
    rmSync(rootDir, { recursive: true, force: true })
  })
  w.deps.providers = {
    forPlacement: async () => ({
      ok: true,
      name: 'process',
      backend,
      resource: { metadata: { name: 'process' }, spec: { type: 'process' } },
    }),
  } as unknown as ProviderRegistry
  const ds = await w.env.client.patch<DevServer>(
    DEVSERVER,
    'octo',
    'default',
    { spec: { runtimes: [], codeServer: { enabled: false }, idle: { stopAfterSeconds: 5 } } },
    merge,
  )
  ownerUid = ds.metadata.uid as string

  const drive = async (): Promise<{ requeueAfter: number; status: DevServerStatus }> => {
    const obj = await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')
    const r = await driveServer(w.deps, watches, obj, ctx, devServerKind)
    return { ...r, status: (await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')).status as DevServerStatus }
  }
  /** Reconciles as the work queue would (at most 120 times, 500 ms apart) until the phase is `phase`. */
  const driveUntil = async (phase: string): Promise<DevServerStatus> => {
    let status: DevServerStatus | undefined
    for (let i = 0; i < 120; i++) {
      status = (await drive()).status
      if (status.phase === phase) return status
      await new Promise((r) => setTimeout(r, 500))
    }
    throw new Error(`never ${phase}: ${JSON.stringify(status)}`)
  }

  const running = await driveUntil('Running')
  const vmid = running.vmid
  t.equal((await backend.observe({ ownerUid }))?.state, 'running', 'the agent process runs')

  // 6 s past now on the wall clock (the reconciles until Running took real time).
  w.clock.advance(Date.now() - w.clock.now() + 6_000)
  const asleep = (await drive()).status
  t.equal(asleep.phase, 'Sleeping')
  t.match(asleep.sleep, { level: 'container', reason: /no IDE traffic for 5 s/ })
  const stopped = await backend.observe({ ownerUid })
  t.equal(stopped?.state, 'stopped', 'the provider stopped the container')
  t.equal(stopped?.vmid, vmid, 'kept, not deleted')
  t.equal((await drive()).status.phase, 'Sleeping', 'a reconcile while asleep starts nothing')
  t.equal((await backend.observe({ ownerUid }))?.state, 'stopped')

  await w.env.client.patch(
    DEVSERVER,
    'octo',
    'default',
    { metadata: { annotations: { [WAKE_REQUESTED_ANNOTATION]: new Date(w.clock.now() + 1000).toISOString() } } },
    merge,
  )
  const awake = await driveUntil('Running')
  t.equal(awake.sleep, undefined, 'status.sleep cleared')
  t.equal(awake.vmid, vmid, 'the same container')
  t.equal((await backend.observe({ ownerUid }))?.state, 'running', 'the provider started it again')
  t.match(
    w.events.map((e) => e.reason),
    ['Sleeping', 'Woke'],
  )
})
