// What the kubelet would hand a container of a rendered Deployment, rebuilt on this machine so the
// container's command line can run as a plain process: env (value, fieldRef, configMapKeyRef,
// secretKeyRef), `$(VAR)` expanded as the kubelet does, each volume as a temp directory (emptyDir
// and persistentVolumeClaim empty, secret/configMap with their keys as files, an optional one that does not exist left
// empty), the image's ENTRYPOINT from the Containerfile, and the pod's network namespace stood in
// for by loopback: a `0.0.0.0:<containerPort>` listen address becomes 127.0.0.2:<free port>.
// 127.0.0.2 is loopback to the kernel, but not one of the names code treats as loopback, so a
// check like "a non-loopback metrics address needs a token" still fires as it would in the pod.
//
// Expansion follows the kubelet (third_party/forked/golang/expansion/expand.go in kubernetes):
// `$(NAME)` of a defined variable is replaced, `$$` is a literal `$`, anything else stays as written.
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Test } from 'tap'
import { parseAllDocuments } from 'yaml'

export const POD_LOOPBACK_HOST = '127.0.0.2'

/** The objects `kubectl kustomize <dir>` renders (the real kubectl). */
export function renderKustomization(dir: string): Promise<any[]> {
  return new Promise((resolve, reject) =>
    execFile('kubectl', ['kustomize', dir], { maxBuffer: 64 << 20 }, (e, out, err) =>
      e
        ? reject(new Error(`kubectl kustomize ${dir}: ${err}`))
        : resolve(
            parseAllDocuments(out)
              .map((d) => d.toJS())
              .filter(Boolean),
          ),
    ),
  )
}

/** A port free on the pod's stand-in loopback address, for a rendered `0.0.0.0:<port>` listen. */
export async function freePodPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, POD_LOOPBACK_HOST, r))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** Expands `$(NAME)` references in `text` with `vars`, as the kubelet does for command, args and env. */
export function expandKubeletVars(text: string, vars: Record<string, string>): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c !== '$' || i + 1 >= text.length) {
      out += c
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      out += '$'
      i++
      continue
    }
    if (next === '(') {
      const end = text.indexOf(')', i + 2)
      if (end > 0) {
        const name = text.slice(i + 2, end)
        if (Object.hasOwn(vars, name)) {
          out += vars[name]
          i = end
          continue
        }
        out += text.slice(i, end + 1)
        i = end
        continue
      }
    }
    out += c
  }
  return out
}

/** Objects the kubelet reads for a pod (ConfigMaps and Secrets by namespace/name). */
export interface PodSources {
  configMap(namespace: string, name: string): Record<string, string> | undefined
  /** Decoded Secret data. */
  secret(namespace: string, name: string): Record<string, string> | undefined
}

export interface SimulatedContainer {
  argv: string[]
  env: Record<string, string>
  /** containerPort → the loopback port standing in for it. */
  ports: Map<number, number>
  /** Probe of the container, resolved: http://127.0.0.2:<port><path>. */
  probeUrl(probe: 'readinessProbe' | 'livenessProbe'): string
}

export interface SimulateOptions {
  deployment: any
  sources: PodSources
  /** The image's ENTRYPOINT, with its install directory already mapped to this checkout. */
  entrypoint: string[]
  /** A fresh directory for the pod's volumes. */
  podDir: string
  /** containerPort → a free loopback port. */
  freePort: () => Promise<number>
  /** Environment the process gets besides the container's (PATH, KUBECONFIG in place of in-cluster config). */
  baseEnv: Record<string, string>
}

/** The first container of `deployment`, as a process on this machine would have to run it. */
export async function simulateContainer(o: SimulateOptions): Promise<SimulatedContainer> {
  const pod = o.deployment.spec.template.spec
  const namespace: string = o.deployment.metadata.namespace
  const c = pod.containers[0]
  const podName = `${o.deployment.metadata.name}-0`

  // Volumes → directories (longest mount path first when rewriting paths).
  const mounts: Array<{ from: string; to: string }> = []
  for (const m of c.volumeMounts ?? []) {
    const vol = (pod.volumes ?? []).find((v: any) => v.name === m.name)
    if (vol === undefined) throw new Error(`volumeMount ${m.name} names no volume of the pod`)
    const dir = join(o.podDir, 'volumes', m.name)
    mkdirSync(dir, { recursive: true })
    const files = vol.secret
      ? o.sources.secret(namespace, vol.secret.secretName)
      : vol.configMap
        ? o.sources.configMap(namespace, vol.configMap.name)
        : vol.emptyDir !== undefined || vol.persistentVolumeClaim !== undefined
          ? {}
          : undefined
    if (files === undefined) {
      const optional = (vol.secret ?? vol.configMap)?.optional === true
      if (!optional) throw new Error(`volume ${m.name}: its source does not exist and is not optional; the pod would not start`)
    }
    for (const [k, v] of Object.entries(files ?? {})) writeFileSync(join(dir, k), v)
    mounts.push({ from: m.mountPath.replace(/\/$/, ''), to: dir })
  }
  mounts.sort((a, b) => b.from.length - a.from.length)
  const mapPath = (s: string): string => {
    for (const m of mounts) if (s === m.from || s.startsWith(`${m.from}/`)) return m.to + s.slice(m.from.length)
    return s
  }

  // Ports of the pod's own network namespace → free loopback ports.
  const ports = new Map<number, number>()
  for (const p of c.ports ?? []) ports.set(p.containerPort, await o.freePort())
  const mapListen = (s: string): string => {
    const m = /^(0\.0\.0\.0|\[::\]|::|):(\d+)$/.exec(s)
    if (m === null) return s
    const port = ports.get(Number(m[2]))
    if (port === undefined) throw new Error(`listen address ${s}: port ${m[2]} is not a containerPort of the container`)
    return `${POD_LOOPBACK_HOST}:${port}`
  }

  // Env in order, each value expanded with the ones before it (the kubelet's rule).
  const env: Record<string, string> = {}
  for (const e of c.env ?? []) {
    let value: string | undefined
    if (e.value !== undefined) value = expandKubeletVars(String(e.value), env)
    else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath
      value =
        path === 'metadata.namespace'
          ? namespace
          : path === 'metadata.name'
            ? podName
            : path === 'spec.serviceAccountName'
              ? pod.serviceAccountName
              : undefined
      if (value === undefined)
        throw new Error(`env ${e.name}: fieldRef ${path} is not simulated; add it to test/manifests/pod-simulation.ts`)
    } else if (e.valueFrom?.configMapKeyRef) {
      const r = e.valueFrom.configMapKeyRef
      value = o.sources.configMap(namespace, r.name)?.[r.key]
      if (value === undefined && r.optional !== true)
        throw new Error(`env ${e.name}: ConfigMap ${namespace}/${r.name} key ${r.key} does not exist; the pod would not start`)
    } else if (e.valueFrom?.secretKeyRef) {
      const r = e.valueFrom.secretKeyRef
      value = o.sources.secret(namespace, r.name)?.[r.key]
      if (value === undefined && r.optional !== true)
        throw new Error(`env ${e.name}: Secret ${namespace}/${r.name} key ${r.key} does not exist; the pod would not start`)
    } else throw new Error(`env ${e.name}: source not simulated`)
    if (value !== undefined) env[e.name] = mapPath(value)
  }

  const expanded = [...(c.command ?? o.entrypoint), ...(c.args ?? [])].map((a) => expandKubeletVars(String(a), env))
  if (c.command !== undefined) throw new Error('the container overrides the image ENTRYPOINT; simulate its command too')
  const argv = expanded.map((a, i) => (i < o.entrypoint.length ? a : mapListen(mapPath(a))))
  return {
    argv,
    env: { ...o.baseEnv, ...env },
    ports,
    probeUrl(which) {
      const get = c[which]?.httpGet
      if (get === undefined) throw new Error(`${which}: no httpGet probe`)
      const port = typeof get.port === 'number' ? get.port : (c.ports ?? []).find((p: any) => p.name === get.port)?.containerPort
      const local = ports.get(port)
      if (local === undefined) throw new Error(`${which}: port ${get.port} is no containerPort`)
      return `http://${POD_LOOPBACK_HOST}:${local}${get.path}`
    },
  }
}

/** A simulated container's process, started by runContainer. */
export interface RunningContainer {
  /** The last 20 kB of its stdout and stderr. */
  output(): string
  /** The exit code, once the process ended (for whatever reason). */
  exited: Promise<number | null>
  hasExited(): boolean
  /** SIGTERM, as the kubelet stops a container; resolves with the exit code. */
  stop(): Promise<number | null>
}

/** Runs `c`'s command line as a process in `podDir`; killed at `t`'s teardown if still running. */
export function runContainer(t: Test, c: SimulatedContainer, podDir: string): RunningContainer {
  const child = spawn(c.argv[0]!, c.argv.slice(1), { env: c.env, cwd: podDir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let ended = false
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      ended = true
      resolve(code)
    }),
  )
  t.teardown(() => {
    if (!ended) child.kill('SIGKILL')
  })
  return {
    output: () => output,
    exited,
    hasExited: () => ended,
    stop() {
      if (!ended) child.kill('SIGTERM')
      return exited
    },
  }
}

/** Polls `probeUrl` until 200; fails when the process exits first or at the deadline (bounded). */
export async function untilReady(probeUrl: string, run: RunningContainer, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await fetch(probeUrl, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) return
    if (run.hasExited()) throw new Error(`exited (${await run.exited}) before its readiness probe answered: ${run.output().slice(-2000)}`)
    if (Date.now() > deadline)
      throw new Error(`readiness probe not 200 (last ${status}) within ${timeoutMs} ms: ${run.output().slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
