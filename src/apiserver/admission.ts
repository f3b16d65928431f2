// The checks every write goes through, in kube-apiserver's order: kind-specific normalization,
// pruning of unknown fields (reported per fieldValidation), schema defaulting, then validation of
// metadata, schema and kind rules. A write that fails any check is refused whole (422 Invalid).

import { applyDefaults, pruneUnknown, validateValue, type FieldError } from './schema/index.ts'
import { checkNestingDepth } from './limits.ts'
import { metadataErrors, nameErrors } from './object-meta.ts'
import type { ResourceType, ResourceVersionInfo } from './resource-type.ts'
import { errors } from './status.ts'
import { isObject, type KObject } from './types.ts'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

const META_KEYS = new Set([
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
  'selfLink',
])

export interface AdmitOptions {
  fieldValidation: FieldValidation
  /** Collects Warning-header texts. */
  warnings: string[]
}

/**
 * Normalizes, prunes, defaults and validates `obj` in place. Throws 400 (Strict unknown fields)
 * or 422 Invalid with every field error.
 */
export function admit(t: ResourceType, v: ResourceVersionInfo, obj: KObject, old: KObject | undefined, opts: AdmitOptions): void {
  t.normalize?.(obj, old)
  const unknown: string[] = []
  for (const k of Object.keys(obj.metadata)) {
    if (!META_KEYS.has(k)) {
      delete obj.metadata[k]
      unknown.push(`metadata.${k}`)
    }
  }
  if (v.schema) {
    unknown.push(...pruneUnknown(v.schema, obj, '', true))
    applyDefaults(v.schema, obj)
  }
  if (unknown.length > 0) {
    if (opts.fieldValidation === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${unknown.map((p) => `unknown field "${p}"`).join(', ')}`)
    }
    if (opts.fieldValidation === 'Warn') for (const p of unknown) opts.warnings.push(`unknown field "${p}"`)
  }
  const errs: FieldError[] = []
  errs.push(...nameErrors(obj.metadata.name, t.nameRule))
  errs.push(...metadataErrors(obj.metadata, t.namespaced))
  if (v.schema) errs.push(...validateValue(v.schema, obj).filter((e) => !e.field.startsWith('metadata')))
  if (t.validate) errs.push(...t.validate(obj, old))
  if (errs.length > 0) {
    throw errors.invalid(
      t.group,
      t.kind,
      obj.metadata.name ?? '',
      errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
    )
  }
}

/** The body's apiVersion/kind/metadata shape checks that come before anything else (400s). */
export function checkEnvelope(body: unknown, t: ResourceType, apiVersion: string, opts: { defaultFromEndpoint?: boolean } = {}): KObject {
  // Patches can deepen an object beyond any one body; every walk below recurses per level.
  checkNestingDepth(body, `the ${t.kind}`)
  if (!isObject(body)) throw errors.badRequest(`the request body must be a JSON object describing a ${t.kind}`)
  // kube-apiserver's typed decoder fills a built-in's missing kind and apiVersion from the endpoint
  // (typed clients such as the Python one leave them out); custom resources must carry both.
  if (opts.defaultFromEndpoint && t.builtin) {
    if (body.kind === undefined || body.kind === '') body.kind = t.kind
    if (body.apiVersion === undefined || body.apiVersion === '') body.apiVersion = apiVersion
  }
  if (body.kind === undefined || body.kind === '')
    throw errors.badRequest(`Object 'Kind' is missing in the request body; set kind: ${t.kind}`)
  if (body.apiVersion === undefined || body.apiVersion === '')
    throw errors.badRequest(`Object 'apiVersion' is missing in the request body; set apiVersion: ${apiVersion}`)
  if (body.kind !== t.kind)
    throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${t.kind}) of this endpoint`)
  if (body.apiVersion !== apiVersion)
    throw errors.badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    )
  if (body.metadata === undefined || body.metadata === null) body.metadata = {}
  if (!isObject(body.metadata)) throw errors.badRequest('metadata must be an object')
  return body as KObject
}
