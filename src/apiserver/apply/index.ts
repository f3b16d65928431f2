// Server-side apply (structured-merge-diff semantics) and managedFields tracking for every write.
// Start with applyPatch for application/apply-patch+yaml and trackUpdate for create/update/patch.
export { applyPatch, trackUpdate, conflictMessage, conflictCauses, LAST_APPLIED_ANNOTATION } from './apply.ts'
export type { ApplyInput, ApplyResult, UpdateInput, Conflict } from './apply.ts'
export type { ManagedFieldsEntry } from './managers.ts'
export { ApplyError } from './errors.ts'
export { FieldSet, pathString } from './fieldset.ts'
export { OBJECT_META_SCHEMA } from './schema.ts'
