// Where the all-in-one system keeps its state (and the per-user cache of slow builds), and the small JSON file `zlh up` writes there so
// the other commands (`zlh status`, `zlh ide`, `zlh kubeconfig`) find the running system.
// Guarantees: the runtime file is written durably and atomically (src/platform/durable-file.ts), mode 0600.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeFileDurableSync } from '../platform/durable-file.ts'

/** --state-dir, else $ZLH_STATE_DIR, else $XDG_STATE_HOME/zlh (~/.local/state/zlh). */
export function resolveStateDir(flag?: string): string {
  if (flag) return resolve(flag)
  if (process.env.ZLH_STATE_DIR) return resolve(process.env.ZLH_STATE_DIR)
  const base = process.env.XDG_STATE_HOME || join(process.env.HOME ?? '/tmp', '.local', 'state')
  return resolve(base, 'zlh')
}

/** The per-user cache shared by every state dir (builds too slow to repeat): $ZLH_CACHE_DIR, else
 * $XDG_CACHE_HOME/zlh (~/.cache/zlh). */
export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZLH_CACHE_DIR) return resolve(env.ZLH_CACHE_DIR)
  const base = env.XDG_CACHE_HOME || join(env.HOME ?? '/tmp', '.cache')
  return resolve(base, 'zlh')
}

export interface StateLayout {
  root: string
  apiserver: string
  kubeconfig: string
  artifacts: string
  logs: string
  adminTokenFile: string
  runtimeFile: string
  /** The people's read-only identity: a kubeconfig with the API server's reader token (ClusterRole view). */
  viewKubeconfig: string
  /** The components' ServiceAccount credentials: <name>.kubeconfig and <name>.token (0600, dir 0700). */
  credentials: string
}

export function stateLayout(root: string): StateLayout {
  return {
    root,
    apiserver: join(root, 'apiserver'),
    kubeconfig: join(root, 'kubeconfig'),
    artifacts: join(root, 'artifacts'),
    logs: join(root, 'logs'),
    adminTokenFile: join(root, 'gateway', 'admin-token'),
    runtimeFile: join(root, 'up.json'),
    viewKubeconfig: join(root, 'kubeconfig-view'),
    credentials: join(root, 'credentials'),
  }
}

/** What a running (or the last) `zlh up` recorded: ports are reused by the next start. */
export interface UpRuntime {
  pid?: number
  apiPort?: number
  gatewayPort?: number
  artifactPort?: number
  apiUrl?: string
  gatewayUrl?: string
  startedAt?: string
}

export function readRuntime(layout: StateLayout): UpRuntime {
  if (!existsSync(layout.runtimeFile)) return {}
  try {
    return JSON.parse(readFileSync(layout.runtimeFile, 'utf8')) as UpRuntime
  } catch {
    return {}
  }
}

export function writeRuntime(layout: StateLayout, rt: UpRuntime): void {
  mkdirSync(layout.root, { recursive: true, mode: 0o700 })
  writePrivateFile(layout.runtimeFile, `${JSON.stringify(rt, null, 2)}\n`)
}

/** Writes `text` to `file` durably and atomically (a reader sees the old or the new content,
 * never a part), mode 0600 (it may hold a credential). */
export function writePrivateFile(file: string, text: string): void {
  writeFileDurableSync(file, text, 0o600)
}

/** True when `pid` is a live process. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
