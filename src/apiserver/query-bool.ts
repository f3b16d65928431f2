// Boolean query parameters (watch, allowWatchBookmarks, sendInitialEvents, force, orphanDependents...)
// read exactly as kube-apiserver reads them, in one place: the authorizer (which decides whether a
// GET is a list or a watch) and the resource handler (which serves it) must never disagree, or a
// request would be authorized as one verb and served as another.
//
// kube-apiserver decodes these parameters with apimachinery's Convert_Slice_string_To_bool /
// Convert_Slice_string_To_Pointer_bool (k8s.io/apimachinery/pkg/runtime/conversion.go), and its
// RequestInfo falls back to the same rule for `watch` (k8s.io/apiserver/pkg/endpoints/request/
// requestinfo.go): only the FIRST value counts; absent reads as false (unset for pointer fields);
// "0" and "false" in any letter case read as false; ANY other value — "true", "True" (the Python
// client's spelling), "1", "t", "yes", even the empty string of `?watch` — reads as true. No value
// is refused, so no 400 comes from here either.
//
// Guarantees
// - One rule for every boolean parameter, shared by authorization and serving.

/** The value of one boolean query parameter as kube-apiserver decodes it (see the header). */
export function parseQueryBool(value: string): boolean {
  // Go's strings.EqualFold folds "ſ" (U+017F, long s) to "s" as well.
  return !(value === '0' || value.toLowerCase().replaceAll('\u017f', 's') === 'false')
}

/** Boolean parameter `name` of `query`: false when absent. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  return queryOptionalBool(query, name) ?? false
}

/** Boolean parameter `name` of `query`: undefined when absent (a DeleteOptions field left unset). */
export function queryOptionalBool(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name)
  return value === null ? undefined : parseQueryBool(value)
}
