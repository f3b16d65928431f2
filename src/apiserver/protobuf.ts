// Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) for the
// built-in kinds typed clients send that way: kubectl's `create configmap|secret|namespace|
// serviceaccount|token|role|...`, and kube-controller-manager / client-go with their default
// content type (its leader-election Lease, its core and events.k8s.io Events, a namespace's
// /finalize and status, DeleteOptions). Responses are JSON, which such clients accept: they send
// `Accept: application/vnd.kubernetes.protobuf, */*`.
// The envelope is the 4-byte magic "k8s\0" followed by a runtime.Unknown message whose `raw` field
// holds the object in proto wire format (k8s.io/api generated.proto field numbers).
// Go writes every non-pointer field, so a singular empty string or a zero time ("omitempty" in the
// JSON form) is dropped here; empty strings inside lists (a rule's apiGroups [""]) are kept.

import { errors } from './status.ts'

export type Kind = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'microtime' | 'fieldsV1' | { msg: Schema } | { map: 'string' | 'bytes' }
export interface FieldDef {
  name: string
  kind: Kind
  repeated?: boolean
}
export type Schema = Record<number, FieldDef>

const f = (name: string, kind: Kind, repeated = false): FieldDef => ({ name, kind, repeated })

const OWNER_REF: Schema = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool'),
  7: f('blockOwnerDeletion', 'bool'),
}
const OBJECT_META: Schema = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('generation', 'int'),
  8: f('creationTimestamp', 'time'),
  9: f('deletionTimestamp', 'time'),
  10: f('deletionGracePeriodSeconds', 'int'),
  11: f('labels', { map: 'string' }),
  12: f('annotations', { map: 'string' }),
  13: f('ownerReferences', { msg: OWNER_REF }, true),
  14: f('finalizers', 'string', true),
  17: f(
    'managedFields',
    {
      msg: {
        1: f('manager', 'string'),
        2: f('operation', 'string'),
        3: f('apiVersion', 'string'),
        4: f('time', 'time'),
        6: f('fieldsType', 'string'),
        7: f('fieldsV1', 'fieldsV1'),
        8: f('subresource', 'string'),
      },
    },
    true,
  ),
}
const OBJECT_REF: Schema = {
  1: f('kind', 'string'),
  2: f('namespace', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('fieldPath', 'string'),
}

const EVENT_SOURCE: Schema = { 1: f('component', 'string'), 2: f('host', 'string') }
const EVENT_SERIES: Schema = { 1: f('count', 'int'), 2: f('lastObservedTime', 'microtime') }
const CONDITION: Schema = {
  1: f('type', 'string'),
  2: f('status', 'string'),
  4: f('lastTransitionTime', 'time'),
  5: f('reason', 'string'),
  6: f('message', 'string'),
}

const KINDS: Record<string, Schema> = {
  ConfigMap: {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('data', { map: 'string' }),
    3: f('binaryData', { map: 'bytes' }),
    4: f('immutable', 'bool'),
  },
  Secret: {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('data', { map: 'bytes' }),
    3: f('type', 'string'),
    4: f('stringData', { map: 'string' }),
    5: f('immutable', 'bool'),
  },
  Namespace: {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', { msg: { 1: f('finalizers', 'string', true) } }),
    3: f('status', { msg: { 1: f('phase', 'string'), 2: f('conditions', { msg: CONDITION }, true) } }),
  },
  Event: {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('involvedObject', { msg: OBJECT_REF }),
    3: f('reason', 'string'),
    4: f('message', 'string'),
    5: f('source', { msg: EVENT_SOURCE }),
    6: f('firstTimestamp', 'time'),
    7: f('lastTimestamp', 'time'),
    8: f('count', 'int'),
    9: f('type', 'string'),
    10: f('eventTime', 'microtime'),
    11: f('series', { msg: EVENT_SERIES }),
    12: f('action', 'string'),
    13: f('related', { msg: OBJECT_REF }),
    14: f('reportingComponent', 'string'),
    15: f('reportingInstance', 'string'),
  },
  ServiceAccount: {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('secrets', { msg: OBJECT_REF }, true),
    3: f('imagePullSecrets', { msg: { 1: f('name', 'string') } }, true),
    4: f('automountServiceAccountToken', 'bool'),
  },
}

// The create-only kinds of authentication.k8s.io/v1 and authorization.k8s.io/v1 that kubectl's typed
// clients send (`create token`, `auth whoami`, `auth can-i`); only their request fields are read
// (a SubjectAccessReview's extra is JSON-only).
const RESOURCE_ATTRIBUTES: Schema = {
  1: f('namespace', 'string'),
  2: f('verb', 'string'),
  3: f('group', 'string'),
  4: f('version', 'string'),
  5: f('resource', 'string'),
  6: f('subresource', 'string'),
  7: f('name', 'string'),
}
const NON_RESOURCE_ATTRIBUTES: Schema = { 1: f('path', 'string'), 2: f('verb', 'string') }
const ACCESS_REVIEW_SPEC: Schema = {
  1: f('resourceAttributes', { msg: RESOURCE_ATTRIBUTES }),
  2: f('nonResourceAttributes', { msg: NON_RESOURCE_ATTRIBUTES }),
  3: f('user', 'string'),
  4: f('groups', 'string', true),
  6: f('uid', 'string'),
}
const GROUP_KINDS: Record<string, Schema> = {
  'authentication.k8s.io/v1/TokenRequest': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', {
      msg: {
        1: f('audiences', 'string', true),
        3: f('boundObjectRef', {
          msg: { 1: f('kind', 'string'), 2: f('apiVersion', 'string'), 3: f('name', 'string'), 4: f('uid', 'string') },
        }),
        4: f('expirationSeconds', 'int'),
      },
    }),
  },
  'authentication.k8s.io/v1/TokenReview': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', { msg: { 1: f('token', 'string'), 2: f('audiences', 'string', true) } }),
  },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: f('metadata', { msg: OBJECT_META }) },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', {
      msg: { 1: f('resourceAttributes', { msg: RESOURCE_ATTRIBUTES }), 2: f('nonResourceAttributes', { msg: NON_RESOURCE_ATTRIBUTES }) },
    }),
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', { msg: { 1: f('namespace', 'string') } }),
  },
  'authorization.k8s.io/v1/SubjectAccessReview': { 1: f('metadata', { msg: OBJECT_META }), 2: f('spec', { msg: ACCESS_REVIEW_SPEC }) },
  'authorization.k8s.io/v1/LocalSubjectAccessReview': { 1: f('metadata', { msg: OBJECT_META }), 2: f('spec', { msg: ACCESS_REVIEW_SPEC }) },
}

// rbac.authorization.k8s.io/v1, as `kubectl create role|clusterrole|rolebinding|clusterrolebinding` sends them.
const POLICY_RULE: Schema = {
  1: f('verbs', 'string', true),
  2: f('apiGroups', 'string', true),
  3: f('resources', 'string', true),
  4: f('resourceNames', 'string', true),
  5: f('nonResourceURLs', 'string', true),
}
const LABEL_SELECTOR: Schema = {
  1: f('matchLabels', { map: 'string' }),
  2: f('matchExpressions', { msg: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: f('values', 'string', true) } }, true),
}
const RBAC_BINDING: Schema = {
  1: f('metadata', { msg: OBJECT_META }),
  2: f(
    'subjects',
    { msg: { 1: f('kind', 'string'), 2: f('apiGroup', 'string'), 3: f('name', 'string'), 4: f('namespace', 'string') } },
    true,
  ),
  3: f('roleRef', { msg: { 1: f('apiGroup', 'string'), 2: f('kind', 'string'), 3: f('name', 'string') } }),
}
Object.assign(GROUP_KINDS, {
  'coordination.k8s.io/v1/Lease': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('spec', {
      msg: {
        1: f('holderIdentity', 'string'),
        2: f('leaseDurationSeconds', 'int'),
        3: f('acquireTime', 'microtime'),
        4: f('renewTime', 'microtime'),
        5: f('leaseTransitions', 'int'),
        6: f('strategy', 'string'),
        7: f('preferredHolder', 'string'),
      },
    }),
  },
  'events.k8s.io/v1/Event': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('eventTime', 'microtime'),
    3: f('series', { msg: EVENT_SERIES }),
    4: f('reportingController', 'string'),
    5: f('reportingInstance', 'string'),
    6: f('action', 'string'),
    7: f('reason', 'string'),
    8: f('regarding', { msg: OBJECT_REF }),
    9: f('related', { msg: OBJECT_REF }),
    10: f('note', 'string'),
    11: f('type', 'string'),
    12: f('deprecatedSource', { msg: EVENT_SOURCE }),
    13: f('deprecatedFirstTimestamp', 'time'),
    14: f('deprecatedLastTimestamp', 'time'),
    15: f('deprecatedCount', 'int'),
  },
  'rbac.authorization.k8s.io/v1/Role': { 1: f('metadata', { msg: OBJECT_META }), 2: f('rules', { msg: POLICY_RULE }, true) },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: f('metadata', { msg: OBJECT_META }),
    2: f('rules', { msg: POLICY_RULE }, true),
    3: f('aggregationRule', { msg: { 1: f('clusterRoleSelectors', { msg: LABEL_SELECTOR }, true) } }),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': RBAC_BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': RBAC_BINDING,
})

// meta.k8s.io DeleteOptions, registered in every group version; client-go's typed Delete sends it as the body.
const DELETE_OPTIONS: Schema = {
  1: f('gracePeriodSeconds', 'int'),
  2: f('preconditions', { msg: { 1: f('uid', 'string'), 2: f('resourceVersion', 'string') } }),
  3: f('orphanDependents', 'bool'),
  4: f('propagationPolicy', 'string'),
  5: f('dryRun', 'string', true),
}

// meta.k8s.io Status, for errors inside a protobuf watch stream.
const STATUS_DETAILS: Schema = {
  1: f('name', 'string'),
  2: f('group', 'string'),
  3: f('kind', 'string'),
  4: f('causes', { msg: { 1: f('reason', 'string'), 2: f('message', 'string'), 3: f('field', 'string') } }, true),
  5: f('retryAfterSeconds', 'int'),
  6: f('uid', 'string'),
}
const LIST_META: Schema = { 2: f('resourceVersion', 'string'), 3: f('continue', 'string'), 4: f('remainingItemCount', 'int') }
const PARTIAL_OBJECT_METADATA: Schema = { 1: f('metadata', { msg: OBJECT_META }) }
const STATUS: Schema = {
  1: f('metadata', { msg: LIST_META }),
  2: f('status', 'string'),
  3: f('message', 'string'),
  4: f('reason', 'string'),
  5: f('details', { msg: STATUS_DETAILS }),
  6: f('code', 'int'),
}

/**
 * The schema to write `kind` of `apiVersion` in protobuf, for the kinds whose schema here is
 * complete (every field the server stores), so an answer in protobuf loses nothing: the stored
 * built-ins, their lists, and Status. Undefined for the rest (request-only review kinds, CRDs,
 * custom resources), which are answered in JSON.
 */
export function responseSchema(apiVersion: string, kind: string): Schema | undefined {
  if (apiVersion === 'v1' && kind === 'Status') return STATUS
  if ((apiVersion === 'meta.k8s.io/v1' || apiVersion === 'meta.k8s.io/v1beta1') && kind === 'PartialObjectMetadata')
    return PARTIAL_OBJECT_METADATA
  // v1beta1's list has its own field numbers (items 1, metadata 2: ListMeta was added later), k8s.io/apimachinery/pkg/apis/meta/v1beta1/types.go.
  if (apiVersion === 'meta.k8s.io/v1beta1' && kind === 'PartialObjectMetadataList')
    return { 1: f('items', { msg: PARTIAL_OBJECT_METADATA }, true), 2: f('metadata', { msg: LIST_META }) }
  const list = kind.endsWith('List') ? responseSchema(apiVersion, kind.slice(0, -4)) : undefined
  if (list) return { 1: f('metadata', { msg: LIST_META }), 2: f('items', { msg: list }, true) }
  if (apiVersion === 'v1') return KINDS[kind]
  if (apiVersion.startsWith('authentication.k8s.io/') || apiVersion.startsWith('authorization.k8s.io/')) return undefined
  return GROUP_KINDS[`${apiVersion}/${kind}`]
}

class Reader {
  pos = 0
  buf: Buffer
  end: number
  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }
  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint')
      const b = this.buf[this.pos++]
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error('varint too long')
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint())
    if (this.pos + len > this.end) throw new Error('truncated field')
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  skip(wire: number): void {
    if (wire === 0) this.varint()
    else if (wire === 1) this.pos += 8
    else if (wire === 2) this.bytes()
    else if (wire === 5) this.pos += 4
    else throw new Error(`unsupported wire type ${wire}`)
  }
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const r = new Reader(buf)
  const out: Record<string, unknown> = {}
  while (r.pos < r.end) {
    const tag = Number(r.varint())
    const field = schema[tag >> 3]
    const wire = tag & 7
    if (!field) {
      r.skip(wire)
      continue
    }
    const value = decodeValue(r, wire, field.kind)
    if (value === undefined || (value === '' && !field.repeated && field.kind === 'string')) continue
    if (typeof field.kind === 'object' && 'map' in field.kind) {
      const [k, v] = value as [string, unknown]
      out[field.name] = { ...(out[field.name] as object | undefined), [k]: v }
    } else if (field.repeated) {
      const list = (out[field.name] as unknown[] | undefined) ?? []
      list.push(value)
      out[field.name] = list
    } else out[field.name] = value
  }
  return out
}

function decodeValue(r: Reader, wire: number, kind: Kind): unknown {
  if (kind === 'int') return Number(BigInt.asIntN(64, r.varint()))
  if (kind === 'bool') return r.varint() !== 0n
  const b = r.bytes()
  if (wire !== 2) throw new Error('unexpected wire type')
  if (kind === 'string') return b.toString('utf8')
  if (kind === 'bytes') return b.toString('base64')
  // metav1.FieldsV1 is a message holding the JSON text; its JSON form is that JSON itself.
  if (kind === 'fieldsV1') {
    const raw = decodeMessage(b, { 1: f('raw', 'bytes') }).raw
    return raw ? JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8')) : undefined
  }
  if (kind === 'time' || kind === 'microtime') {
    const t = decodeMessage(b, { 1: f('seconds', 'int'), 2: f('nanos', 'int') })
    const seconds = Number(t.seconds ?? 0)
    const nanos = Number(t.nanos ?? 0)
    // Go's zero time is what an unset metav1.Time marshals to: the JSON form omits it.
    if (seconds === 0 && nanos === 0) return undefined
    const iso = new Date(seconds * 1000).toISOString()
    if (kind === 'time') return iso.replace(/\.\d+Z$/, 'Z')
    return iso.replace(/\.\d+Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`)
  }
  if ('msg' in kind) return decodeMessage(b, kind.msg)
  const entry = decodeMessage(b, { 1: f('key', 'string'), 2: f('value', kind.map) })
  return [entry.key ?? '', entry.value ?? '']
}

/** Decodes a protobuf-encoded built-in object into its JSON form; 415 for kinds it cannot read. */
export function decodeProtobufObject(body: Buffer): unknown {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0')
    throw errors.badRequest('the protobuf body lacks the "k8s\\0" envelope prefix')
  try {
    const unknown = decodeMessage(body.subarray(4), {
      1: f('typeMeta', { msg: { 1: f('apiVersion', 'string'), 2: f('kind', 'string') } }),
      2: f('raw', 'bytes'),
    })
    const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string }
    const schema = !tm.kind
      ? undefined
      : tm.kind === 'DeleteOptions'
        ? DELETE_OPTIONS
        : tm.apiVersion === 'v1'
          ? KINDS[tm.kind]
          : GROUP_KINDS[`${tm.apiVersion}/${tm.kind}`]
    if (!schema) throw errors.unsupportedMediaType('application/vnd.kubernetes.protobuf', ['application/json', 'application/yaml'])
    const obj = decodeMessage(Buffer.from(String(unknown.raw ?? ''), 'base64'), schema)
    return { apiVersion: tm.apiVersion, kind: tm.kind, ...obj, metadata: obj.metadata ?? {} }
  } catch (err) {
    if (err instanceof Error && 'reason' in err) throw err
    throw errors.badRequest(`the protobuf body could not be decoded: ${(err as Error).message}`)
  }
}
