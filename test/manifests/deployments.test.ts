// Every Deployment of every overlay starts as shipped: each overlay is rendered with the real
// `kubectl kustomize`, and each distinct Deployment's container command line, as rendered (the
// image's ENTRYPOINT + args, `$(VAR)` expanded from the container's env as the kubelet does, its
// volumes as the pod would have them, as its own ServiceAccount), runs as a process against the
// embedded API server until its readiness probe answers; then it is stopped. A command line that
// exits at start (issue 19 item 1: `--metrics-addr 0.0.0.0:8080` without a metrics token) fails here.
// In-cluster config is the one thing replaced: KUBECONFIG names the ServiceAccount's token instead.
import t from 'tap'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { kubeconfigFor, REPO, startServer, type Harness } from '../apiserver/harness.ts'
import { containerfileEntrypoint } from './containerfile.ts'
import {
  freePodPort,
  POD_LOOPBACK_HOST,
  renderKustomization,
  runContainer,
  simulateContainer,
  untilReady,
  type PodSources,
  type RunningContainer,
} from './pod-simulation.ts'

t.setTimeout(280_000)

// The overlays, rendered from a copy (the Proxmox overlay needs its credentials file, kept out of git).
const work = mkdtempSync(join(tmpdir(), 'zlh-deployments-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
cpSync(join(REPO, 'manifests'), join(work, 'manifests'), { recursive: true })
writeFileSync(
  join(work, 'manifests/overlays/proxmox/proxmox-token.txt'),
  readFileSync(join(REPO, 'manifests/overlays/proxmox/proxmox-token.txt.example')),
)
const overlays = ['.', 'overlays/proxmox', 'overlays/traefik']
const rendered = new Map<string, any[]>()
for (const o of overlays) rendered.set(o, await renderKustomization(join(work, 'manifests', o)))

// Deployments that render identically in several overlays run once.
const distinct = new Map<string, { deployment: any; overlays: string[]; objects: any[] }>()
for (const [overlay, objs] of rendered) {
  for (const d of objs.filter((x) => x.kind === 'Deployment')) {
    const key = JSON.stringify(d)
    const seen = distinct.get(key)
    if (seen) seen.overlays.push(overlay)
    else distinct.set(key, { deployment: d, overlays: [overlay], objects: objs })
  }
}

t.test('every overlay renders its Deployments', async (t) => {
  for (const [overlay, objs] of rendered) {
    const names = objs
      .filter((x) => x.kind === 'Deployment')
      .map((d) => d.metadata.name)
      .sort()
    t.same(names, ['zlh-controller', 'zlh-gateway'], `${overlay}: the controller and the gateway`)
  }
})

// What the API server serves of a rendered overlay (the rest are workload and network kinds).
const SERVED = new Set([
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ConfigMap',
  'Secret',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
])

async function applyServed(h: Harness, objs: any[]): Promise<void> {
  const text = objs
    .filter((o) => SERVED.has(o.kind))
    .map((o) => JSON.stringify(o))
    .join('\n')
  const r = await h.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: text })
  if (r.code !== 0) throw new Error(`apply: ${r.stderr}${r.stdout}`)
}

/** ConfigMaps and Secrets as the kubelet reads them: from the API server. */
function sourcesOf(h: Harness): PodSources & { refresh(): Promise<void> } {
  let configMaps = new Map<string, Record<string, string>>()
  let secrets = new Map<string, Record<string, string>>()
  return {
    configMap: (ns, name) => configMaps.get(`${ns}/${name}`),
    secret: (ns, name) => secrets.get(`${ns}/${name}`),
    async refresh() {
      const list = (kind: string) => h.k('get', kind, '-A', '-o', 'json').then((s) => JSON.parse(s).items as any[])
      configMaps = new Map((await list('configmaps')).map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c.data ?? {}]))
      secrets = new Map(
        (await list('secrets')).map((s) => [
          `${s.metadata.namespace}/${s.metadata.name}`,
          Object.fromEntries(Object.entries<string>(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
        ]),
      )
    },
  }
}

interface Started extends RunningContainer {
  url: (probe: 'readinessProbe' | 'livenessProbe') => string
  metricsUrl?: string
}

async function startAsRendered(t: Test, h: Harness, deployment: any, sources: PodSources): Promise<Started> {
  const pod = deployment.spec.template.spec
  const sa = `${deployment.metadata.namespace}/${pod.serviceAccountName}`
  const token = (await h.k('create', 'token', pod.serviceAccountName, '-n', deployment.metadata.namespace, '--duration=1h')).trim()
  const podDir = mkdtempSync(join(tmpdir(), `zlh-pod-${deployment.metadata.name}-`))
  t.teardown(() => rmSync(podDir, { recursive: true, force: true }))
  const c = await simulateContainer({
    deployment,
    sources,
    podDir,
    freePort: freePodPort,
    entrypoint: containerfileEntrypoint(),
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', KUBECONFIG: kubeconfigFor(h, token, `${pod.serviceAccountName}-pod`) },
  })
  t.comment(`${sa}: ${c.argv.slice(1).join(' ')}`)
  const run = runContainer(t, c, podDir)
  const metricsPort = (pod.containers[0].ports ?? []).find((p: any) => p.name === 'metrics')?.containerPort
  return {
    ...run,
    url: (p) => c.probeUrl(p),
    ...(metricsPort !== undefined ? { metricsUrl: `http://${POD_LOOPBACK_HOST}:${c.ports.get(metricsPort)}/metrics` } : {}),
  }
}

async function startAndProbe(t: Test, h: Harness, deployment: any, sources: PodSources): Promise<Started> {
  const s = await startAsRendered(t, h, deployment, sources)
  await untilReady(s.url('readinessProbe'), s)
  t.pass('readiness probe answers 200')
  t.equal((await fetch(s.url('livenessProbe'))).status, 200, 'liveness probe answers 200')
  return s
}

for (const { deployment, overlays: where, objects } of distinct.values()) {
  t.test(
    `${deployment.metadata.namespace}/${deployment.metadata.name} (${where.join(', ')}) starts as rendered and passes its probes`,
    async (t) => {
      const h = await startServer(t)
      await applyServed(h, objects)
      const sources = sourcesOf(h)
      await sources.refresh()
      // All replicas at once, as the Deployment runs them: each must pass its readiness probe (a
      // follower that never became ready would stall every rolling update).
      const replicas: number = deployment.spec.replicas ?? 1
      const pods = await Promise.all(Array.from({ length: replicas }, () => startAndProbe(t, h, deployment, sources)))
      t.equal(pods.length, replicas, `${replicas} replicas ready at once`)
      const s = pods[0]
      if (s.metricsUrl !== undefined)
        t.equal((await fetch(s.metricsUrl)).status, 401, '/metrics is not open while the metrics token Secret does not exist')
      t.same(
        await Promise.all(pods.map((p) => p.stop())),
        pods.map(() => 0),
        'each exits 0 on SIGTERM',
      )

      if (s.metricsUrl === undefined) return
      // With the Secret the manifest's comment tells operators to create, /metrics serves its bearer.
      const metricsToken = 'b'.repeat(64)
      await h.k(
        'create',
        'secret',
        'generic',
        'zlh-metrics-token',
        '-n',
        deployment.metadata.namespace,
        `--from-literal=token=${metricsToken}`,
      )
      await sources.refresh()
      const again = await startAndProbe(t, h, deployment, sources)
      t.equal((await fetch(again.metricsUrl!)).status, 401, 'without the bearer: 401')
      const m = await fetch(again.metricsUrl!, { headers: { authorization: `Bearer ${metricsToken}` } })
      t.equal(m.status, 200, 'with the token of the Secret: 200')
      t.match(await m.text(), /controller_runtime_/)
      t.notMatch(again.output(), metricsToken, 'the token is never logged')
      t.equal(await again.stop(), 0, 'exits 0 on SIGTERM')
    },
  )
}
