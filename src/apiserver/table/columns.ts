// Table columns: the shape of a CRD's additionalPrinterColumns, plus the columns kube-apiserver's
// built-in printers send for the built-in kinds this server serves (pkg/printers/internalversion).

import { ageOf } from './duration.ts'
import type { JsonObject } from '../types.ts'

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date'

type Obj = JsonObject

export interface TableColumn {
  name: string
  type: ColumnType | string
  format?: string
  description?: string
  priority?: number
  /** A CRD column: the value at this JSONPath (kubectl dialect), typed by `type`. */
  jsonPath?: string
  /** A built-in printer column: computes the cell itself. */
  cell?: (obj: Obj, now: Date) => unknown
  /** Marks the object-name column of a complete built-in column list (renderTable then adds none). */
  role?: 'name'
}

const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names'
const CREATION_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata'

export const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: NAME_DESCRIPTION,
  role: 'name',
  cell: (o) => o.metadata?.name ?? '',
}

/** What a CRD version without additionalPrinterColumns gets (apiextensions serveDefaultColumnsIfEmpty). */
export const DEFAULT_CRD_COLUMNS: readonly TableColumn[] = [
  { name: 'Age', type: 'date', description: CREATION_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' },
]

const age: TableColumn = {
  name: 'Age',
  type: 'string',
  description: CREATION_DESCRIPTION,
  cell: (o, now) => ageOf(o.metadata?.creationTimestamp, now),
}
const count = (v: unknown): number => (v && typeof v === 'object' ? Object.keys(v).length : 0)

/** kubectl prints "kind/name" for the involved object, lower-casing the kind. */
function eventTarget(o: Obj): string {
  const ref = o.involvedObject ?? o.regarding ?? {}
  const kind = String(ref.kind ?? '').toLowerCase()
  return ref.name ? `${kind}/${ref.name}` : kind
}

function eventSource(o: Obj): string {
  const component = o.source?.component || o.reportingController || o.reportingComponent || ''
  const host = o.source?.host || o.reportingInstance || ''
  if (!component) return ''
  return host ? `${component}, ${host}` : component
}

/** Handles core/v1 and events.k8s.io/v1 field names alike (the same object seen through two APIs). */
function eventTimes(o: Obj, now: Date): { first: string; last: string; count: number } {
  const firstTs = o.firstTimestamp ?? o.deprecatedFirstTimestamp
  const lastTs = o.lastTimestamp ?? o.deprecatedLastTimestamp
  const first = firstTs ? ageOf(firstTs, now) : ageOf(o.eventTime, now)
  let last = lastTs ? ageOf(lastTs, now) : first
  let n = Number(o.count ?? o.deprecatedCount ?? 0)
  if (o.series) {
    last = ageOf(o.series.lastObservedTime, now)
    n = Number(o.series.count ?? 0)
  } else if (n === 0) {
    n = 1
  }
  return { first, last, count: n }
}

type Subjects = Array<{ kind?: string; name?: string; namespace?: string }>

/** kube's SubjectsStrings: names of one kind of subject, ServiceAccounts as namespace/name, joined by ", ". */
function subjectNames(o: Obj, kind: string): string {
  const subjects: Subjects = Array.isArray(o.subjects) ? o.subjects : []
  return subjects
    .filter((s) => s?.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name ?? ''}` : (s.name ?? '')))
    .join(', ')
}

/** Columns of RoleBinding and ClusterRoleBinding (`what` names the kind in the descriptions). */
function bindingColumns(what: string, roleRefDescription: string): TableColumn[] {
  return [
    NAME_COLUMN,
    { name: 'Role', type: 'string', description: roleRefDescription, cell: (o) => `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}` },
    age,
    { name: 'Users', type: 'string', priority: 1, description: `Users in the ${what}`, cell: (o) => subjectNames(o, 'User') },
    { name: 'Groups', type: 'string', priority: 1, description: `Groups in the ${what}`, cell: (o) => subjectNames(o, 'Group') },
    {
      name: 'ServiceAccounts',
      type: 'string',
      priority: 1,
      description: `ServiceAccounts in the ${what}`,
      cell: (o) => subjectNames(o, 'ServiceAccount'),
    },
  ]
}

const BUILTIN: Record<string, TableColumn[]> = {
  RoleBinding: bindingColumns(
    'roleBinding',
    'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
  ),
  ClusterRoleBinding: bindingColumns(
    'clusterRoleBinding',
    'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
  ),
  Namespace: [
    NAME_COLUMN,
    { name: 'Status', type: 'string', description: 'The status of the namespace', cell: (o) => o.status?.phase ?? '' },
    age,
  ],
  Secret: [
    NAME_COLUMN,
    { name: 'Type', type: 'string', description: 'Used to facilitate programmatic handling of secret data.', cell: (o) => o.type ?? '' },
    { name: 'Data', type: 'string', description: 'Data contains the secret data.', cell: (o) => count(o.data) },
    age,
  ],
  ConfigMap: [
    NAME_COLUMN,
    {
      name: 'Data',
      type: 'string',
      description: 'Data contains the configuration data.',
      cell: (o) => count(o.data) + count(o.binaryData),
    },
    age,
  ],
  ServiceAccount: [
    NAME_COLUMN,
    {
      name: 'Secrets',
      type: 'string',
      description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
      cell: (o) => (Array.isArray(o.secrets) ? o.secrets.length : 0),
    },
    age,
  ],
  Lease: [
    NAME_COLUMN,
    {
      name: 'Holder',
      type: 'string',
      description: 'holderIdentity contains the identity of the holder of a current lease.',
      cell: (o) => o.spec?.holderIdentity ?? '',
    },
    age,
  ],
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      description: 'The time at which the most recent occurrence of this event was recorded.',
      cell: (o, now) => eventTimes(o, now).last,
    },
    {
      name: 'Type',
      type: 'string',
      description: 'Type of this event (Normal, Warning), new types could be added in the future',
      cell: (o) => o.type ?? '',
    },
    {
      name: 'Reason',
      type: 'string',
      description:
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      cell: (o) => o.reason ?? '',
    },
    { name: 'Object', type: 'string', description: 'The object that this event is about.', cell: eventTarget },
    {
      name: 'Subobject',
      type: 'string',
      priority: 1,
      description: 'The field of the object this event is about.',
      cell: (o) => (o.involvedObject ?? o.regarding)?.fieldPath ?? '',
    },
    { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event.', cell: eventSource },
    {
      name: 'Message',
      type: 'string',
      description: 'A human-readable description of the status of this operation.',
      cell: (o) => String(o.message ?? o.note ?? '').trim(),
    },
    {
      name: 'First Seen',
      type: 'string',
      priority: 1,
      description: 'The time at which the event was first recorded.',
      cell: (o, now) => eventTimes(o, now).first,
    },
    {
      name: 'Count',
      type: 'string',
      priority: 1,
      description: 'The number of times this event has occurred.',
      cell: (o, now) => eventTimes(o, now).count,
    },
    { ...NAME_COLUMN, priority: 1 },
  ],
}

/** rest.DefaultTableConvertor: what kinds without their own printer get (e.g. CustomResourceDefinition); kube's
 * Role and ClusterRole printers print the same two columns. */
const DEFAULT_BUILTIN: TableColumn[] = [
  NAME_COLUMN,
  { name: 'Created At', type: 'date', description: CREATION_DESCRIPTION, cell: (o) => o.metadata?.creationTimestamp ?? null },
]

/**
 * The complete column list (Name included, in kube's order) for a built-in kind. Kinds without a
 * dedicated printer, CustomResourceDefinition among them, get Name and Created At (RFC 3339).
 */
export function builtinColumns(kind: string): TableColumn[] {
  return [...(BUILTIN[kind] ?? DEFAULT_BUILTIN)]
}
