// The REST paths and operations of one resource version, as kube-apiserver describes them: each
// operation carries x-kubernetes-action and x-kubernetes-group-version-kind (kubectl explain finds a
// resource's schema through it) and its query parameters (kubectl probes PATCH for fieldValidation).

import { DELETE_OPTIONS, PATCH, type Schema, type RefFn } from './meta.ts'
import type { OpenApiResource } from './resources.ts'

export type Flavor = 'v3' | 'v2'

interface Param {
  name: string
  in: 'query' | 'path'
  type: 'string' | 'boolean' | 'integer'
  description: string
  required?: boolean
}

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description })

const LIST_PARAMS: Param[] = [
  q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  q('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  q('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  q('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  q('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  q(
    'sendInitialEvents',
    'boolean',
    'sendInitialEvents=true may be set together with watch=true to begin the watch stream with synthetic events.',
  ),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
]
const DRY_RUN = q(
  'dryRun',
  'string',
  'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed',
)
const FIELD_MANAGER = q(
  'fieldManager',
  'string',
  'fieldManager is a name associated with the actor or entity that is making these changes.',
)
const FIELD_VALIDATION = q(
  'fieldValidation',
  'string',
  'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.',
)
const FORCE = q(
  'force',
  'boolean',
  'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.',
)
const DELETE_PARAMS: Param[] = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy.'),
  q(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
  ),
]
const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed.")

function param(p: Param, flavor: Flavor): Schema {
  const base: Schema = { name: p.name, in: p.in, description: p.description }
  if (p.required) base.required = true
  if (flavor === 'v2') return { ...base, type: p.type, uniqueItems: true }
  return { ...base, schema: { type: p.type, uniqueItems: true } }
}

/** "zerolaghub.dev" → "ZerolaghubDev", "" → "Core". */
function groupCamel(group: string): string {
  if (!group) return 'Core'
  return group
    .split(/[.-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
}

function tag(group: string, version: string): string {
  const g = groupCamel(group)
  return `${g.charAt(0).toLowerCase()}${g.slice(1)}_${version}`
}

export interface PathContext {
  res: OpenApiResource
  version: string
  flavor: Flavor
  ref: RefFn
  kindDef: string
  listDef: string
}

function op(
  ctx: PathContext,
  action: string,
  verb: string,
  what: string,
  opts: { params?: Param[]; body?: 'object' | 'patch' | 'delete'; response: string; statuses: string[] },
): Schema {
  const { res, version, flavor, ref } = ctx
  const o: Schema = {
    tags: [tag(res.group, version)],
    description: what,
    operationId: verb,
  }
  const params = (opts.params ?? []).map((p) => param(p, flavor))
  const patchTypes = [
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(res.builtin ? ['application/strategic-merge-patch+json'] : []),
    'application/apply-patch+yaml',
  ]
  const bodyRef = opts.body === 'patch' ? PATCH : opts.body === 'delete' ? DELETE_OPTIONS : ctx.kindDef
  if (flavor === 'v3') {
    if (params.length) o.parameters = params
    if (opts.body) {
      const types = opts.body === 'patch' ? patchTypes : ['*/*']
      o.requestBody = {
        content: Object.fromEntries(types.map((t) => [t, { schema: { $ref: ref(bodyRef) } }])),
        ...(opts.body === 'delete' ? {} : { required: true }),
      }
    }
    const content = {
      'application/json': { schema: { $ref: ref(opts.response) } },
      'application/yaml': { schema: { $ref: ref(opts.response) } },
    }
    o.responses = Object.fromEntries([
      ...opts.statuses.map((s) => [s, { description: s === '201' ? 'Created' : s === '202' ? 'Accepted' : 'OK', content }]),
      ['401', { description: 'Unauthorized' }],
    ])
  } else {
    o.consumes = opts.body === 'patch' ? patchTypes : ['*/*']
    o.produces = ['application/json', 'application/yaml']
    o.schemes = ['https']
    if (opts.body) params.unshift({ name: 'body', in: 'body', required: opts.body !== 'delete', schema: { $ref: ref(bodyRef) } })
    if (params.length) o.parameters = params
    o.responses = Object.fromEntries([
      ...opts.statuses.map((s) => [
        s,
        { description: s === '201' ? 'Created' : s === '202' ? 'Accepted' : 'OK', schema: { $ref: ref(opts.response) } },
      ]),
      ['401', { description: 'Unauthorized' }],
    ])
  }
  o['x-kubernetes-action'] = action
  o['x-kubernetes-group-version-kind'] = { group: res.group, kind: res.kind, version }
  return o
}

/** All paths of one version of one resource, keyed by URL template. */
export function resourcePaths(ctx: PathContext): Record<string, Schema> {
  const { res, version, flavor } = ctx
  const prefix = res.group ? `/apis/${res.group}/${version}` : `/api/${version}`
  const gv = `${groupCamel(res.group)}${version.charAt(0).toUpperCase()}${version.slice(1)}`
  const ns = res.namespaced ? 'Namespaced' : ''
  const K = res.kind
  const nameParam = param({ name: 'name', in: 'path', type: 'string', required: true, description: `name of the ${K}` }, flavor)
  const nsParam = param(
    {
      name: 'namespace',
      in: 'path',
      type: 'string',
      required: true,
      description: 'object name and auth scope, such as for teams and projects',
    },
    flavor,
  )
  const pretty = param(PRETTY, flavor)
  const collectionParams = res.namespaced ? [nsParam, pretty] : [pretty]
  const itemParams = res.namespaced ? [nameParam, nsParam, pretty] : [nameParam, pretty]
  const collection = res.namespaced ? `${prefix}/namespaces/{namespace}/${res.resource}` : `${prefix}/${res.resource}`
  const paths: Record<string, Schema> = {}
  const k = ctx.kindDef
  paths[collection] = {
    get: op(ctx, 'list', `list${gv}${ns}${K}`, `list or watch objects of kind ${K}`, {
      params: LIST_PARAMS,
      response: ctx.listDef,
      statuses: ['200'],
    }),
    post: op(ctx, 'post', `create${gv}${ns}${K}`, `create a ${K}`, {
      params: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      body: 'object',
      response: k,
      statuses: ['200', '201', '202'],
    }),
    delete: op(ctx, 'deletecollection', `deletecollection${gv}${ns}${K}`, `delete collection of ${K}`, {
      params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => !['watch', 'allowWatchBookmarks', 'sendInitialEvents'].includes(p.name))],
      body: 'delete',
      response: 'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
      statuses: ['200'],
    }),
    parameters: collectionParams,
  }
  paths[`${collection}/{name}`] = {
    get: op(ctx, 'get', `read${gv}${ns}${K}`, `read the specified ${K}`, { response: k, statuses: ['200'] }),
    put: op(ctx, 'put', `replace${gv}${ns}${K}`, `replace the specified ${K}`, {
      params: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      body: 'object',
      response: k,
      statuses: ['200', '201'],
    }),
    patch: op(ctx, 'patch', `patch${gv}${ns}${K}`, `partially update the specified ${K}`, {
      params: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
      body: 'patch',
      response: k,
      statuses: ['200', '201'],
    }),
    delete: op(ctx, 'delete', `delete${gv}${ns}${K}`, `delete a ${K}`, {
      params: DELETE_PARAMS,
      body: 'delete',
      response: 'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
      statuses: ['200', '202'],
    }),
    parameters: itemParams,
  }
  const v = res.versions.find((x) => x.name === version)
  if (v?.statusSubresource) {
    paths[`${collection}/{name}/status`] = {
      get: op(ctx, 'get', `read${gv}${ns}${K}Status`, `read status of the specified ${K}`, { response: k, statuses: ['200'] }),
      put: op(ctx, 'put', `replace${gv}${ns}${K}Status`, `replace status of the specified ${K}`, {
        params: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
        body: 'object',
        response: k,
        statuses: ['200', '201'],
      }),
      patch: op(ctx, 'patch', `patch${gv}${ns}${K}Status`, `partially update status of the specified ${K}`, {
        params: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
        body: 'patch',
        response: k,
        statuses: ['200', '201'],
      }),
      parameters: itemParams,
    }
  }
  if (res.namespaced) {
    paths[`${prefix}/${res.resource}`] = {
      get: op(ctx, 'list', `list${gv}${K}ForAllNamespaces`, `list or watch objects of kind ${K}`, {
        params: LIST_PARAMS,
        response: ctx.listDef,
        statuses: ['200'],
      }),
      parameters: [pretty],
    }
  }
  return paths
}
