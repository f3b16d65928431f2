// Schemas of the built-in kinds the API server serves (Namespace, ConfigMap, Secret, ServiceAccount,
// Event in core/v1 and events.k8s.io/v1, Lease, CustomResourceDefinition): the fields that matter,
// with kube's descriptions shortened, so kubectl explain and validation probes work for them too.

import type { JSONSchemaProps } from '../schema/index.ts'
import type { OpenApiResource } from './resources.ts'

const s = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({ type: 'string', description, ...extra })
const i32 = (description: string): JSONSchemaProps => ({ type: 'integer', format: 'int32', description })
const b = (description: string): JSONSchemaProps => ({ type: 'boolean', description })
const t = (description: string, micro = false): JSONSchemaProps => ({ type: 'string', format: 'date-time', description: micro ? `${description} (microsecond precision)` : description })
const o = (description: string, properties: Record<string, JSONSchemaProps>, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({ type: 'object', description, properties, ...extra })
const m = (description: string, format?: string): JSONSchemaProps => ({ type: 'object', description, additionalProperties: { type: 'string', ...(format ? { format } : {}) } })
const root = (description: string, properties: Record<string, JSONSchemaProps>, required?: string[]): JSONSchemaProps =>
  ({ type: 'object', description, properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...properties }, ...(required ? { required } : {}) })

const objectReference = (description: string): JSONSchemaProps => o(description, {
  apiVersion: s('API version of the referent.'), fieldPath: s('If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
  kind: s('Kind of the referent.'), name: s('Name of the referent.'), namespace: s('Namespace of the referent.'), resourceVersion: s('Specific resourceVersion to which this reference is made, if any.'), uid: s('UID of the referent.'),
}, { 'x-kubernetes-map-type': 'atomic' })

const condition = o('A condition of the object at a point in time.', {
  lastTransitionTime: t('Last time the condition transitioned from one status to another.'), message: s('Human-readable message indicating details about last transition.'),
  reason: s("Unique, one-word, CamelCase reason for the condition's last transition."), status: s('Status of the condition, one of True, False, Unknown.'), type: s('Type of the condition.'),
}, { required: ['type', 'status'] })

const namespace = root('Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
  spec: o('Spec defines the behavior of the Namespace.', { finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic', description: 'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.' } }),
  status: o('Status describes the current status of a Namespace.', {
    conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description: "Represents the latest available observations of a namespace's current state." },
    phase: s('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
  }),
})

const configMap = root('ConfigMap holds configuration data for pods to consume.', {
  binaryData: m('BinaryData contains the binary data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'.', 'byte'),
  data: m('Data contains the configuration data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'.'),
  immutable: b('Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified).'),
})

const secret = root('Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.', {
  data: m('Data contains the secret data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. The serialized form of the secret data is a base64 encoded string.', 'byte'),
  immutable: b('Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).'),
  stringData: m('stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write.'),
  type: s('Used to facilitate programmatic handling of secret data.'),
})

const serviceAccount = root('ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.', {
  automountServiceAccountToken: b('AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.'),
  imagePullSecrets: { type: 'array', items: o('LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.', { name: s('Name of the referent.') }, { 'x-kubernetes-map-type': 'atomic' }), 'x-kubernetes-list-type': 'atomic', description: 'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.' },
  secrets: { type: 'array', items: objectReference('ObjectReference contains enough information to let you inspect or modify the referred object.'), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.' },
})

const coreEvent = root('Event is a report of an event somewhere in the cluster.', {
  action: s('What action was taken/failed regarding to the Regarding object.'),
  count: i32('The number of times this event has occurred.'),
  eventTime: t('Time when this Event was first observed.', true),
  firstTimestamp: t('The time at which the event was first recorded.'),
  involvedObject: objectReference('The object that this event is about.'),
  lastTimestamp: t('The time at which the most recent occurrence of this event was recorded.'),
  message: s('A human-readable description of the status of this operation.'),
  reason: s("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  related: objectReference('Optional secondary object for more complex actions.'),
  reportingComponent: s('Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
  reportingInstance: s('ID of the controller instance, e.g. `kubelet-xyzf`.'),
  series: o('Data about the Event series this event represents.', { count: i32('Number of occurrences in this series up to the last heartbeat time'), lastObservedTime: t('Time of the last occurrence observed', true) }),
  source: o('The component reporting this event.', { component: s('Component from which the event is generated.'), host: s('Node name on which the event is generated.') }),
  type: s('Type of this event (Normal, Warning), new types could be added in the future'),
}, ['metadata', 'involvedObject'])

const eventsEvent = root('Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system.', {
  action: s('action is what action was taken/failed regarding to the regarding object.'),
  deprecatedCount: i32('deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.'),
  deprecatedFirstTimestamp: t('deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.'),
  deprecatedLastTimestamp: t('deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.'),
  deprecatedSource: o('deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type.', { component: s('Component from which the event is generated.'), host: s('Node name on which the event is generated.') }),
  eventTime: t('eventTime is the time when this Event was first observed. It is required.', true),
  note: s('note is a human-readable description of the status of this operation.'),
  reason: s('reason is why the action was taken. It is human-readable.'),
  regarding: objectReference('regarding contains the object this Event is about.'),
  related: objectReference('related is the optional secondary object for more complex actions.'),
  reportingController: s('reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
  reportingInstance: s('reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`.'),
  series: o('series is data about the Event series this event represents or nil if it\'s a singleton Event.', { count: i32('count is the number of occurrences in this series up to the last heartbeat time.'), lastObservedTime: t('lastObservedTime is the time when last Event from the series was seen before last heartbeat.', true) }, { required: ['count', 'lastObservedTime'] }),
  type: s('type is the type of this event (Normal, Warning), new types could be added in the future.'),
}, ['eventTime'])

const lease = root('Lease defines a lease concept.', {
  spec: o('spec contains the specification of the Lease.', {
    acquireTime: t('acquireTime is a time when the current lease was acquired.', true),
    holderIdentity: s('holderIdentity contains the identity of the holder of a current lease.'),
    leaseDurationSeconds: i32('leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.'),
    leaseTransitions: i32('leaseTransitions is the number of transitions of a lease between holders.'),
    preferredHolder: s('PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up.'),
    renewTime: t('renewTime is a time when the current holder of a lease has last updated the lease.', true),
    strategy: s('Strategy indicates the strategy for picking the leader for coordinated leader election.'),
  }),
})

const anySchema: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'An OpenAPI v3 structural schema (JSONSchemaProps).' }
const crd = root('CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.', {
  spec: o('spec describes how the user wants the resources to appear', {
    conversion: o('conversion defines conversion settings for the CRD.', { strategy: s('strategy specifies how custom resources are converted between versions: None or Webhook.') }, { 'x-kubernetes-preserve-unknown-fields': true }),
    group: s('group is the API group of the defined custom resource.'),
    names: o('names specify the resource and kind names for the custom resource.', {
      categories: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic', description: 'categories is a list of grouped resources this custom resource belongs to (e.g. \'all\').' },
      kind: s('kind is the serialized kind of the resource. It is normally CamelCase and singular.'),
      listKind: s('listKind is the serialized kind of the list for this resource. Defaults to "`kind`List".'),
      plural: s('plural is the plural name of the resource to serve. Must be all lowercase.'),
      shortNames: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic', description: 'shortNames are short names for the resource, exposed in API discovery documents.' },
      singular: s('singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`.'),
    }, { required: ['plural', 'kind'] }),
    preserveUnknownFields: b('preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage.'),
    scope: s('scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`.'),
    versions: {
      type: 'array', 'x-kubernetes-list-type': 'atomic', description: 'versions is the list of all API versions of the defined custom resource.',
      items: o('CustomResourceDefinitionVersion describes a version for CRD.', {
        additionalPrinterColumns: { type: 'array', 'x-kubernetes-list-type': 'atomic', description: 'additionalPrinterColumns specifies additional columns returned in Table output.', items: o('CustomResourceColumnDefinition specifies a column for server side printing.', { description: s('description is a human readable description of this column.'), format: s('format is an optional OpenAPI type definition for this column.'), jsonPath: s('jsonPath is a simple JSON path evaluated against each custom resource to produce the value for this column.'), name: s('name is a human readable name for the column.'), priority: i32('priority is an integer defining the relative importance of this column compared to others.'), type: s('type is an OpenAPI type definition for this column.') }, { required: ['name', 'type', 'jsonPath'] }) },
        deprecated: b('deprecated indicates this version of the custom resource API is deprecated.'),
        deprecationWarning: s('deprecationWarning overrides the default warning returned to API clients.'),
        name: s('name is the version name, e.g. “v1”, “v2beta1”, etc.'),
        schema: o('schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource.', { openAPIV3Schema: anySchema }),
        selectableFields: { type: 'array', 'x-kubernetes-list-type': 'atomic', description: 'selectableFields specifies paths to fields that may be used as field selectors.', items: o('SelectableField specifies the JSON path of a field that may be used with field selectors.', { jsonPath: s('jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value.') }, { required: ['jsonPath'] }) },
        served: b('served is a flag enabling/disabling this version from being served via REST APIs'),
        storage: b('storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true.'),
        subresources: o('subresources specify what subresources this version of the defined custom resource have.', { scale: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'scale indicates the custom resource should serve a `/scale` subresource.' }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'status indicates the custom resource should serve a `/status` subresource.' } }),
      }, { required: ['name', 'served', 'storage'] }),
    },
  }, { required: ['group', 'names', 'scope', 'versions'] }),
  status: o('status indicates the actual state of the CustomResourceDefinition', {
    acceptedNames: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'acceptedNames are the names that are actually being used to serve discovery.' },
    conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description: 'conditions indicate state for particular aspects of a CustomResourceDefinition' },
    storedVersions: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic', description: 'storedVersions lists all versions of CustomResources that were ever persisted.' },
  }),
}, ['spec'])

const res = (group: string, version: string, kind: string, resource: string, namespaced: boolean, schema: JSONSchemaProps, statusSubresource = false): OpenApiResource =>
  ({ group, kind, listKind: `${kind}List`, resource, namespaced, builtin: true, versions: [{ name: version, schema, statusSubresource }] })

/** The built-in resources, one entry per group-version. */
export const BUILTIN_RESOURCES: readonly OpenApiResource[] = [
  res('', 'v1', 'Namespace', 'namespaces', false, namespace, true),
  res('', 'v1', 'ConfigMap', 'configmaps', true, configMap),
  res('', 'v1', 'Secret', 'secrets', true, secret),
  res('', 'v1', 'ServiceAccount', 'serviceaccounts', true, serviceAccount),
  res('', 'v1', 'Event', 'events', true, coreEvent),
  res('events.k8s.io', 'v1', 'Event', 'events', true, eventsEvent),
  res('coordination.k8s.io', 'v1', 'Lease', 'leases', true, lease),
  res('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, crd, true),
]

/** The schema of a built-in kind (also usable as the schema for server-side apply). */
export function builtinSchema(group: string, version: string, kind: string): JSONSchemaProps | undefined {
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.kind === kind && r.versions[0]!.name === version)?.versions[0]!.schema
}
