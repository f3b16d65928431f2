// Structural schemas of CustomResourceDefinitions: checking, defaulting, pruning and validation.
export type { JSONSchemaProps } from './json-schema-props.ts'
export type { FieldError, FieldErrorReason } from './field-errors.ts'
export { fieldError, joinPath } from './field-errors.ts'
export { structuralViolations } from './structural.ts'
export { applyDefaults, pruneUnknown } from './defaulting.ts'
export { validateValue } from './validation.ts'
