// What the step tests share: the embedded API server (envtest) with our CRDs, a GameServer and a
// DevServer created in it, a verified RuntimeCatalog in a cache, and the ReconcilerDeps the steps
// take, wired to a STUB agent and a STUB container backend (stub-agent.ts) and a FakeClock.
import { join } from 'node:path'
import pino from 'pino'
import { Registry } from 'prom-client'
import type { Test } from 'tap'
import { startTestEnv, type TestEnv } from '../../../src/runtime/envtest/index.ts'
import { FakeClock, Store, type EventRecorder, type KObject } from '../../../src/runtime/index.ts'
import { AGENT_TOKEN_KEY, agentTokenSecretName } from '../../../src/api/index.ts'
import { ARCH } from '../../../controller/catalog-resolve.ts'
import { InstallBackoff } from '../../../controller/install-backoff.ts'
import { ControllerMetrics } from '../../../controller/metrics.ts'
import {
  DEVSERVER,
  GAMESERVER,
  type ContainerProvider,
  type DevServer,
  type GameServer,
  type RuntimeCatalog,
} from '../../../controller/kinds.ts'
import type { ProviderRegistry } from '../../../controller/provider-registry.ts'
import type { ReconcilerDeps } from '../../../controller/reconciler-deps.ts'
import { statusWriter } from '../../../controller/status-writer.ts'
import type { Installed, ServerScope } from '../../../controller/steps/scope.ts'
import { AgentClient, AgentGameClient } from '../../../src/agent-client/index.ts'
import type { Container } from '../../../src/providers/index.ts'
import type { ServerStatus } from '../../../controller/steps/server-object.ts'
import { eventLog, startStubAgent, stubBackend, type RecordedEvent, type StubAgent, type StubBackend } from './stub-agent.ts'

const CRDS = join(import.meta.dirname, '..', '..', '..', 'crds')

export const sha = (c: string): string => c.repeat(64)

/** A RuntimeCatalog whose versions are all verified for this machine's arch. */
export function verifiedCatalog(name: string, versions: string[], channels: Record<string, string> = {}): RuntimeCatalog {
  return {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'RuntimeCatalog',
    metadata: { name },
    spec: {
      versions: versions.map((v, i) => ({
        version: v,
        artifacts: [{ arch: ARCH, url: `http://127.0.0.1:9/${name}-${v}.tar.gz`, sha256: sha(String(i + 1)) }],
      })),
      channels,
    },
    status: { versions: versions.map((v, i) => ({ version: v, verified: true, sha256: sha(String(i + 1)) })) },
  } as unknown as RuntimeCatalog
}

export interface StepWorld {
  env: TestEnv
  agent: StubAgent
  backend: StubBackend
  clock: FakeClock
  events: RecordedEvent[]
  catalogs: Store<RuntimeCatalog>
  deps: ReconcilerDeps
  gameServer: GameServer
  devServer: DevServer
}

export async function startWorld(t: Test, opts: { clock?: FakeClock } = {}): Promise<StepWorld> {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const agent = await startStubAgent(t)
  const backend = stubBackend(agent.url)
  const clock = opts.clock ?? new FakeClock()
  const { events, recorder } = eventLog()
  const catalogs = new Store<RuntimeCatalog>()
  catalogs.apply(verifiedCatalog('node', ['20', '22'], { stable: '22' }))
  catalogs.apply(verifiedCatalog('code-server', ['4.0.0'], { stable: '4.0.0' }))
  const providers = {
    forPlacement: async () => ({
      ok: true,
      name: 'stub',
      backend,
      resource: { metadata: { name: 'stub' }, spec: { type: 'process', outbound: { allowedSources: ['http://127.0.0.1:9/'] } } },
    }),
  } as unknown as ProviderRegistry
  const deps: ReconcilerDeps = {
    client: env.client,
    providers,
    catalogs,
    containerProviders: new Store<ContainerProvider>(),
    recorder: recorder as unknown as EventRecorder,
    log: pino({ level: 'silent' }),
    clock,
    providerGoneGraceMs: 0,
    ideSuffix: 'ide.test',
    installBackoff: new InstallBackoff(clock),
    metrics: new ControllerMetrics(new Registry()),
  }
  const gameServer = await env.client.create<GameServer>({
    ...GAMESERVER,
    metadata: { name: 'squid', namespace: 'default' },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['node', 'server.js'], port: 25565 } },
  } as unknown as GameServer)
  const devServer = await env.client.create<DevServer>({
    ...DEVSERVER,
    metadata: { name: 'octo', namespace: 'default' },
    spec: { runtimes: [{ name: 'node', channel: 'stable' }] },
  } as unknown as DevServer)
  return { env, agent, backend, clock, events, catalogs, deps, gameServer, devServer }
}

/** A reconcile's scope over `obj` (the status writer writes through the embedded API server). */
export function scopeOf<T extends GameServer | DevServer, S extends ServerStatus>(
  world: StepWorld,
  obj: T,
  signal = new AbortController().signal,
): ServerScope<T, S> {
  const kind = obj.kind === 'GameServer' ? GAMESERVER : DEVSERVER
  return {
    deps: world.deps,
    obj,
    key: `${obj.metadata.namespace}/${obj.metadata.name}`,
    signal,
    out: statusWriter<S>(
      world.deps.client,
      kind,
      obj as unknown as { metadata: { name?: string; namespace?: string; generation?: number }; status?: S },
      signal,
      world.deps.clock,
    ),
  }
}

/** What run and observe start from: a provisioned container whose agent is the STUB agent. */
export function installedOf<T extends GameServer | DevServer, S extends ServerStatus>(
  world: StepWorld,
  obj: T,
  more: { failed?: boolean; installedAll?: boolean } = {},
): Installed<T, S> {
  const connection = { baseUrl: world.agent.url, token: world.agent.token }
  const container = {
    provider: 'process',
    vmid: 100,
    ownerUid: obj.metadata.uid as string,
    state: 'running',
    address: '127.0.0.1',
    agentUrl: world.agent.url,
    resources: { cores: 1, memoryMiB: 512, diskGiB: 1 },
  } as Container
  return {
    ...scopeOf<T, S>(world, obj),
    resolved: [{ name: 'node', version: '22', url: 'http://127.0.0.1:9/node-22.tar.gz', sha256: sha('2') }],
    provider: { name: 'stub', backend: world.backend, outbound: { allowedSources: ['http://127.0.0.1:9/'] } },
    provisioned: {
      container,
      agentUrl: world.agent.url,
      agent: new AgentClient(connection),
      game: new AgentGameClient(connection),
      agentStatus: world.agent.state.status,
    },
    install: { agentStatus: world.agent.state.status, failed: more.failed ?? false, retryAfterMs: more.failed ? 5100 : Infinity },
    agentStatus: world.agent.state.status,
    installedAll: more.installedAll ?? true,
  }
}

/** Puts the STUB agent's token into each server's agent token Secret, as if an earlier reconcile had made it. */
export async function shareStubToken(world: StepWorld): Promise<void> {
  for (const server of [world.gameServer, world.devServer]) {
    await world.env.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: agentTokenSecretName(server.metadata.name as string), namespace: 'default' },
      data: { [AGENT_TOKEN_KEY]: Buffer.from(world.agent.token).toString('base64') },
    } as KObject)
  }
}
