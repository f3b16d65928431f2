// The step driver (controller/server-driver.ts) over each ServerKind, end to end through its steps:
// the embedded API server holds the objects and the status written, a STUB container backend and
// a STUB agent (steps/stub-agent.ts) stand in for the container and its agent.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import type { DevServerStatus, GameServerStatus } from '../../src/api/index.ts'
import type { ReconcileContext } from '../../src/runtime/index.ts'
import type { AgentWatches } from '../../controller/agent-watch.ts'
import { devServerKind } from '../../controller/devserver.ts'
import { gameServerKind } from '../../controller/gameserver.ts'
import { DEVSERVER, GAMESERVER, type DevServer, type GameServer } from '../../controller/kinds.ts'
import { driveServer } from '../../controller/server-driver.ts'
import { shareStubToken, startWorld } from './steps/fixtures.ts'

const ctx: ReconcileContext = { signal: new AbortController().signal, log: pino({ level: 'silent' }), reconcileID: 'test' }

function watchLog(): { watches: AgentWatches; calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    watches: {
      ensure: (key: string, url: string) => {
        calls.push(`ensure ${key} ${url}`)
      },
      stop: (key: string) => {
        calls.push(`stop ${key}`)
      },
    } as unknown as AgentWatches,
  }
}

const condition = (status: { conditions?: Array<{ type: string }> } | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type)

t.test('a GameServer from nothing to a started game: every step reported in status', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  const gs = await w.env.client.patch<GameServer>(
    GAMESERVER,
    'squid',
    'default',
    { spec: { server: { port: 9 } } },
    'application/merge-patch+json',
  )
  const { watches, calls } = watchLog()
  const result = await driveServer(w.deps, watches, gs, ctx, gameServerKind)
  const status = (await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')).status as GameServerStatus
  t.match(condition(status, 'RuntimeResolved'), { status: 'True', reason: 'Resolved', message: 'node 22' })
  t.match(condition(status, 'Provisioned'), { status: 'True', reason: 'ContainerRunning', message: /container 100 on provider stub/ })
  t.match(condition(status, 'RuntimeReady'), { status: 'True', reason: 'Installed', message: 'node 22' })
  t.match(condition(status, 'Ready'), { status: 'False', reason: 'Starting', message: /waiting for port 9/ })
  t.match(status, {
    phase: 'Starting',
    vmid: 100,
    address: '127.0.0.1',
    runtimes: [{ name: 'node', version: '22' }],
    observedGeneration: gs.metadata.generation,
  })
  t.same(w.backend.calls, ['ensure', 'start', 'deliverCredentials'])
  t.same(calls, [`ensure default/squid ${w.agent.url}`], 'the agent stream wakes later reconciles')
  t.same(
    w.agent.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /status', 'GET /game', 'POST /runtimes', 'GET /status', 'GET /mods', 'GET /game', 'PUT /game'],
  )
  t.same(result, { requeueAfter: 500 })

  // Level-based: a second reconcile of the same world installs nothing again and writes nothing new.
  const before = await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')
  await driveServer(w.deps, watches, before, ctx, gameServerKind)
  t.equal(w.agent.count('POST /runtimes'), 1)
  t.equal(
    (await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')).metadata.resourceVersion,
    before.metadata.resourceVersion,
    'an unchanged status is not rewritten',
  )
})

t.test('an unresolvable GameServer: RuntimeResolved False, Pending, and no container is made', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  const gs = await w.env.client.patch<GameServer>(
    GAMESERVER,
    'squid',
    'default',
    { spec: { runtime: { name: 'node', version: '0.0.1' } } },
    'application/merge-patch+json',
  )
  const result = await driveServer(w.deps, watchLog().watches, gs, ctx, gameServerKind)
  const status = (await w.env.client.get<GameServer>(GAMESERVER, 'squid', 'default')).status
  t.match(condition(status, 'RuntimeResolved'), { status: 'False', reason: 'VersionNotFound' })
  t.match(condition(status, 'Ready'), { status: 'False', reason: 'RuntimeUnresolved' })
  t.equal(status?.phase, 'Pending')
  t.same(w.backend.calls, [], 'no container')
  t.same(result, { requeueAfter: 30_000 })
})

t.test('a DevServer whose agent is still preparing: vmid and IDE host reported, Provisioning, looked at again in 500 ms', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.status.provisioningComplete = false
  const result = await driveServer(w.deps, watchLog().watches, w.devServer, ctx, devServerKind)
  const status = (await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')).status as DevServerStatus
  t.match(status, {
    phase: 'Provisioning',
    vmid: 100,
    ide: { host: 'dev-100.ide.test', url: 'https://dev-100.ide.test/', upstream: '127.0.0.1:6000' },
  })
  t.match(condition(status, 'Provisioned'), { status: 'False', reason: 'AgentProvisioning' })
  t.same(result, { requeueAfter: 500 })
})

t.test('a DevServer to a running IDE, then spec.running false parks its container', async (t) => {
  const w = await startWorld(t)
  await shareStubToken(w)
  w.agent.state.status.devEnv = {
    user: 'dev',
    home: '/home/dev',
    workspace: '/home/dev/workspace',
    path: '',
    profileScript: '',
    hostChanges: 'skipped',
  }
  const { watches, calls } = watchLog()
  await driveServer(w.deps, watches, w.devServer, ctx, devServerKind)
  let ds = await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')
  t.match(ds.status, {
    phase: 'Running',
    ide: { folder: '/home/dev/workspace' },
    runtimes: [{ name: 'node', version: '22', channel: 'stable' }],
  })
  t.notOk(
    ds.status?.runtimes?.some((r) => r.name === 'code-server'),
    'code-server is not reported unless the spec lists it',
  )
  t.match(condition(ds.status, 'CodeServerReady'), { status: 'True', reason: 'Healthy' })

  ds = await w.env.client.patch<DevServer>(DEVSERVER, 'octo', 'default', { spec: { running: false } }, 'application/merge-patch+json')
  const result = await driveServer(w.deps, watches, ds, ctx, devServerKind)
  t.equal(w.agent.count('POST /dev/codeserver/stop'), 1, 'code-server stopped gracefully first')
  t.same(w.backend.calls.slice(-2), ['observe', 'stop'])
  t.equal(calls.at(-1), 'stop default/octo', 'its agent stream is dropped')
  ds = await w.env.client.get<DevServer>(DEVSERVER, 'octo', 'default')
  t.equal(ds.status?.phase, 'Stopped')
  t.match(condition(ds.status, 'Ready'), { status: 'False', reason: 'Stopped' })
  t.match(condition(ds.status, 'CodeServerReady'), { status: 'False', reason: 'Stopped', message: 'the container is stopped' })
  t.match(w.events.at(-1), { reason: 'Stopped', message: 'container 100 stopped (spec.running is false)' })
  t.same(result, { requeueAfter: 60_000 })
})

// issue 20: what is kind-specific is passed in as a ServerKind; the shared modules never ask which kind they have.
t.test('the shared driver, delete path and steps do not branch on the kind', async (t) => {
  const root = join(import.meta.dirname, '..', '..', 'controller')
  const shared = [
    'server-driver.ts',
    'server-lifecycle.ts',
    'server-kind.ts',
    ...['outcome', 'scope', 'server-object', 'resolve', 'credentials', 'provision', 'install', 'park'].map((s) => `steps/${s}.ts`),
  ]
  const branches = shared.flatMap((file) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/[=!]==\s*'(?:GameServer|DevServer|game|dev)'|\b(?:GAMESERVER|DEVSERVER)\b/g)].map(
      (m) => `${file}: ${m[0]}`,
    ),
  )
  t.same(branches, [])
})
