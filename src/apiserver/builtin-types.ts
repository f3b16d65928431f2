// The built-in kinds the server serves besides custom resources: Namespace, ConfigMap, Secret,
// ServiceAccount, Event (core/v1 and events.k8s.io/v1), Lease, CustomResourceDefinition and the
// rbac.authorization.k8s.io/v1 kinds (Role, ClusterRole, RoleBinding, ClusterRoleBinding).
// Their schemas run through the same pruning/defaulting/validation as CRD schemas.

import type { JSONSchemaProps } from './schema/index.ts'
import { fieldError, type FieldError } from './schema/index.ts'
import { readPath, type ResourceType } from './resource-type.ts'
import type { KObject } from './types.ts'
import { validateCrd } from './crd.ts'
import { defaultBinding, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac/validation.ts'

const str: JSONSchemaProps = { type: 'string' }
const int: JSONSchemaProps = { type: 'integer' }
const bool: JSONSchemaProps = { type: 'boolean' }
const time: JSONSchemaProps = { type: 'string', format: 'date-time', nullable: true }
const strMap: JSONSchemaProps = { type: 'object', additionalProperties: str }
const byteMap: JSONSchemaProps = { type: 'object', additionalProperties: { type: 'string', format: 'byte' } }
const obj = (properties: Record<string, JSONSchemaProps>, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'object',
  properties,
  ...extra,
})
const arr = (items: JSONSchemaProps): JSONSchemaProps => ({ type: 'array', items })
const root = (properties: Record<string, JSONSchemaProps>): JSONSchemaProps =>
  obj({ apiVersion: str, kind: str, metadata: { type: 'object' }, ...properties })

const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str })
const condition = obj({ type: str, status: str, lastTransitionTime: time, reason: str, message: str, observedGeneration: int })

function base(
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  schema: JSONSchemaProps,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    versions: [{ name: version, schema, columns: [], statusSubresource: false, selectableFields: [] }],
    gr: group ? `${resource}.${group}` : resource,
    builtin: true,
    tracksGeneration: false,
    deleteReturnsObject: false,
    allowUnconditionalUpdate: true,
    nameRule: 'dns-subdomain',
    fieldGetters: {},
    ...extra,
  }
}

const DATA_KEY = /^[-._a-zA-Z0-9]+$/

function checkDataKeys(o: KObject, fields: string[]): FieldError[] {
  const out: FieldError[] = []
  const seen = new Set<string>()
  for (const f of fields) {
    for (const k of Object.keys((o[f] as Record<string, unknown> | undefined) ?? {})) {
      if (!DATA_KEY.test(k) || k.length > 253)
        out.push(
          fieldError(`${f}[${k}]`, 'FieldValueInvalid', "a valid config key must consist of alphanumeric characters, '-', '_' or '.'", k),
        )
      if (seen.has(k)) out.push(fieldError(`${f}[${k}]`, 'FieldValueInvalid', `duplicate of key present in ${fields[0]}`, k))
      seen.add(k)
    }
  }
  return out
}

function checkImmutable(o: KObject, old: KObject | undefined, fields: string[]): FieldError[] {
  if (old?.immutable !== true) return []
  const out: FieldError[] = []
  if (o.immutable !== true)
    out.push(fieldError('immutable', 'FieldValueForbidden', 'field is immutable when `immutable` is set', o.immutable))
  for (const f of fields) {
    if (JSON.stringify(o[f] ?? {}) !== JSON.stringify(old[f] ?? {}))
      out.push(fieldError(f, 'FieldValueForbidden', 'field is immutable when `immutable` is set'))
  }
  return out
}

const namespace = base(
  '',
  'v1',
  'Namespace',
  'namespaces',
  false,
  root({ spec: obj({ finalizers: arr(str) }), status: obj({ phase: str, conditions: arr(condition) }) }),
  {
    shortNames: ['ns'],
    nameRule: 'dns-label',
    fieldGetters: { 'status.phase': (o) => readPath(o, 'status.phase') },
  },
)
namespace.versions[0].statusSubresource = true

const configMap = base('', 'v1', 'ConfigMap', 'configmaps', true, root({ data: strMap, binaryData: byteMap, immutable: bool }), {
  shortNames: ['cm'],
  validate: (o, old) => [...checkDataKeys(o, ['data', 'binaryData']), ...checkImmutable(o, old, ['data', 'binaryData'])],
})

const secret = base('', 'v1', 'Secret', 'secrets', true, root({ data: byteMap, stringData: strMap, type: str, immutable: bool }), {
  fieldGetters: { type: (o) => o.type },
  normalize: (o) => {
    if (o.stringData && typeof o.stringData === 'object') {
      const data = (o.data ?? {}) as Record<string, string>
      for (const [k, v] of Object.entries(o.stringData as Record<string, unknown>))
        if (typeof v === 'string') data[k] = Buffer.from(v).toString('base64')
      o.data = data
      delete o.stringData
    }
    if (o.type === undefined || o.type === '') o.type = 'Opaque'
  },
  validate: (o, old) => {
    const out = [...checkDataKeys(o, ['data']), ...checkImmutable(o, old, ['data'])]
    if (old && old.type !== o.type) out.push(fieldError('type', 'FieldValueInvalid', 'field is immutable', o.type))
    return out
  },
})

const serviceAccount = base(
  '',
  'v1',
  'ServiceAccount',
  'serviceaccounts',
  true,
  // kube's serviceaccount registry sets ReturnDeletedObject: a delete answers with the ServiceAccount.
  root({ secrets: arr(objectReference), imagePullSecrets: arr(obj({ name: str })), automountServiceAccountToken: bool }),
  { shortNames: ['sa'], deleteReturnsObject: true },
)

const eventSource = obj({ component: str, host: str })
const eventSeries = obj({ count: int, lastObservedTime: time })
const coreEvent = base(
  '',
  'v1',
  'Event',
  'events',
  true,
  root({
    involvedObject: objectReference,
    reason: str,
    message: str,
    source: eventSource,
    firstTimestamp: time,
    lastTimestamp: time,
    count: int,
    type: str,
    eventTime: time,
    series: eventSeries,
    action: str,
    related: objectReference,
    reportingComponent: str,
    reportingInstance: str,
  }),
  {
    shortNames: ['ev'],
    fieldGetters: {
      'involvedObject.kind': (o) => readPath(o, 'involvedObject.kind'),
      'involvedObject.namespace': (o) => readPath(o, 'involvedObject.namespace'),
      'involvedObject.name': (o) => readPath(o, 'involvedObject.name'),
      'involvedObject.uid': (o) => readPath(o, 'involvedObject.uid'),
      'involvedObject.apiVersion': (o) => readPath(o, 'involvedObject.apiVersion'),
      'involvedObject.resourceVersion': (o) => readPath(o, 'involvedObject.resourceVersion'),
      'involvedObject.fieldPath': (o) => readPath(o, 'involvedObject.fieldPath'),
      reason: (o) => o.reason,
      reportingComponent: (o) => o.reportingComponent,
      source: (o) => readPath(o, 'source.component'),
      type: (o) => o.type,
    },
    validate: (o) => (o.involvedObject ? [] : [fieldError('involvedObject', 'FieldValueRequired', '')]),
  },
)

const eventsV1 = base(
  'events.k8s.io',
  'v1',
  'Event',
  'events',
  true,
  root({
    eventTime: time,
    series: eventSeries,
    reportingController: str,
    reportingInstance: str,
    action: str,
    reason: str,
    regarding: objectReference,
    related: objectReference,
    note: str,
    type: str,
    deprecatedSource: eventSource,
    deprecatedFirstTimestamp: time,
    deprecatedLastTimestamp: time,
    deprecatedCount: int,
  }),
  {
    shortNames: ['ev'],
    fieldGetters: {
      'regarding.kind': (o) => readPath(o, 'regarding.kind'),
      'regarding.namespace': (o) => readPath(o, 'regarding.namespace'),
      'regarding.name': (o) => readPath(o, 'regarding.name'),
      'regarding.uid': (o) => readPath(o, 'regarding.uid'),
      reason: (o) => o.reason,
      reportingController: (o) => o.reportingController,
      type: (o) => o.type,
    },
  },
)

const lease = base(
  'coordination.k8s.io',
  'v1',
  'Lease',
  'leases',
  true,
  root({
    spec: obj({
      holderIdentity: { type: 'string', nullable: true },
      leaseDurationSeconds: { type: 'integer', nullable: true },
      acquireTime: time,
      renewTime: time,
      leaseTransitions: { type: 'integer', nullable: true },
      strategy: { type: 'string', nullable: true },
      preferredHolder: { type: 'string', nullable: true },
    }),
  }),
)

const crd = base(
  'apiextensions.k8s.io',
  'v1',
  'CustomResourceDefinition',
  'customresourcedefinitions',
  false,
  root({
    spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  }),
  {
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    tracksGeneration: true,
    deleteReturnsObject: true,
    validate: (o) => validateCrd(o),
  },
)
crd.versions[0].statusSubresource = true
crd.versions[0].columns = [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }]

const RBAC = 'rbac.authorization.k8s.io'
const strList: JSONSchemaProps = { ...arr(str), nullable: true }
const policyRule = obj({ verbs: strList, apiGroups: strList, resources: strList, resourceNames: strList, nonResourceURLs: strList })
const labelSelector = obj({ matchLabels: strMap, matchExpressions: arr(obj({ key: str, operator: str, values: strList })) })
const rbacRules = { ...arr(policyRule), nullable: true }
const subjects = { ...arr(obj({ kind: str, apiGroup: str, name: str, namespace: str })), nullable: true }
const roleRef = obj({ apiGroup: str, kind: str, name: str })

const role = base(RBAC, 'v1', 'Role', 'roles', true, root({ rules: rbacRules }), { nameRule: 'path-segment', validate: validateRole })
const clusterRole = base(
  RBAC,
  'v1',
  'ClusterRole',
  'clusterroles',
  false,
  root({
    rules: rbacRules,
    aggregationRule: { ...obj({ clusterRoleSelectors: { ...arr(labelSelector), nullable: true } }), nullable: true },
  }),
  { nameRule: 'path-segment', validate: validateClusterRole },
)
const roleBinding = base(RBAC, 'v1', 'RoleBinding', 'rolebindings', true, root({ subjects, roleRef }), {
  nameRule: 'path-segment',
  normalize: defaultBinding,
  validate: validateRoleBinding,
})
const clusterRoleBinding = base(RBAC, 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, root({ subjects, roleRef }), {
  nameRule: 'path-segment',
  normalize: defaultBinding,
  validate: validateClusterRoleBinding,
})

/** Fresh copies of the built-in resource types. */
export function builtinTypes(): ResourceType[] {
  return [
    namespace,
    configMap,
    secret,
    serviceAccount,
    coreEvent,
    eventsV1,
    lease,
    crd,
    role,
    clusterRole,
    roleBinding,
    clusterRoleBinding,
  ].map((t) => ({ ...t, versions: t.versions.map((v) => ({ ...v })) }))
}

export const CRD_GR = 'customresourcedefinitions.apiextensions.k8s.io'
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io'
export const NAMESPACE_GR = 'namespaces'
export const EVENT_GRS = ['events', 'events.events.k8s.io']
