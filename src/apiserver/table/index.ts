// metav1.Table rendering for `kubectl get`: CRD additionalPrinterColumns (kubectl JSONPath) and the
// built-in kinds' printer columns. Start with renderTable(objs, crd.additionalPrinterColumns ?? [], {...}).
export { renderTable, crdTableColumns } from './render.ts'
export type { Table, TableRow, TableColumnDefinition, RenderOptions, IncludeObject, ListMeta } from './render.ts'
export { builtinColumns, NAME_COLUMN, DEFAULT_CRD_COLUMNS } from './columns.ts'
export type { TableColumn, ColumnType } from './columns.ts'
export { evaluateJsonPath, isValidColumnPath, columnPathError, parseJsonPath, JsonPathError } from './jsonpath.ts'
export { humanDuration, ageOf } from './duration.ts'
