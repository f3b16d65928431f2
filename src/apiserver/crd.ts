// CustomResourceDefinitions: validation (including the structural-schema rules), defaulting, the
// status kube-apiserver reports (NamesAccepted, Established), and the resource type a CRD serves.

import { fieldError, structuralViolations, type FieldError, type FieldErrorReason, type JSONSchemaProps } from './schema/index.ts'
import type { PrinterColumn, ResourceType } from './resource-type.ts'
import { columnPathError } from './table/index.ts'
import { isObject, type KObject } from './types.ts'

interface CrdVersion {
  name: string
  served: boolean
  storage: boolean
  schema?: { openAPIV3Schema?: JSONSchemaProps }
  subresources?: { status?: object; scale?: object }
  additionalPrinterColumns?: PrinterColumn[]
  selectableFields?: Array<{ jsonPath: string }>
}

interface CrdSpec {
  group: string
  scope: 'Namespaced' | 'Cluster'
  names: { kind: string; listKind?: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] }
  versions: CrdVersion[]
  conversion?: { strategy?: string }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const KIND = /^[A-Za-z][A-Za-z0-9]*$/
const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date']

function violationToError(v: string, prefix: string): FieldError {
  const i = v.indexOf(': ')
  const path = `${prefix}.${v.slice(0, i)}`
  const rest = v.slice(i + 2)
  const reason: FieldErrorReason = rest.startsWith('Required value')
    ? 'FieldValueRequired'
    : rest.startsWith('Forbidden')
      ? 'FieldValueForbidden'
      : 'FieldValueInvalid'
  return { field: path, reason, message: `${path}: ${rest}` }
}

/** Fills CRD fields kube-apiserver defaults (singular, listKind, conversion). Mutates `o`. */
export function defaultCrd(o: KObject): void {
  const spec = o.spec as Partial<CrdSpec> | undefined
  if (!isObject(spec)) return
  if (isObject(spec.names)) {
    if (!spec.names.singular && typeof spec.names.kind === 'string') spec.names.singular = spec.names.kind.toLowerCase()
    if (!spec.names.listKind && typeof spec.names.kind === 'string') spec.names.listKind = `${spec.names.kind}List`
  }
  if (!spec.conversion) spec.conversion = { strategy: 'None' }
}

/** Every reason the CRD would be refused, with field paths. */
export function validateCrd(o: KObject): FieldError[] {
  const out: FieldError[] = []
  const spec = o.spec as CrdSpec | undefined
  if (!isObject(spec)) return [fieldError('spec', 'FieldValueRequired', '')]
  if (typeof spec.group !== 'string' || !spec.group) out.push(fieldError('spec.group', 'FieldValueRequired', ''))
  else if (!DNS_SUBDOMAIN.test(spec.group) || !spec.group.includes('.'))
    out.push(fieldError('spec.group', 'FieldValueInvalid', 'should be a domain with at least one dot', spec.group))
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    out.push(fieldError('spec.scope', 'FieldValueNotSupported', 'supported values: "Cluster", "Namespaced"', spec.scope))
  const n = spec.names
  if (!isObject(n)) out.push(fieldError('spec.names', 'FieldValueRequired', ''))
  else {
    if (typeof n.plural !== 'string' || !DNS_LABEL.test(n.plural))
      out.push(
        fieldError('spec.names.plural', n.plural ? 'FieldValueInvalid' : 'FieldValueRequired', 'must be a lowercase DNS label', n.plural),
      )
    if (n.singular !== undefined && (typeof n.singular !== 'string' || !DNS_LABEL.test(n.singular)))
      out.push(fieldError('spec.names.singular', 'FieldValueInvalid', 'must be a lowercase DNS label', n.singular))
    if (typeof n.kind !== 'string' || !KIND.test(n.kind))
      out.push(
        fieldError(
          'spec.names.kind',
          n.kind ? 'FieldValueInvalid' : 'FieldValueRequired',
          'must be an alphanumeric name starting with a letter',
          n.kind,
        ),
      )
    for (const [i, s] of (n.shortNames ?? []).entries())
      if (typeof s !== 'string' || !DNS_LABEL.test(s))
        out.push(fieldError(`spec.names.shortNames[${i}]`, 'FieldValueInvalid', 'must be a lowercase DNS label', s))
    if (typeof n.plural === 'string' && typeof spec.group === 'string' && o.metadata.name !== `${n.plural}.${spec.group}`) {
      out.push(
        fieldError(
          'metadata.name',
          'FieldValueInvalid',
          `must be spec.names.plural+"."+spec.group (${n.plural}.${spec.group})`,
          o.metadata.name,
        ),
      )
    }
  }
  if (spec.conversion?.strategy && spec.conversion.strategy !== 'None') {
    out.push(
      fieldError(
        'spec.conversion.strategy',
        'FieldValueNotSupported',
        'this server supports only "None" (no conversion webhooks)',
        spec.conversion.strategy,
      ),
    )
  }
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) {
    out.push(fieldError('spec.versions', 'FieldValueRequired', 'must have exactly one version marked as storage version'))
    return out
  }
  const names = new Set<string>()
  let storage = 0
  spec.versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`
    if (!isObject(v)) {
      out.push(fieldError(p, 'FieldValueTypeInvalid', 'must be an object', v))
      return
    }
    if (typeof v.name !== 'string' || !DNS_LABEL.test(v.name))
      out.push(fieldError(`${p}.name`, 'FieldValueInvalid', 'must be a DNS label such as v1alpha1', v.name))
    if (names.has(v.name)) out.push(fieldError(`${p}.name`, 'FieldValueDuplicate', 'must be unique', v.name))
    names.add(v.name)
    if (v.storage === true) storage++
    const s = v.schema?.openAPIV3Schema
    if (!isObject(s)) out.push(fieldError(`${p}.schema.openAPIV3Schema`, 'FieldValueRequired', 'schemas are required'))
    else for (const viol of structuralViolations(s)) out.push(violationToError(viol, `${p}.schema`))
    ;(v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const cp = `${p}.additionalPrinterColumns[${j}]`
      if (!c?.name) out.push(fieldError(`${cp}.name`, 'FieldValueRequired', ''))
      if (!COLUMN_TYPES.includes(c?.type))
        out.push(
          fieldError(`${cp}.type`, 'FieldValueNotSupported', `supported values: ${COLUMN_TYPES.map((x) => `"${x}"`).join(', ')}`, c?.type),
        )
      if (typeof c?.jsonPath !== 'string' || !c.jsonPath) out.push(fieldError(`${cp}.jsonPath`, 'FieldValueRequired', ''))
      else {
        const bad = columnPathError(c.jsonPath)
        if (bad) out.push(fieldError(`${cp}.jsonPath`, 'FieldValueInvalid', bad, c.jsonPath))
      }
    })
  })
  if (storage !== 1)
    out.push(fieldError('spec.versions', 'FieldValueInvalid', 'must have exactly one version marked as storage version', storage))
  return out
}

/** The status kube-apiserver reports for an accepted CRD. */
export function crdStatus(o: KObject, old: KObject | undefined, now: string): Record<string, unknown> {
  const spec = o.spec as CrdSpec
  const prevStored = (old?.status as { storedVersions?: string[] } | undefined)?.storedVersions ?? []
  const storageVersion = spec.versions.find((v) => v.storage)!.name
  const before =
    (old?.status as { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? []
  // A condition keeps its lastTransitionTime while its status stays the same.
  const since = (type: string) => before.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? now
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: since(type),
    reason,
    message,
  })
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: { ...spec.names },
    storedVersions: prevStored.includes(storageVersion) ? prevStored : [...prevStored, storageVersion],
  }
}

/** The resource type a valid CRD serves. */
export function crdToType(o: KObject): ResourceType {
  const spec = o.spec as CrdSpec
  const served = spec.versions.filter((v) => v.served !== false)
  served.sort((a, b) => Number(b.storage) - Number(a.storage))
  const n = spec.names
  return {
    group: spec.group,
    resource: n.plural,
    kind: n.kind,
    listKind: n.listKind ?? `${n.kind}List`,
    singular: n.singular ?? n.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    shortNames: n.shortNames ?? [],
    categories: n.categories ?? [],
    versions: served.map((v) => ({
      name: v.name,
      schema: v.schema?.openAPIV3Schema,
      columns: v.additionalPrinterColumns ?? [],
      statusSubresource: isObject(v.subresources?.status),
      selectableFields: (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, '')),
    })),
    gr: `${n.plural}.${spec.group}`,
    builtin: false,
    tracksGeneration: true,
    // The customresource registry leaves ReturnDeletedObject unset: an immediate delete answers with a Status.
    deleteReturnsObject: false,
    allowUnconditionalUpdate: false,
    nameRule: 'dns-subdomain',
    fieldGetters: {},
  }
}
