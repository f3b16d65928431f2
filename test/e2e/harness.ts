// Whole-system harness: the embedded API server in-process, real artifacts on a loopback artifact
// server, the controller as a CHILD PROCESS (so a test can SIGKILL it), the process provider's
// real agents, and real kubectl with its own KUBECONFIG/HOME/cache dir. The controller (and any
// gateway a test starts with gatewayClient()) runs as its ServiceAccount, bound to the RBAC of
// manifests/base exactly as `zlh up` and a real cluster bind it, so every e2e test is also a test
// of those roles; kubectl (h.k) is the admin.
// Teardown deletes what the test created: servers (through the controller), then any container,
// game or code-server process still living under the test's state directory.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { stringify } from 'yaml'
import {
  artifactFileName,
  buildFlyingSquidPackage,
  buildNodeRuntime,
  runtimeCatalog,
  startArtifactServer,
  type ArtifactServer,
  type BuiltArtifact,
} from '../../src/cli/artifacts/index.ts'
import { buildCodeServerStandIn } from './code-server-stand-in.ts'
import { ProcessBackend, randomPortBaseBelowEphemeral } from '../../src/providers/index.ts'
import { Client } from '../../src/runtime/index.ts'
import { applyBaseRbac, CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT } from '../../src/cli/up/base-rbac.ts'
import { ServiceAccountCredentials } from '../../src/cli/up/service-account-credentials.ts'
import { REPO, startServer, type Harness } from '../apiserver/harness.ts'

export interface Artifacts {
  dir: string
  node: BuiltArtifact
  squid: BuiltArtifact
  codeServer: BuiltArtifact
  server: ArtifactServer
  url(a: BuiltArtifact): string
}

/** `host`: the address the artifact server listens on (default loopback; an lxc bridge's own
 * address when the containers must download from it). */
export async function buildArtifacts(t: Test, opts: { host?: string } = {}): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-e2e-artifacts-'))
  const [node, squid, codeServer] = await Promise.all([buildNodeRuntime(dir), buildFlyingSquidPackage(dir), buildCodeServerStandIn(dir)])
  const server = await startArtifactServer(dir, { host: opts.host })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, node, squid, codeServer, server, url: (a) => server.url(artifactFileName(a)) }
}

export interface ControllerProcess {
  child: ChildProcess
  logFile: string
  stop(): Promise<void>
  kill9(): Promise<void>
}

export interface E2E {
  h: Harness
  stateDir: string
  portBase: number
  art: Artifacts
  controller: ControllerProcess | undefined
  /** The components' ServiceAccount credentials (token file + kubeconfig, rotated while the test runs). */
  credentials: { controller: ServiceAccountCredentials; gateway: ServiceAccountCredentials }
  /** Starts the controller as zlh-system/zlh-controller (child process). */
  startController(extra?: string[]): Promise<ControllerProcess>
  /** A client acting as zlh-system/zlh-gateway, for startGatewayService (closed at teardown). */
  gatewayClient(): Client
  apply(objOrYaml: unknown): Promise<string>
  get<T = any>(kind: string, name: string, ns?: string): Promise<T>
  waitFor<T = any>(what: string, kind: string, name: string, pred: (obj: T) => boolean, timeoutMs?: number, ns?: string): Promise<T>
  backend(): ProcessBackend
  logs(): string
}

export const IDE_SUFFIX = 'ide.test'

export interface E2EOptions {
  controllerArgs?: string[]
  channels?: Record<string, Record<string, string>>
  /** spec of the default ContainerProvider `local` (default: type process on the test's own ports);
   * spec.outbound defaults to allowing the artifact server only. */
  providerSpec?: Record<string, unknown>
}

export async function startE2E(t: Test, art: Artifacts, opts: E2EOptions = {}): Promise<E2E> {
  const h = await startServer(t)
  const stateDir = mkdtempSync(join(tmpdir(), 'zlh-e2e-state-'))
  // A random base so parallel test files (and other suites) never share agent ports, below the
  // kernel's ephemeral range so no outgoing connection can hold one of them.
  const portBase = randomPortBaseBelowEphemeral(100)
  const logs: string[] = []
  const credentials = await componentCredentials(t, h, stateDir)
  const e: E2E = {
    h,
    stateDir,
    portBase,
    art,
    controller: undefined,
    credentials,
    gatewayClient() {
      const client = Client.fromKubeConfigFile(credentials.gateway.kubeconfig)
      t.teardown(() => client.close())
      return client
    },
    async startController(extra = []) {
      const logFile = join(stateDir, `controller-${logs.length}.log`)
      logs.push(logFile)
      const out = createWriteStream(logFile)
      const child = spawn(
        process.execPath,
        [
          join(REPO, 'src/cli/main.ts'),
          'controller',
          '--kubeconfig',
          credentials.controller.kubeconfig,
          '--state-dir',
          stateDir,
          '--ide-suffix',
          IDE_SUFFIX,
          '--orphan-grace-seconds',
          '2',
          '--orphan-interval-seconds',
          '1',
          '--provider-gone-grace-seconds',
          '3',
          ...(opts.controllerArgs ?? []),
          ...extra,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, ZLH_STATE_DIR: stateDir },
        },
      )
      child.stdout?.pipe(out)
      child.stderr?.pipe(out)
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      const proc: ControllerProcess = {
        child,
        logFile,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM')
            await exited
          }
        },
        async kill9() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL')
            await exited
          }
        },
      }
      e.controller = proc
      return proc
    },
    async apply(objOrYaml) {
      const text = typeof objOrYaml === 'string' ? objOrYaml : stringify(objOrYaml)
      const r = await h.kubectl(['apply', '-f', '-'], { input: text })
      if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}${r.stdout}`)
      return r.stdout
    },
    async get(kind, name, ns) {
      return JSON.parse(await h.k('get', kind, name, '-o', 'json', ...(ns ? ['-n', ns] : [])))
    },
    async waitFor(what, kind, name, pred, timeoutMs = 180_000, ns) {
      const deadline = Date.now() + timeoutMs
      let last: any
      for (;;) {
        const r = await h.kubectl(['get', kind, name, '-o', 'json', ...(ns ? ['-n', ns] : [])])
        if (r.code === 0) {
          last = JSON.parse(r.stdout)
          if (pred(last)) return last
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last?.status ?? r.stderr)}`)
        await new Promise((res) => setTimeout(res, 250))
      }
    },
    backend: () =>
      new ProcessBackend({ rootDir: join(stateDir, 'containers', 'local'), portRangeStart: portBase, cliPath: join(REPO, 'bin/zlh.js') }),
    logs: () =>
      logs
        .map((f) => {
          try {
            return readFileSync(f, 'utf8')
          } catch {
            return ''
          }
        })
        .join('\n'),
  }
  await h.k('apply', '-f', join(REPO, 'crds'))
  const channels = opts.channels ?? {}
  await e.apply(
    [
      runtimeCatalog('node', [{ artifact: art.node, url: art.url(art.node) }], channels.node ?? { stable: art.node.version }),
      runtimeCatalog(
        'flying-squid',
        [{ artifact: art.squid, url: art.url(art.squid) }],
        channels['flying-squid'] ?? { stable: art.squid.version },
      ),
      runtimeCatalog(
        'code-server',
        [{ artifact: art.codeServer, url: art.url(art.codeServer) }],
        channels['code-server'] ?? { stable: art.codeServer.version },
      ),
      // The provider declares the test's artifact server as its one outbound source (nothing declared → nothing downloaded).
      {
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'ContainerProvider',
        metadata: { name: 'local' },
        spec: {
          outbound: { allowedSources: [`${art.server.baseUrl}/`] },
          ...(opts.providerSpec ?? { type: 'process', default: true, process: { portRangeStart: portBase } }),
        },
      },
    ]
      .map((o) => stringify(o))
      .join('---\n'),
  )
  t.teardown(async () => {
    // Servers first, through the controller (graceful game stop, container delete, finalizers).
    if (e.controller === undefined || e.controller.child.exitCode !== null || e.controller.child.signalCode !== null)
      await e.startController()
    await h.kubectl(['delete', 'gameservers,devservers', '--all', '-A', '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 })
    await e.controller?.stop()
    const backend = e.backend()
    for (const c of await backend.list().catch(() => [])) await backend.delete({ ownerUid: c.ownerUid, vmid: c.vmid }).catch(() => {})
    killProcessesUnder(stateDir)
    if (process.env.ZLH_E2E_KEEP === undefined) rmSync(stateDir, { recursive: true, force: true })
  })
  return e
}

/** The RBAC of manifests/base applied as admin, and ServiceAccount tokens + kubeconfigs for the
 * controller and the gateway under `stateDir`/credentials (what `zlh up` does). */
export async function componentCredentials(t: Test, h: Harness, stateDir: string): Promise<E2E['credentials']> {
  const admin = new Client(h.server.kubeConfig())
  try {
    await applyBaseRbac(admin, { fieldManager: 'zlh-e2e' })
    const endpoint = { server: h.server.url, caPem: h.server.caPem }
    const [controller, gateway] = await Promise.all(
      [CONTROLLER_SERVICE_ACCOUNT, GATEWAY_SERVICE_ACCOUNT].map((sa) =>
        ServiceAccountCredentials.mint({ client: admin, sa, dir: join(stateDir, 'credentials'), endpoint }),
      ),
    )
    const creds = { controller: controller as ServiceAccountCredentials, gateway: gateway as ServiceAccountCredentials }
    // Rotation asks as admin: this client lives as long as the credentials.
    t.teardown(() => {
      creds.controller.stop()
      creds.gateway.stop()
      admin.close()
    })
    return creds
  } catch (err) {
    admin.close()
    throw err
  }
}

/** Pids (not this process) whose working directory or command line lies under `dir`. */
export function pidsUnder(dir: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    let hit = false
    try {
      hit = readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)
    } catch {
      /* gone or not ours */
    }
    try {
      hit ||= readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)
    } catch {
      /* gone */
    }
    if (hit) out.push(pid)
  }
  return out
}

/** SIGKILLs every process whose working directory or command line is under `dir` (leftover games, code-server). */
export function killProcessesUnder(dir: string): number {
  let n = 0
  for (const pid of pidsUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL')
      n++
    } catch {
      /* gone */
    }
  }
  return n
}

/** The example GameServer with its port and backoff made test-friendly (the rest as shipped). */
export function exampleGameServer(port: number): string {
  return readFileSync(join(REPO, 'manifests/examples/gameserver.yaml'), 'utf8')
    .replace('port: 25565', `port: ${port}`)
    .replace('backoffSeconds: [30, 60, 120]', 'backoffSeconds: [3, 4, 8]')
    .replace('gracePeriodSeconds: 30', 'gracePeriodSeconds: 5')
}

export function condition(obj: any, type: string): { status: string; reason: string; message: string } | undefined {
  return obj?.status?.conditions?.find((c: any) => c.type === type)
}
