// The whole system on the embedded default, in one process: the API server (TLS, sqlite under the
// state dir), the CRDs, local artifacts and their RuntimeCatalogs, the default ContainerProvider
// (`local`, type process; or `lxc`, real containers, with --provider lxc), the controller and the
// gateway. What `zlh up` runs.
//
// Expected flow
//  1. TLS material (one CA for API server and IDE hosts), API server on the previous port if free.
//  2. CRDs, then the zlh-system namespace and every ServiceAccount, (Cluster)Role and
//     (Cluster)RoleBinding of manifests/base (base-rbac.ts: the same RBAC as on a real cluster),
//     then the default ContainerProvider (its spec.outbound.allowedSources names the local
//     artifact server; the other one of `local`/`lxc`, if it exists, stops being the default),
//     node + flying-squid artifacts and catalogs. All as admin. With lxc the host bridge is made
//     first and the artifact server listens on its address: the one host address a container reaches.
//  3. ServiceAccount tokens (TokenRequest, rotated while running) and kubeconfigs for zlh-controller
//     and zlh-gateway in <state>/credentials; the people's read-only kubeconfig <state>/kubeconfig-view.
//  4. Gateway (as zlh-gateway; logs to <state>/logs/gateway.log) and its Minecraft router on loopback
//     (MINECRAFT_ROUTER_PORT), controller (as zlh-controller; logs to <state>/logs/controller.log);
//     code-server built on demand into the per-user cache (code-server.ts; logs/artifacts.log).
//  5. up.json records pid and ports; the next start reuses them.
// Guarantees: stop() stops controller, gateway, artifact server and API server in that order and
// leaves the servers' containers (agents, games) running: the next start adopts them.
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import pino, { type Logger } from 'pino'
import { createApiServer, type ApiServer } from '../../apiserver/index.ts'
import { Client, serverSideApply, type KObject } from '../../runtime/index.ts'
import { CONTAINERPROVIDER, startController, type RunningController } from '../../../controller/index.ts'
import { startGatewayService, type GatewayService } from '../../gateway/service.ts'
import { startMinecraftRouter } from '../../gateway/minecraft/index.ts'
import type { ArtifactServer } from '../artifacts/index.ts'
import { catalogFor, localArtifacts, serveArtifacts } from './artifacts.ts'
import { ensureBridge, hostAddress, parseSubnet } from '../../providers/lxc/network.ts'
import { hostCheck } from '../../../controller/containerprovider.ts'
import type { ContainerProvider } from '../../../controller/kinds.ts'
import { reusablePort } from './ports.ts'
import { ensureServingPki, pkiDir } from './tls.ts'
import { readRuntime, resolveCacheDir, stateLayout, writePrivateFile, writeRuntime, type StateLayout } from '../state-dir.ts'
import type { Progress } from '../progress.ts'
import { CodeServerOnDemand, type OnDemandOptions } from './code-server.ts'
import { applyBaseRbac, CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT } from './base-rbac.ts'
import { ServiceAccountCredentials } from './service-account-credentials.ts'

const projectDir = join(import.meta.dirname, '..', '..', '..')
export const FIELD_MANAGER = 'zlh-up'
export const IDE_SUFFIX = 'localhost'
/** The gateway's Minecraft router on loopback: not 25565 (the example GameServer's own port on the host
 * with the process provider) nor 25575 (RCON's); the next start takes it again when free, else any. */
export const MINECRAFT_ROUTER_PORT = 25500

export interface SystemOptions {
  stateDir: string
  progress: Progress
  ideSuffix?: string
  /** Build code-server when a DevServer first needs it (default true). */
  codeServer?: boolean
  /** Overrides of the on-demand build (tests: a fake npm, a temp cache, short retries). */
  codeServerBuild?: Partial<Omit<OnDemandOptions, 'client' | 'artifacts' | 'outDir' | 'progress' | 'log'>>
  /** Where servers' containers run (default: process, the zero-setup `local` provider). */
  provider?: UpProvider
  /** Loopback port of the gateway's Minecraft router (0: any); default MINECRAFT_ROUTER_PORT when free, else any. */
  minecraftPort?: number
}

/** The default provider of this start: `local` (processes) or `lxc` (real containers; root). */
export type UpProvider = { type: 'process' } | { type: 'lxc'; lxcpath: string; bridge: string; subnet: string }

export const LXC_DEFAULTS = { bridge: 'zlhbr0', subnet: '10.213.0.0/24' } as const

export interface RunningSystem {
  layout: StateLayout
  api: ApiServer
  gatewayUrl: string
  portalUrl: string
  /** `127.0.0.1:<port>` of the gateway's Minecraft router; players connect to `<server>.<namespace>.<ideSuffix>` there. */
  minecraftAddress: string
  ideSuffix: string
  adminToken: string
  caFile: string
  /** The people's read-only kubeconfig (ClusterRole view), when the API server has a reader token. */
  viewKubeconfig?: string
  /** The kubeconfigs the controller and the gateway run with (their ServiceAccounts). */
  componentKubeconfigs: { controller: string; gateway: string }
  stop(): Promise<void>
}

function crdObjects(): KObject[] {
  const dir = join(projectDir, 'crds')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
        .map((d) => d.toJS() as KObject)
        .filter(Boolean),
    )
}

function fileLogger(layout: StateLayout, name: string): Logger {
  mkdirSync(layout.logs, { recursive: true })
  return pino(
    { base: { component: name }, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    createWriteStream(join(layout.logs, `${name}.log`), { flags: 'a' }),
  )
}

const PROVIDER_NAME = { process: 'local', lxc: 'lxc' } as const

/** This start's provider object (`isDefault`), or the other one stepping down from default;
 * `artifacts`: this start's artifact server, its one declared outbound source (an operator may
 * add more; the list is a set, merged per owner). */
function providerObject(p: UpProvider, isDefault: boolean, artifacts?: string): KObject {
  const typed = p.type === 'lxc' ? { lxc: { lxcpath: p.lxcpath, bridge: p.bridge, subnet: p.subnet } } : { process: {} }
  return {
    ...CONTAINERPROVIDER,
    metadata: { name: PROVIDER_NAME[p.type] },
    spec: isDefault
      ? { type: p.type, default: true, ...typed, ...(artifacts !== undefined ? { outbound: { allowedSources: [artifacts] } } : {}) }
      : { type: p.type, default: false },
  } as KObject
}

/** Applies this start's default provider; the other of `local`/`lxc`, when an earlier start
 * made it, stays (its servers keep running) but is no longer the default. */
async function applyProviders(client: Client, p: UpProvider, artifacts?: string): Promise<void> {
  const other: UpProvider['type'] = p.type === 'lxc' ? 'process' : 'lxc'
  const existing = await client.get(CONTAINERPROVIDER, PROVIDER_NAME[other]).catch(() => undefined)
  if ((existing as ContainerProvider | undefined)?.spec?.default === true) {
    await serverSideApply(client, providerObject({ type: other } as UpProvider, false), { fieldManager: FIELD_MANAGER, force: true })
  }
  await serverSideApply(client, providerObject(p, true, artifacts), { fieldManager: FIELD_MANAGER, force: false })
}

/** lxc: the host is able (root, lxc-create), and the bridge exists, so the artifact server can
 * listen on its address before any container is made. Returns that address. */
async function prepareLxcHost(p: Extract<UpProvider, { type: 'lxc' }>, stateDir: string): Promise<string> {
  const check = hostCheck({ spec: { type: 'lxc' } } as ContainerProvider, stateDir)
  if (!check.ok) throw new Error(`--provider lxc: ${check.message}`)
  const subnet = parseSubnet(p.subnet)
  mkdirSync(p.lxcpath, { recursive: true, mode: 0o700 })
  await ensureBridge(p.bridge, subnet)
  return hostAddress(subnet)
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const layout = stateLayout(opts.stateDir)
  const ideSuffix = opts.ideSuffix ?? IDE_SUFFIX
  const progress = opts.progress
  const provider: UpProvider = opts.provider ?? { type: 'process' }
  mkdirSync(layout.root, { recursive: true, mode: 0o700 })
  const previous = readRuntime(layout)
  const stops: Array<() => Promise<void>> = []
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
  try {
    const api = await progress.step('starting the API server', async () => {
      await ensureServingPki(layout.apiserver, ideSuffix)
      return createApiServer({ dataDir: layout.apiserver, port: await reusablePort(previous.apiPort), kubeconfigPath: layout.kubeconfig })
    })
    stops.push(() => api.close())
    const client = new Client(api.kubeConfig())
    stops.push(async () => client.close())

    await progress.step('installing the CRDs and the RBAC of manifests/base', async () => {
      for (const crd of crdObjects()) await serverSideApply(client, crd, { fieldManager: FIELD_MANAGER })
      await applyBaseRbac(client, { fieldManager: FIELD_MANAGER })
    })

    const artifactHost =
      provider.type === 'lxc'
        ? await progress.step(`preparing the lxc host (bridge ${provider.bridge}, ${provider.subnet})`, () =>
            prepareLxcHost(provider, layout.root),
          )
        : '127.0.0.1'
    let artifactServer: ArtifactServer | undefined
    await progress.step('building runtime artifacts (node, flying-squid)', async () => {
      const built = await localArtifacts(layout.artifacts)
      artifactServer = await serveArtifacts(
        layout.artifacts,
        (await reusablePort(previous.artifactPort, artifactHost)) || undefined,
        artifactHost,
      )
      // Containers download only from declared sources: this artifact server is one (its port may
      // differ from the last start's, so the entry is re-applied every time).
      await applyProviders(client, provider, `${artifactServer.baseUrl}/`)
      for (const a of [built.node, built.squid])
        await serverSideApply(client, catalogFor(a, artifactServer) as KObject, { fieldManager: FIELD_MANAGER })
    })
    const artifacts = artifactServer as ArtifactServer
    stops.push(() => artifacts.close())

    // The components run as their ServiceAccounts, so every start exercises manifests/base's RBAC.
    const endpoint = { server: api.url, caPem: api.caPem }
    const [controllerCreds, gatewayCreds] = (await progress.step(
      "minting the controller's and the gateway's ServiceAccount tokens",
      async () => {
        const log = fileLogger(layout, 'credentials')
        return Promise.all(
          [CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT].map((sa) =>
            ServiceAccountCredentials.mint({ client, sa, dir: layout.credentials, endpoint, log }),
          ),
        )
      },
    )) as [ServiceAccountCredentials, ServiceAccountCredentials]
    stops.push(async () => {
      controllerCreds.stop()
      gatewayCreds.stop()
    })
    const viewKubeconfig = api.readOnlyToken !== undefined ? layout.viewKubeconfig : undefined
    if (api.readOnlyToken !== undefined) writePrivateFile(layout.viewKubeconfig, api.kubeconfigYaml(api.readOnlyToken))

    const gatewayPort = await reusablePort(previous.gatewayPort)
    mkdirSync(dirname(layout.adminTokenFile), { recursive: true, mode: 0o700 })
    const pki = {
      cert: readFileSync(join(pkiDir(layout.apiserver), 'server.crt')),
      key: readFileSync(join(pkiDir(layout.apiserver), 'server.key')),
    }
    const gatewayClient = Client.fromKubeConfigFile(gatewayCreds.kubeconfig)
    const gatewayLog = fileLogger(layout, 'gateway')
    stops.push(async () => gatewayClient.close())
    const gateway: GatewayService = await progress.step('starting the gateway', async () =>
      startGatewayService({
        client: gatewayClient,
        listen: `127.0.0.1:${gatewayPort}`,
        ideSuffix,
        tls: pki,
        publicScheme: 'https',
        publicPort: 'listen',
        adminTokenFile: layout.adminTokenFile,
        logger: gatewayLog,
      }),
    )
    stops.push(() => gateway.close())
    // An explicit port is taken as given (busy: the start fails saying so); the default falls back to any.
    const minecraftPort = opts.minecraftPort ?? (await reusablePort(MINECRAFT_ROUTER_PORT))
    const minecraft = await progress.step('starting the Minecraft router', () =>
      startMinecraftRouter({
        listen: { host: '127.0.0.1', port: minecraftPort },
        cache: gateway.informers,
        client: gatewayClient,
        suffix: ideSuffix,
        systemNamespace: 'zlh-system',
        log: gatewayLog,
      }),
    )
    stops.push(() => minecraft.close())

    // After the gateway, so the IDE URLs the controller writes into DevServer status carry its port.
    const controller: RunningController = await progress.step('starting the controller', async () =>
      startController({
        kubeconfig: controllerCreds.kubeconfig,
        stateDir: layout.root,
        ideSuffix,
        idePublicPort: gateway.gateway.port,
        logger: fileLogger(layout, 'controller'),
        handleSignals: false,
      }),
    )
    stops.push(() => controller.stop())

    if (opts.codeServer !== false) {
      const onDemand = new CodeServerOnDemand({
        client,
        artifacts,
        cacheDir: join(resolveCacheDir(), 'code-server'),
        outDir: layout.artifacts,
        progress,
        log: fileLogger(layout, 'artifacts'),
        ...opts.codeServerBuild,
      })
      onDemand.start()
      stops.push(() => onDemand.stop())
    }

    const adminToken = readFileSync(layout.adminTokenFile, 'utf8').trim()
    const gatewayUrl = gateway.gateway.url
    writeRuntime(layout, {
      pid: process.pid,
      apiPort: api.port,
      gatewayPort: Number(new URL(gatewayUrl).port),
      artifactPort: Number(new URL(artifacts.baseUrl).port),
      apiUrl: api.url,
      gatewayUrl,
      startedAt: new Date().toISOString(),
    })
    let stopped: Promise<void> | undefined
    return {
      layout,
      api,
      gatewayUrl,
      portalUrl: `${gatewayUrl}/api/servers`,
      minecraftAddress: `127.0.0.1:${minecraft.address.port}`,
      ideSuffix,
      adminToken,
      caFile: join(pkiDir(layout.apiserver), 'ca.crt'),
      viewKubeconfig,
      componentKubeconfigs: { controller: controllerCreds.kubeconfig, gateway: gatewayCreds.kubeconfig },
      stop: () =>
        (stopped ??= (async () => {
          await stopAll()
          const rt = readRuntime(layout)
          if (rt.pid === process.pid) writeRuntime(layout, { ...rt, pid: undefined })
        })()),
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
