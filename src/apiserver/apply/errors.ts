// Errors server-side apply reports for a bad apply configuration; the API server maps them to a
// 400 BadRequest Status (conflicts are not errors: applyPatch returns them).

export class ApplyError extends Error {
  /** Stable code: 'BadRequest' for an unusable apply configuration. */
  readonly code = 'BadRequest'
  override name = 'ApplyError'
}
