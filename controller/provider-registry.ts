// Which container backend a server uses, built from ContainerProvider resources and kept per
// provider (rebuilt when the provider's spec or its credentials change).
//
// Guarantees: a server names its provider with spec.placement.providerRef; without one it gets
// the single ContainerProvider with spec.default = true — none or several is an error the user
// can act on. Proxmox credentials come from the Secret the provider references and are never
// logged. Assumptions: the ContainerProvider cache (reflector store) is synced.
import { createHash } from 'node:crypto'
import { createProvider, type ContainerBackend } from '../src/providers/index.ts'
import type { ContainerProvider } from './kinds.ts'
import { isNotFound, type Client, type KObject, type Store } from '../src/runtime/index.ts'
import { SECRET } from './kinds.ts'
import { Reason } from './condition-reasons.ts'

export interface RegistryOptions {
  stateDir: string
  projectDir?: string
  /** Addresses the control plane reaches containers from (proxmox firewall). */
  controlPlaneSources?: string[]
}

export type ProviderLookup =
  | { ok: true; name: string; backend: ContainerBackend; resource: ContainerProvider }
  | { ok: false; reason: string; message: string; gone: boolean }

interface Entry {
  key: string
  backend: ContainerBackend
}

export class ProviderRegistry {
  readonly #client: Client
  readonly #store: Store<ContainerProvider>
  readonly #opts: RegistryOptions
  readonly #entries = new Map<string, Entry>()

  constructor(client: Client, store: Store<ContainerProvider>, opts: RegistryOptions) {
    this.#client = client
    this.#store = store
    this.#opts = opts
  }

  /** The provider a server's placement names (or the default one). */
  async forPlacement(placement: { providerRef?: { name: string } } | undefined, signal?: AbortSignal): Promise<ProviderLookup> {
    const wanted = placement?.providerRef?.name
    if (wanted !== undefined) {
      const resource = this.#store.getByName(wanted)
      if (resource === undefined)
        return {
          ok: false,
          reason: Reason.ProviderNotFound,
          message: `ContainerProvider ${wanted} (spec.placement.providerRef) does not exist: create it or name another (kubectl get containerproviders)`,
          gone: true,
        }
      return this.#backend(resource, signal)
    }
    const defaults = this.#store.list().filter((p) => p.spec.default === true && p.metadata.deletionTimestamp === undefined)
    if (defaults.length === 0)
      return {
        ok: false,
        reason: Reason.NoDefaultProvider,
        message:
          'no ContainerProvider has spec.default: true and spec.placement.providerRef is empty: mark one provider as default or name one',
        gone: true,
      }
    if (defaults.length > 1)
      return {
        ok: false,
        reason: Reason.SeveralDefaultProviders,
        message: `ContainerProviders ${defaults
          .map((p) => p.metadata.name)
          .sort()
          .join(', ')} are all marked default: keep spec.default on one, or set spec.placement.providerRef`,
        gone: false,
      }
    return this.#backend(defaults[0] as ContainerProvider, signal)
  }

  /** The provider of that name, when it exists. */
  async byName(name: string, signal?: AbortSignal): Promise<ProviderLookup> {
    return this.forPlacement({ providerRef: { name } }, signal)
  }

  /** Every provider that builds (for orphan collection). */
  async all(signal?: AbortSignal): Promise<Array<{ name: string; backend: ContainerBackend; resource: ContainerProvider }>> {
    const out = []
    for (const resource of this.#store.list()) {
      const r = await this.#backend(resource, signal)
      if (r.ok) out.push({ name: r.name, backend: r.backend, resource: r.resource })
    }
    return out
  }

  async #backend(resource: ContainerProvider, signal?: AbortSignal): Promise<ProviderLookup> {
    const name = resource.metadata.name as string
    let credentials: string | undefined
    const ref = resource.spec.proxmox?.credentialsSecretRef
    if (resource.spec.type === 'proxmox' && ref !== undefined) {
      try {
        const secret = await this.#client.get<KObject & { data?: Record<string, string> }>(SECRET, ref.name, ref.namespace, signal)
        const b64 = secret.data?.[ref.key]
        credentials = b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
      if (credentials === undefined)
        return {
          ok: false,
          reason: Reason.ProviderCredentialsMissing,
          message: `ContainerProvider ${name}: Secret ${ref.namespace}/${ref.name} has no key ${ref.key}; create it with the Proxmox API token`,
          gone: false,
        }
    }
    const key = `${resource.metadata.uid}/${resource.metadata.generation}/${credentials === undefined ? '' : hashOf(credentials)}`
    const cached = this.#entries.get(name)
    if (cached?.key === key) return { ok: true, name, backend: cached.backend, resource }
    try {
      const backend = createProvider(resource, {
        stateDir: this.#opts.stateDir,
        projectDir: this.#opts.projectDir,
        credentials,
        controlPlaneSources: this.#opts.controlPlaneSources,
      })
      if (cached) void cached.backend.close().catch(() => {})
      this.#entries.set(name, { key, backend })
      return { ok: true, name, backend, resource }
    } catch (err) {
      return { ok: false, reason: Reason.ProviderInvalid, message: `ContainerProvider ${name}: ${(err as Error).message}`, gone: false }
    }
  }

  async close(): Promise<void> {
    for (const e of this.#entries.values()) await e.backend.close().catch(() => {})
    this.#entries.clear()
  }
}

function hashOf(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16)
}
