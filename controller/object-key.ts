// The key the controller files an object under (work queue, agent watches, install backoff):
// `namespace/name` for a namespaced object, `name` for a cluster-scoped one.
export function keyOf(obj: { metadata: { namespace?: string, name?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name ?? ''
}
