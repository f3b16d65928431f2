// A dynamic client: CRUD, patch, server-side apply and status for any kind, resolved by
// discovery (kind → plural, namespaced) and cached. What controllers, finalizers and the
// leader elector all talk through.

import { KubeConfig } from '@kubernetes/client-node'
import { RestClient, type Query } from './rest-client.ts'
import { isNotFound } from './api-error.ts'
import { splitApiVersion, type KindRef, type KObject, type ObjectList, type Resource } from './objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'

export const PatchType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const
export type PatchType = (typeof PatchType)[keyof typeof PatchType]

export interface ListOptions {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  resourceVersion?: string
  signal?: AbortSignal
}

export interface WriteOptions {
  fieldManager?: string
  dryRun?: boolean
  signal?: AbortSignal
}

interface ApiResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean }>
}

export class Client {
  readonly rest: RestClient
  readonly #discovery = new Map<string, Promise<ApiResourceList>>()

  constructor(kubeConfig: KubeConfig) {
    this.rest = new RestClient(kubeConfig)
  }

  /** A client for the kubeconfig at `path`, else $KUBECONFIG / ~/.kube/config / in-cluster. */
  static fromKubeConfigFile(path?: string): Client {
    const kc = new KubeConfig()
    if (path !== undefined) kc.loadFromFile(path)
    else kc.loadFromDefault()
    return new Client(kc)
  }

  /** Resolves a kind to where it is served; asks discovery once per group-version. */
  async resource(ref: KindRef): Promise<Resource> {
    const { group, version } = splitApiVersion(ref.apiVersion)
    let list = this.#discovery.get(ref.apiVersion)
    if (list === undefined) {
      list = this.rest.request<ApiResourceList>('GET', group === '' ? `/api/${version}` : `/apis/${group}/${version}`)
      this.#discovery.set(ref.apiVersion, list)
      list.catch(() => this.#discovery.delete(ref.apiVersion))
    }
    let resources: ApiResourceList
    try {
      resources = await list
    } catch (err) {
      if (!isNotFound(err)) throw err
      resources = {} // the whole group-version is unknown
    }
    const found = resources.resources?.find((r) => r.kind === ref.kind && !r.name.includes('/'))
    if (found === undefined) {
      this.#discovery.delete(ref.apiVersion)
      throw new RuntimeError(
        ErrorCodes.KIND_NOT_SERVED,
        `${ref.kind} is not served in ${ref.apiVersion}: apply its CustomResourceDefinition first, or check apiVersion/kind spelling`,
      )
    }
    return { ...ref, group, version, plural: found.name, namespaced: found.namespaced }
  }

  /** URL path of a collection, object or subresource. */
  path(r: Resource, namespace?: string, name?: string, subresource?: string): string {
    let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`
    if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`
    p += `/${r.plural}`
    if (name !== undefined) p += `/${encodeURIComponent(name)}`
    if (subresource !== undefined) p += `/${subresource}`
    return p
  }

  async get<T extends KObject = KObject>(ref: KindRef, name: string, namespace?: string, signal?: AbortSignal): Promise<T> {
    const r = await this.resource(ref)
    return this.rest.request<T>('GET', this.path(r, namespace, name), { signal })
  }

  /** One page of a list (use `continue` for the next). */
  async list<T extends KObject = KObject>(ref: KindRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const r = await this.resource(ref)
    const query: Query = {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
    }
    return this.rest.request<ObjectList<T>>('GET', this.path(r, opts.namespace), { query, signal: opts.signal, timeoutMs: 60_000 })
  }

  async create<T extends KObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const r = await this.resource(kindOf(obj))
    return this.rest.request<T>('POST', this.path(r, obj.metadata?.namespace), { body: obj, query: writeQuery(opts), signal: opts.signal })
  }

  /** PUT; include metadata.resourceVersion for optimistic concurrency (409 on a stale one). */
  async replace<T extends KObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const r = await this.resource(kindOf(obj))
    return this.rest.request<T>('PUT', this.path(r, obj.metadata?.namespace, obj.metadata?.name), {
      body: obj,
      query: writeQuery(opts),
      signal: opts.signal,
    })
  }

  /** PUT to the status subresource: only .status changes. */
  async replaceStatus<T extends KObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const r = await this.resource(kindOf(obj))
    return this.rest.request<T>('PUT', this.path(r, obj.metadata?.namespace, obj.metadata?.name, 'status'), {
      body: obj,
      query: writeQuery(opts),
      signal: opts.signal,
    })
  }

  async patch<T extends KObject = KObject>(
    ref: KindRef,
    name: string,
    namespace: string | undefined,
    body: unknown,
    type: PatchType,
    opts: WriteOptions & { subresource?: 'status'; force?: boolean } = {},
  ): Promise<T> {
    const r = await this.resource(ref)
    const query = { ...writeQuery(opts), force: opts.force === true ? true : undefined }
    return this.rest.request<T>('PATCH', this.path(r, namespace, name, opts.subresource), {
      body,
      contentType: type,
      query,
      signal: opts.signal,
    })
  }

  async delete(
    ref: KindRef,
    name: string,
    namespace?: string,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const r = await this.resource(ref)
    const body = opts.propagationPolicy ? { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagationPolicy } : undefined
    return this.rest.request('DELETE', this.path(r, namespace, name), { body, signal: opts.signal })
  }

  close(): void {
    this.rest.close()
  }
}

export function kindOf(obj: KObject): KindRef {
  if (!obj.apiVersion || !obj.kind) {
    throw new RuntimeError(
      ErrorCodes.INVALID_OPTION,
      `object ${obj.metadata?.name ?? '(unnamed)'} has no apiVersion/kind: set both before writing it`,
    )
  }
  return { apiVersion: obj.apiVersion, kind: obj.kind }
}

function writeQuery(opts: WriteOptions): Query {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun === true ? 'All' : undefined }
}
