// ContainerProvider status: whether the backend is usable from this controller (the Ready
// condition, with a reason and a message saying what to fix) and how many containers of this
// control plane it holds (status.containers) — the READY and CONTAINERS columns of
// `kubectl get containerproviders`.
//
// Expected flow of a reconcile (level-based: the provider's key only, the world read afresh):
//  1. The provider's backend, built by the registry (a missing Secret or a bad spec → Ready False).
//  2. The host check its type needs: process — its root directory exists or can be made, and is
//     writable; lxc — the controller runs as root and lxc-create is installed.
//  3. list(): the containers carrying our owner tag (for proxmox this is also the API answering).
//  4. The status is written through the status subresource, only when it changed.
//  5. Again after `intervalMs`: reachability and container counts change outside the API.
// Triggers: the provider's spec changing, a server's container appearing or going (its
// status.vmid changing, or the server being created or deleted), and the period — never every
// reconcile of every server.
// Caveats: a Ready provider can still fail a particular create (quota, disk); that shows on the server.
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { ContainerBackend } from '../src/providers/index.ts'
import { processRootDir } from '../src/providers/index.ts'
import { generationChanged, type Manager, type Predicate, type Reconciler, type Request } from '../src/runtime/index.ts'
import type { ReconcilerDeps } from './reconciler-deps.ts'
import { CONTAINERPROVIDER, DEVSERVER, GAMESERVER, type ContainerProvider } from './kinds.ts'
import { statusWriter } from './status-writer.ts'
import { Reason } from './condition-reasons.ts'

export interface ProviderStatusSettings {
  /** The controller's state directory (where a process provider's root defaults). */
  stateDir: string
  /** How often a provider is checked again (default 30 s). */
  intervalMs?: number
}

type Check = { ok: true; message: string } | { ok: false; reason: string; message: string }

/** The host-side check of a provider's type (process: root dir writable; lxc: root and lxc-create). */
export function hostCheck(resource: ContainerProvider, stateDir: string): Check {
  switch (resource.spec.type) {
    case 'process': {
      const root = processRootDir(resource, stateDir)
      try {
        mkdirSync(root, { recursive: true })
        accessSync(root, fsConstants.W_OK)
      } catch (err) {
        return {
          ok: false,
          reason: Reason.RootDirNotWritable,
          message: `the process provider's root directory ${root} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix its permissions or set spec.process.rootDir to a writable directory`,
        }
      }
      return { ok: true, message: `containers are processes under ${root} (the process provider isolates nothing: for development)` }
    }
    case 'lxc':
      if (process.getuid?.() !== 0)
        return {
          ok: false,
          reason: Reason.NotRoot,
          message: 'the lxc provider creates privileged containers and host bridges: run the controller as root',
        }
      if (!onPath('lxc-create'))
        return {
          ok: false,
          reason: Reason.LxcNotInstalled,
          message:
            "lxc-create is not installed on the controller's host: install the Debian packages lxc and busybox-static (apt-get install -y lxc busybox-static)",
        }
      return { ok: true, message: 'lxc-create is installed and the controller runs as root' }
    default:
      return { ok: true, message: '' }
  }
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, command), fsConstants.X_OK)
      return true
    } catch {
      /* next */
    }
  }
  return false
}

function readyMessage(resource: ContainerProvider, host: string): string {
  if (resource.spec.type === 'proxmox') return `the Proxmox API at ${resource.spec.proxmox?.endpoint ?? '(no endpoint)'} answers`
  return host
}

export function containerProviderReconciler(deps: ReconcilerDeps, settings: ProviderStatusSettings): Reconciler {
  const intervalMs = settings.intervalMs ?? 30_000
  return async (req: Request, ctx) => {
    const cached = deps.containerProviders.getByName(req.name)
    if (cached === undefined || cached.metadata.deletionTimestamp !== undefined) return
    const { status, conds, write } = statusWriter(deps.client, CONTAINERPROVIDER, cached, ctx.signal)
    const lookup = await deps.providers.byName(req.name, ctx.signal)
    // The count is only what was observed now: absent while the backend cannot be used.
    delete status.containers
    if (!lookup.ok) {
      conds.set('Ready', 'False', lookup.reason, lookup.message)
    } else {
      const host = hostCheck(lookup.resource, settings.stateDir)
      if (!host.ok) {
        conds.set('Ready', 'False', host.reason, host.message)
      } else {
        const listed = await listContainers(lookup.backend)
        if ('error' in listed) {
          conds.set('Ready', 'False', Reason.BackendUnreachable, `the ${lookup.resource.spec.type} backend did not answer: ${listed.error}`)
        } else {
          status.containers = listed.count
          conds.set('Ready', 'True', Reason.BackendReady, readyMessage(lookup.resource, host.message))
        }
      }
    }
    await write()
    return { requeueAfter: intervalMs }
  }
}

async function listContainers(backend: ContainerBackend): Promise<{ count: number } | { error: string }> {
  try {
    return { count: (await backend.list()).length }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

/** A server's container appeared or went: creation, deletion, or its status.vmid changing. */
const containerChanged: Predicate = {
  create: () => true,
  delete: () => true,
  update: (o, n) => (o as { status?: { vmid?: number } }).status?.vmid !== (n as { status?: { vmid?: number } }).status?.vmid,
}

/** Registers the ContainerProvider status controller on `mgr`. */
export function registerContainerProviderStatus(mgr: Manager, deps: ReconcilerDeps, settings: ProviderStatusSettings): void {
  const everyProvider = (): Request[] => deps.containerProviders.list().map((p) => ({ name: p.metadata.name as string }))
  mgr
    .controller('containerprovider')
    .for<ContainerProvider>(CONTAINERPROVIDER, { predicates: [generationChanged] })
    .watches(GAMESERVER, everyProvider, { predicates: [containerChanged] })
    .watches(DEVSERVER, everyProvider, { predicates: [containerChanged] })
    .withOptions({ maxConcurrentReconciles: 2, reconcileTimeoutMs: 60_000 })
    .complete(containerProviderReconciler(deps, settings))
}
