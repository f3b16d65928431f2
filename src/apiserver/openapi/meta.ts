// The meta.k8s.io/v1 definitions every group-version document references (ObjectMeta, ListMeta,
// Status, DeleteOptions, Patch, ...), with kube's names, so `kubectl explain x.metadata` reads as
// it does against a real cluster. `ref` builds the reference for OpenAPI v3 or Swagger 2.0.

export type Schema = Record<string, unknown>
export type RefFn = (name: string) => string

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1'
export const OBJECT_META = `${META}.ObjectMeta`
export const LIST_META = `${META}.ListMeta`
export const STATUS = `${META}.Status`
export const DELETE_OPTIONS = `${META}.DeleteOptions`
export const PATCH = `${META}.Patch`
export const WATCH_EVENT = `${META}.WatchEvent`

/** A property that refers to a named definition, the way kube's v3 documents write it. */
export function refProp(ref: RefFn, name: string, description?: string, v2 = false): Schema {
  if (v2) return description ? { $ref: ref(name), description } : { $ref: ref(name) }
  const s: Schema = { allOf: [{ $ref: ref(name) }], default: {} }
  if (description) s.description = description
  return s
}

const str = (description: string): Schema => ({ type: 'string', description })

export const OBJECT_META_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
export const LIST_META_DESCRIPTION =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds'
export const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources'
export const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds'

/** The meta definitions, keyed by their full names. */
export function metaDefinitions(ref: RefFn, v2 = false): Record<string, Schema> {
  const p = (name: string, description?: string) => refProp(ref, name, description, v2)
  const arrayOf = (name: string, description: string): Schema => ({
    type: 'array',
    items: v2 ? { $ref: ref(name) } : { allOf: [{ $ref: ref(name) }], default: {} },
    description,
  })
  return {
    [OBJECT_META]: {
      type: 'object',
      description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
      properties: {
        annotations: {
          type: 'object',
          additionalProperties: { type: 'string', default: '' },
          description:
            'Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations',
        },
        creationTimestamp: p(
          `${META}.Time`,
          'CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only.',
        ),
        deletionGracePeriodSeconds: {
          type: 'integer',
          format: 'int64',
          description:
            'Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set.',
        },
        deletionTimestamp: p(
          `${META}.Time`,
          'DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. Set by the server when a graceful deletion is requested by the user. Read-only.',
        ),
        finalizers: {
          type: 'array',
          items: { type: 'string', default: '' },
          'x-kubernetes-list-type': 'set',
          'x-kubernetes-patch-strategy': 'merge',
          description:
            'Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.',
        },
        generateName: str(
          'GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.',
        ),
        generation: {
          type: 'integer',
          format: 'int64',
          description: 'A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.',
        },
        labels: {
          type: 'object',
          additionalProperties: { type: 'string', default: '' },
          description:
            'Map of string keys and values that can be used to organize and categorize (scope and select) objects. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels',
        },
        managedFields: arrayOf(
          `${META}.ManagedFieldsEntry`,
          "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field.",
        ),
        name: str(
          'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
        ),
        namespace: str(
          'Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the "default" namespace, but "default" is the canonical representation. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces',
        ),
        ownerReferences: {
          ...arrayOf(
            `${META}.OwnerReference`,
            'List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.',
          ),
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['uid'],
          'x-kubernetes-patch-merge-key': 'uid',
          'x-kubernetes-patch-strategy': 'merge',
        },
        resourceVersion: str(
          'An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. Populated by the system. Read-only.',
        ),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
        uid: str(
          'UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations. Populated by the system. Read-only.',
        ),
      },
    },
    [LIST_META]: {
      type: 'object',
      description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.',
      properties: {
        continue: str(
          'continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available.',
        ),
        remainingItemCount: {
          type: 'integer',
          format: 'int64',
          description: 'remainingItemCount is the number of subsequent items in the list which are not included in this list response.',
        },
        resourceVersion: str(
          "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed.",
        ),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
      },
    },
    [`${META}.ManagedFieldsEntry`]: {
      type: 'object',
      description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
      properties: {
        apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
        fieldsType: str(
          'FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: "FieldsV1"',
        ),
        fieldsV1: p(`${META}.FieldsV1`, 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.'),
        manager: str('Manager is an identifier of the workflow managing these fields.'),
        operation: str(
          "Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'.",
        ),
        subresource: str(
          'Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource.',
        ),
        time: p(`${META}.Time`, 'Time is the timestamp of when the ManagedFields entry was added.'),
      },
    },
    [`${META}.FieldsV1`]: {
      type: 'object',
      description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.',
    },
    [`${META}.OwnerReference`]: {
      type: 'object',
      description:
        'OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: { ...str('API version of the referent.'), default: '' },
        blockOwnerDeletion: {
          type: 'boolean',
          description:
            'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.',
        },
        controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
        kind: { ...str('Kind of the referent.'), default: '' },
        name: { ...str('Name of the referent.'), default: '' },
        uid: { ...str('UID of the referent.'), default: '' },
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.Time`]: {
      type: 'string',
      format: 'date-time',
      description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.',
    },
    [`${META}.MicroTime`]: {
      type: 'string',
      format: 'date-time',
      description: 'MicroTime is version of Time with microsecond level precision.',
    },
    [STATUS]: {
      type: 'object',
      description: "Status is a return value for calls that don't return other objects.",
      properties: {
        apiVersion: str(API_VERSION_DESCRIPTION),
        code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status, 0 if not set.' },
        details: p(`${META}.StatusDetails`, 'Extended data associated with the reason.'),
        kind: str(KIND_DESCRIPTION),
        message: str('A human-readable description of the status of this operation.'),
        metadata: p(LIST_META, LIST_META_DESCRIPTION),
        reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
        status: str('Status of the operation. One of: "Success" or "Failure".'),
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
    },
    [`${META}.StatusDetails`]: {
      type: 'object',
      description:
        'StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.',
      properties: {
        causes: {
          ...arrayOf(`${META}.StatusCause`, 'The Causes array includes more details associated with the StatusReason failure.'),
          'x-kubernetes-list-type': 'atomic',
        },
        group: str('The group attribute of the resource associated with the status StatusReason.'),
        kind: str('The kind attribute of the resource associated with the status StatusReason.'),
        name: str(
          'The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described).',
        ),
        retryAfterSeconds: {
          type: 'integer',
          format: 'int32',
          description: 'If specified, the time in seconds before the operation should be retried.',
        },
        uid: str('UID of the resource.'),
      },
    },
    [`${META}.StatusCause`]: {
      type: 'object',
      description:
        'StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.',
      properties: {
        field: str('The field of the resource that has caused this error, as named by its JSON serialization.'),
        message: str('A human-readable description of the cause of the error.'),
        reason: str('A machine-readable description of the cause of the error.'),
      },
    },
    [DELETE_OPTIONS]: {
      type: 'object',
      description: 'DeleteOptions may be provided when deleting an API object.',
      properties: {
        apiVersion: str(API_VERSION_DESCRIPTION),
        dryRun: {
          type: 'array',
          items: { type: 'string', default: '' },
          'x-kubernetes-list-type': 'atomic',
          description: 'When present, indicates that modifications should not be persisted.',
        },
        gracePeriodSeconds: {
          type: 'integer',
          format: 'int64',
          description: 'The duration in seconds before the object should be deleted.',
        },
        kind: str(KIND_DESCRIPTION),
        orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy.' },
        preconditions: p(`${META}.Preconditions`, 'Must be fulfilled before a deletion is carried out.'),
        propagationPolicy: str(
          "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
        ),
      },
    },
    [`${META}.Preconditions`]: {
      type: 'object',
      description: 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.',
      properties: { resourceVersion: str('Specifies the target ResourceVersion'), uid: str('Specifies the target UID.') },
    },
    [PATCH]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
    [WATCH_EVENT]: {
      type: 'object',
      description: 'Event represents a single event to a watched resource.',
      required: ['type', 'object'],
      properties: {
        object: {
          type: 'object',
          description:
            'Object is: * If Type is Added or Modified: the new state of the object. * If Type is Deleted: the state of the object immediately before deletion. * If Type is Error: *Status is recommended; other types may make sense depending on context.',
        },
        type: { type: 'string', default: '' },
      },
    },
  }
}
