// Schemas of the built-in kinds the API server serves (Namespace, ConfigMap, Secret, ServiceAccount,
// Event in core/v1 and events.k8s.io/v1, Lease, CustomResourceDefinition, the four RBAC kinds): the fields that matter,
// with kube's descriptions shortened, so kubectl explain and validation probes work for them too.
// Size: mostly data (the built-in kinds' schemas), not logic.

import type { JSONSchemaProps } from '../schema/index.ts'
import type { OpenApiResource } from './resources.ts'

const s = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({ type: 'string', description, ...extra })
const i32 = (description: string): JSONSchemaProps => ({ type: 'integer', format: 'int32', description })
const b = (description: string): JSONSchemaProps => ({ type: 'boolean', description })
const t = (description: string, micro = false): JSONSchemaProps => ({
  type: 'string',
  format: 'date-time',
  description: micro ? `${description} (microsecond precision)` : description,
})
const o = (description: string, properties: Record<string, JSONSchemaProps>, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'object',
  description,
  properties,
  ...extra,
})
const m = (description: string, format?: string): JSONSchemaProps => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string', ...(format ? { format } : {}) },
})
const root = (description: string, properties: Record<string, JSONSchemaProps>, required?: string[]): JSONSchemaProps => ({
  type: 'object',
  description,
  properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...properties },
  ...(required ? { required } : {}),
})

const objectReference = (description: string): JSONSchemaProps =>
  o(
    description,
    {
      apiVersion: s('API version of the referent.'),
      fieldPath: s(
        'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.',
      ),
      kind: s('Kind of the referent.'),
      name: s('Name of the referent.'),
      namespace: s('Namespace of the referent.'),
      resourceVersion: s('Specific resourceVersion to which this reference is made, if any.'),
      uid: s('UID of the referent.'),
    },
    { 'x-kubernetes-map-type': 'atomic' },
  )

const condition = o(
  'A condition of the object at a point in time.',
  {
    lastTransitionTime: t('Last time the condition transitioned from one status to another.'),
    message: s('Human-readable message indicating details about last transition.'),
    reason: s("Unique, one-word, CamelCase reason for the condition's last transition."),
    status: s('Status of the condition, one of True, False, Unknown.'),
    type: s('Type of the condition.'),
  },
  { required: ['type', 'status'] },
)

const namespace = root('Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
  spec: o('Spec defines the behavior of the Namespace.', {
    finalizers: {
      type: 'array',
      items: { type: 'string' },
      'x-kubernetes-list-type': 'atomic',
      description: 'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.',
    },
  }),
  status: o('Status describes the current status of a Namespace.', {
    conditions: {
      type: 'array',
      items: condition,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      description: "Represents the latest available observations of a namespace's current state.",
    },
    phase: s('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
  }),
})

const configMap = root('ConfigMap holds configuration data for pods to consume.', {
  binaryData: m("BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'.", 'byte'),
  data: m("Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'."),
  immutable: b(
    'Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified).',
  ),
})

const secret = root(
  'Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.',
  {
    data: m(
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string.",
      'byte',
    ),
    immutable: b(
      'Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).',
    ),
    stringData: m(
      'stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write.',
    ),
    type: s('Used to facilitate programmatic handling of secret data.'),
  },
)

// patchStrategy "merge" on the Go type: strategic merge patches (kubectl apply, kubectl patch) merge items by name.
const mergeOnName = { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' }
const serviceAccount = root(
  'ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.',
  {
    automountServiceAccountToken: b(
      'AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.',
    ),
    imagePullSecrets: {
      type: 'array',
      items: o(
        'LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.',
        { name: s('Name of the referent.') },
        { 'x-kubernetes-map-type': 'atomic' },
      ),
      'x-kubernetes-list-type': 'atomic',
      description:
        'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.',
    },
    secrets: {
      type: 'array',
      items: objectReference('ObjectReference contains enough information to let you inspect or modify the referred object.'),
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      ...mergeOnName,
      description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
    },
  },
)

const coreEvent = root(
  'Event is a report of an event somewhere in the cluster.',
  {
    action: s('What action was taken/failed regarding to the Regarding object.'),
    count: i32('The number of times this event has occurred.'),
    eventTime: t('Time when this Event was first observed.', true),
    firstTimestamp: t('The time at which the event was first recorded.'),
    involvedObject: objectReference('The object that this event is about.'),
    lastTimestamp: t('The time at which the most recent occurrence of this event was recorded.'),
    message: s('A human-readable description of the status of this operation.'),
    reason: s(
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    related: objectReference('Optional secondary object for more complex actions.'),
    reportingComponent: s('Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
    reportingInstance: s('ID of the controller instance, e.g. `kubelet-xyzf`.'),
    series: o('Data about the Event series this event represents.', {
      count: i32('Number of occurrences in this series up to the last heartbeat time'),
      lastObservedTime: t('Time of the last occurrence observed', true),
    }),
    source: o('The component reporting this event.', {
      component: s('Component from which the event is generated.'),
      host: s('Node name on which the event is generated.'),
    }),
    type: s('Type of this event (Normal, Warning), new types could be added in the future'),
  },
  ['metadata', 'involvedObject'],
)

const eventsEvent = root(
  'Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system.',
  {
    action: s('action is what action was taken/failed regarding to the regarding object.'),
    deprecatedCount: i32('deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.'),
    deprecatedFirstTimestamp: t(
      'deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.',
    ),
    deprecatedLastTimestamp: t('deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.'),
    deprecatedSource: o('deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type.', {
      component: s('Component from which the event is generated.'),
      host: s('Node name on which the event is generated.'),
    }),
    eventTime: t('eventTime is the time when this Event was first observed. It is required.', true),
    note: s('note is a human-readable description of the status of this operation.'),
    reason: s('reason is why the action was taken. It is human-readable.'),
    regarding: objectReference('regarding contains the object this Event is about.'),
    related: objectReference('related is the optional secondary object for more complex actions.'),
    reportingController: s('reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
    reportingInstance: s('reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`.'),
    series: o(
      "series is data about the Event series this event represents or nil if it's a singleton Event.",
      {
        count: i32('count is the number of occurrences in this series up to the last heartbeat time.'),
        lastObservedTime: t('lastObservedTime is the time when last Event from the series was seen before last heartbeat.', true),
      },
      { required: ['count', 'lastObservedTime'] },
    ),
    type: s('type is the type of this event (Normal, Warning), new types could be added in the future.'),
  },
  ['eventTime'],
)

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

const anySchema: JSONSchemaProps = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  description: 'An OpenAPI v3 structural schema (JSONSchemaProps).',
}
const crd = root(
  'CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.',
  {
    spec: o(
      'spec describes how the user wants the resources to appear',
      {
        conversion: o(
          'conversion defines conversion settings for the CRD.',
          { strategy: s('strategy specifies how custom resources are converted between versions: None or Webhook.') },
          { 'x-kubernetes-preserve-unknown-fields': true },
        ),
        group: s('group is the API group of the defined custom resource.'),
        names: o(
          'names specify the resource and kind names for the custom resource.',
          {
            categories: {
              type: 'array',
              items: { type: 'string' },
              'x-kubernetes-list-type': 'atomic',
              description: "categories is a list of grouped resources this custom resource belongs to (e.g. 'all').",
            },
            kind: s('kind is the serialized kind of the resource. It is normally CamelCase and singular.'),
            listKind: s('listKind is the serialized kind of the list for this resource. Defaults to "`kind`List".'),
            plural: s('plural is the plural name of the resource to serve. Must be all lowercase.'),
            shortNames: {
              type: 'array',
              items: { type: 'string' },
              'x-kubernetes-list-type': 'atomic',
              description: 'shortNames are short names for the resource, exposed in API discovery documents.',
            },
            singular: s('singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`.'),
          },
          { required: ['plural', 'kind'] },
        ),
        preserveUnknownFields: b(
          'preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage.',
        ),
        scope: s(
          'scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`.',
        ),
        versions: {
          type: 'array',
          'x-kubernetes-list-type': 'atomic',
          description: 'versions is the list of all API versions of the defined custom resource.',
          items: o(
            'CustomResourceDefinitionVersion describes a version for CRD.',
            {
              additionalPrinterColumns: {
                type: 'array',
                'x-kubernetes-list-type': 'atomic',
                description: 'additionalPrinterColumns specifies additional columns returned in Table output.',
                items: o(
                  'CustomResourceColumnDefinition specifies a column for server side printing.',
                  {
                    description: s('description is a human readable description of this column.'),
                    format: s('format is an optional OpenAPI type definition for this column.'),
                    jsonPath: s(
                      'jsonPath is a simple JSON path evaluated against each custom resource to produce the value for this column.',
                    ),
                    name: s('name is a human readable name for the column.'),
                    priority: i32('priority is an integer defining the relative importance of this column compared to others.'),
                    type: s('type is an OpenAPI type definition for this column.'),
                  },
                  { required: ['name', 'type', 'jsonPath'] },
                ),
              },
              deprecated: b('deprecated indicates this version of the custom resource API is deprecated.'),
              deprecationWarning: s('deprecationWarning overrides the default warning returned to API clients.'),
              name: s('name is the version name, e.g. “v1”, “v2beta1”, etc.'),
              schema: o(
                'schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource.',
                { openAPIV3Schema: anySchema },
              ),
              selectableFields: {
                type: 'array',
                'x-kubernetes-list-type': 'atomic',
                description: 'selectableFields specifies paths to fields that may be used as field selectors.',
                items: o(
                  'SelectableField specifies the JSON path of a field that may be used with field selectors.',
                  {
                    jsonPath: s(
                      'jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value.',
                    ),
                  },
                  { required: ['jsonPath'] },
                ),
              },
              served: b('served is a flag enabling/disabling this version from being served via REST APIs'),
              storage: b(
                'storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true.',
              ),
              subresources: o('subresources specify what subresources this version of the defined custom resource have.', {
                scale: {
                  type: 'object',
                  'x-kubernetes-preserve-unknown-fields': true,
                  description: 'scale indicates the custom resource should serve a `/scale` subresource.',
                },
                status: {
                  type: 'object',
                  'x-kubernetes-preserve-unknown-fields': true,
                  description: 'status indicates the custom resource should serve a `/status` subresource.',
                },
              }),
            },
            { required: ['name', 'served', 'storage'] },
          ),
        },
      },
      { required: ['group', 'names', 'scope', 'versions'] },
    ),
    status: o('status indicates the actual state of the CustomResourceDefinition', {
      acceptedNames: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        description: 'acceptedNames are the names that are actually being used to serve discovery.',
      },
      conditions: {
        type: 'array',
        items: condition,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: 'conditions indicate state for particular aspects of a CustomResourceDefinition',
      },
      storedVersions: {
        type: 'array',
        items: { type: 'string' },
        'x-kubernetes-list-type': 'atomic',
        description: 'storedVersions lists all versions of CustomResources that were ever persisted.',
      },
    }),
  },
  ['spec'],
)

const atomicList = (description: string, items: JSONSchemaProps = { type: 'string' }): JSONSchemaProps => ({
  type: 'array',
  items,
  'x-kubernetes-list-type': 'atomic',
  description,
})
const policyRule = o(
  'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.',
  {
    apiGroups: atomicList(
      'APIGroups is the name of the APIGroup that contains the resources. If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. "" represents the core API group and "*" represents all API groups.',
    ),
    nonResourceURLs: atomicList(
      'NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path. Rules can either apply to API resources (such as "pods" or "secrets") or non-resource URL paths (such as "/api"), but not both.',
    ),
    resourceNames: atomicList(
      'ResourceNames is an optional white list of names that the rule applies to. An empty set means that everything is allowed.',
    ),
    resources: atomicList("Resources is a list of resources this rule applies to. '*' represents all resources."),
    verbs: atomicList("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
  },
  { required: ['verbs'] },
)
const rbacRules = (what: string): JSONSchemaProps => atomicList(`Rules holds all the PolicyRules for this ${what}`, policyRule)
const labelSelector = o(
  'A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.',
  {
    matchExpressions: atomicList(
      'matchExpressions is a list of label selector requirements. The requirements are ANDed.',
      o(
        'A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.',
        {
          key: s('key is the label key that the selector applies to.'),
          operator: s(
            "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.",
          ),
          values: atomicList(
            'values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty.',
          ),
        },
        { required: ['key', 'operator'] },
      ),
    ),
    matchLabels: m(
      'matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value".',
    ),
  },
  { 'x-kubernetes-map-type': 'atomic' },
)
const subject = o(
  'Subject contains a reference to the object or user identities a role binding applies to. This can either hold a direct API object reference, or a value for non-objects such as user and group names.',
  {
    apiGroup: s(
      'APIGroup holds the API group of the referenced subject. Defaults to "" for ServiceAccount subjects. Defaults to "rbac.authorization.k8s.io" for User and Group subjects.',
    ),
    kind: s(
      'Kind of object being referenced. Values defined by this API group are "User", "Group", and "ServiceAccount". If the Authorizer does not recognized the kind value, the Authorizer should report an error.',
    ),
    name: s('Name of the object being referenced.'),
    namespace: s(
      'Namespace of the referenced object. If the object kind is non-namespace, such as "User" or "Group", and this value is not empty the Authorizer should report an error.',
    ),
  },
  { required: ['kind', 'name'], 'x-kubernetes-map-type': 'atomic' },
)
const roleRef = o(
  'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
  {
    apiGroup: s('APIGroup is the group for the resource being referenced'),
    kind: s('Kind is the type of resource being referenced'),
    name: s('Name is the name of resource being referenced'),
  },
  { required: ['apiGroup', 'kind', 'name'], 'x-kubernetes-map-type': 'atomic' },
)
const subjects = atomicList('Subjects holds references to the objects the role applies to.', subject)

const role = root('Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.', {
  rules: rbacRules('Role'),
})
const clusterRole = root(
  'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.',
  {
    aggregationRule: o(
      'AggregationRule is an optional field that describes how to build the Rules for this ClusterRole. If AggregationRule is set, then the Rules are controller managed and direct changes to Rules will be stomped by the controller.',
      {
        clusterRoleSelectors: atomicList(
          "ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules. If any of the selectors match, then the ClusterRole's permissions will be added",
          labelSelector,
        ),
      },
    ),
    rules: rbacRules('ClusterRole'),
  },
)
const roleBinding = root(
  'RoleBinding references a role, but does not contain it. It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in. RoleBindings in a given namespace only have effect in that namespace.',
  { roleRef, subjects },
  ['roleRef'],
)
const clusterRoleBinding = root(
  'ClusterRoleBinding references a ClusterRole, but not contain it. It can reference a ClusterRole in the global namespace, and adds who information via Subject.',
  {
    roleRef: {
      ...roleRef,
      description:
        'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
    },
    subjects,
  },
  ['roleRef'],
)

const res = (
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  schema: JSONSchemaProps,
  statusSubresource = false,
): OpenApiResource => ({
  group,
  kind,
  listKind: `${kind}List`,
  resource,
  namespaced,
  builtin: true,
  versions: [{ name: version, schema, statusSubresource }],
})

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
  res('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, role),
  res('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, clusterRole),
  res('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, roleBinding),
  res('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, clusterRoleBinding),
]

/** The schema of a built-in kind (also usable as the schema for server-side apply). */
export function builtinSchema(group: string, version: string, kind: string): JSONSchemaProps | undefined {
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.kind === kind && r.versions[0]!.name === version)?.versions[0]?.schema
}
