// metav1.Table rendering (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), cell for cell as
// kube-apiserver's CRD table convertor and built-in printers produce them, so `kubectl get` prints
// exactly what it prints against a real cluster.

import { parseJsonPath, evaluateSegments, type Segment } from './jsonpath.ts'
import { ageOf } from './duration.ts'
import { NAME_COLUMN, DEFAULT_CRD_COLUMNS, type TableColumn } from './columns.ts'
import type { JsonObject } from '../types.ts'

type Obj = JsonObject

export type IncludeObject = 'None' | 'Metadata' | 'Object'

export interface ListMeta {
  resourceVersion?: string
  continue?: string
  remainingItemCount?: number
}

export interface TableColumnDefinition {
  name: string
  type: string
  format: string
  description: string
  priority: number
}

export interface TableRow {
  cells: unknown[]
  object: unknown
}

export interface Table {
  kind: 'Table'
  apiVersion: 'meta.k8s.io/v1'
  metadata: ListMeta
  columnDefinitions?: TableColumnDefinition[]
  rows: TableRow[]
}

export interface RenderOptions {
  /** What each row carries: nothing, a PartialObjectMetadata (kube's default), or the whole object. */
  includeObject?: IncludeObject
  /** The list's metadata; for a single object the object's resourceVersion is used. */
  listMeta?: ListMeta
  /** TableOptions.noHeaders: leave out columnDefinitions (kubectl sets it on watch events after the first). */
  noHeaders?: boolean
  /** The clock ages are measured against. */
  now?: Date
}

/** Go's json.Marshal sorts map keys; kubectl shows object cells that way. */
function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  )
}

/** Go's %v for a float64: shortest digits, exponent form below 1e-4 and from 1e21, two-digit exponent. */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'
  if (n === 0) return '0'
  const exp = Math.floor(Math.log10(Math.abs(n)))
  if (exp >= -4 && exp < 21) return String(n)
  return n.toExponential().replace(/e([+-])(\d)$/, (_m, sign: string, digit: string) => `e${sign}0${digit}`)
}

/** How kubectl's JSONPath printer shows a value in a string column. */
function printed(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'object') return sortedJson(v)
  if (typeof v === 'number') return goNumber(v)
  return String(v)
}

/** cellForJSONValue: a value of the wrong JSON type for the column renders as an empty cell. */
function typedCell(type: string, v: unknown, now: Date): unknown {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'string':
      return printed(v)
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null
    case 'number':
      return typeof v === 'number' ? v : null
    case 'boolean':
      return typeof v === 'boolean' ? v : null
    case 'date':
      return typeof v === 'string' ? ageOf(v, now) : null
    default:
      return null
  }
}

interface CompiledColumn {
  def: TableColumnDefinition
  cell: (obj: Obj, now: Date) => unknown
}

function compile(col: TableColumn): CompiledColumn {
  const def: TableColumnDefinition = {
    name: col.name,
    type: col.type,
    format: col.format ?? '',
    description: col.description ?? (col.jsonPath ? `Custom resource definition column (in JSONPath format): ${col.jsonPath}` : ''),
    priority: col.priority ?? 0,
  }
  if (col.cell) return { def, cell: col.cell }
  let segs: Segment[] | undefined
  try {
    segs = col.jsonPath ? parseJsonPath(col.jsonPath) : undefined
  } catch {
    segs = undefined
  }
  return {
    def,
    cell: (obj, now) => {
      if (!segs) return null
      const found = evaluateSegments(obj, segs)
      return found.length === 0 ? null : typedCell(col.type, found[0], now)
    },
  }
}

/** The full column list a CRD version is served with: Name, then its columns (or Age when it has none). */
export function crdTableColumns(additionalPrinterColumns: readonly TableColumn[] | undefined): TableColumn[] {
  const cols = additionalPrinterColumns && additionalPrinterColumns.length > 0 ? additionalPrinterColumns : DEFAULT_CRD_COLUMNS
  return [NAME_COLUMN, ...cols]
}

function rowObject(obj: Obj, include: IncludeObject): unknown {
  if (include === 'None') return null
  if (include === 'Object') return obj
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} }
}

/**
 * Renders objects as a metav1.Table. `columns` is either a CRD version's additionalPrinterColumns
 * (Name is put first, and an empty list means Age, as upstream) or a complete built-in list from
 * builtinColumns() (recognised by its Name column, which CRD columns cannot carry).
 */
export function renderTable(objs: readonly Obj[], columns: readonly TableColumn[], opts: RenderOptions = {}): Table {
  const full = columns.some((c) => c.role === 'name') ? [...columns] : crdTableColumns(columns)
  const compiled = full.map(compile)
  const now = opts.now ?? new Date()
  const include = opts.includeObject ?? 'Metadata'
  const metadata: ListMeta = {}
  const lm: ListMeta = opts.listMeta ?? (objs.length === 1 ? { resourceVersion: objs[0]!.metadata?.resourceVersion } : {})
  if (lm.resourceVersion) metadata.resourceVersion = lm.resourceVersion
  if (lm.continue) metadata.continue = lm.continue
  if (lm.remainingItemCount !== undefined && lm.remainingItemCount !== null) metadata.remainingItemCount = lm.remainingItemCount
  const table: Table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, rows: [] }
  if (!opts.noHeaders) table.columnDefinitions = compiled.map((c) => c.def)
  table.rows = objs.map((o) => ({ cells: compiled.map((c) => c.cell(o, now)), object: rowObject(o, include) }))
  return table
}
