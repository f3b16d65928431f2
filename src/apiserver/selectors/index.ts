// Label and field selectors as kube-apiserver parses and applies them on list and watch.
// Start with parseLabelSelector / parseFieldSelector; both throw SelectorError with a message fit for a 400 Status.
export { SelectorError } from './errors.ts'
export { parseLabelSelector, selectorOf, makeRequirement, NOTHING } from './label.ts'
export type { LabelSelector, LabelRequirement, LabelOperator } from './label.ts'
export { parseFieldSelector } from './field.ts'
export type { FieldSelector, FieldRequirement, FieldOperator } from './field.ts'
export { labelSelectorFromObject } from './object.ts'
export type { LabelSelectorObject, LabelSelectorRequirementObject } from './object.ts'
export { labelKeyErrors, labelValueErrors } from './names.ts'
