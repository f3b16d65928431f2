// Applying PATCH bodies: JSON patch (RFC 6902, fast-json-patch), JSON merge patch (RFC 7386,
// json-merge-patch), and strategic merge patch for the built-in kinds (custom resources refuse it
// with 415, as upstream). Malformed patches are 400s; patches that cannot apply are 422s.

import jsonpatch from 'fast-json-patch'
import mergePatch from 'json-merge-patch'
import { MAX_PATCH_COPY_BYTES } from './limits.ts'
import { ApiError, errors } from './status.ts'
import { isObject, type KObject } from './types.ts'

export function applyJsonPatch(doc: KObject, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations such as [{"op":"replace","path":"/spec/x","value":1}]')
  for (const [i, op] of patch.entries()) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw errors.badRequest(`JSON patch operation ${i} must have string "op" and "path"`)
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op)) throw errors.badRequest(`JSON patch operation ${i}: unknown op "${op.op}"`)
  }
  try {
    // One operation at a time, so that what copy operations duplicate is bounded before it is made.
    let out: unknown = structuredClone(doc)
    let copied = 0
    for (const [i, op] of (patch as jsonpatch.Operation[]).entries()) {
      if (op.op === 'copy') {
        copied += copySize(out, op.from)
        if (copied > MAX_PATCH_COPY_BYTES) throw new ApiError('RequestEntityTooLarge', `the JSON patch's copy operations duplicate more than ${MAX_PATCH_COPY_BYTES} bytes (the limit); send the values themselves instead`)
      }
      out = jsonpatch.applyOperation(out, op, true, true, true, i).newDocument
    }
    return out
  } catch (err) {
    if (err instanceof ApiError) throw err
    const e = err as { name?: string; message?: string; index?: number }
    if (e.name === 'TEST_OPERATION_FAILED') throw new ApiError('Invalid', `the JSON patch test operation ${e.index ?? ''} failed: the value at its path differs`.replace('  ', ' '))
    if (e.name === 'SEQUENCE_NOT_AN_ARRAY' || e.name === 'OPERATION_NOT_AN_OBJECT' || e.name === 'OPERATION_OP_INVALID' || e.name === 'OPERATION_PATH_INVALID') throw errors.badRequest(`invalid JSON patch: ${firstLine(e.message)}`)
    throw new ApiError('Invalid', `the JSON patch could not be applied: ${firstLine(e.message)}`)
  }
}

/** The bytes of the value at `from`; 0 when it does not resolve (applying the copy then reports that). */
function copySize(doc: unknown, from: string): number {
  try {
    return Buffer.byteLength(JSON.stringify(jsonpatch.getValueByPointer(doc, from)) ?? '')
  } catch {
    return 0
  }
}

function firstLine(s: string | undefined): string { return (s ?? 'unknown error').split('\n')[0] }

export function applyMergePatch(doc: KObject, patch: unknown): unknown {
  if (!isObject(patch)) throw errors.badRequest('a JSON merge patch must be a JSON object such as {"spec":{"x":1}}')
  return mergePatch.apply(structuredClone(doc), patch)
}

/** List fields of the built-in kinds merged by key (or by value for primitives) rather than replaced. */
const MERGE_LISTS: Record<string, string | null> = {
  'metadata.finalizers': null,
  'metadata.ownerReferences': 'uid',
  secrets: 'name',
  imagePullSecrets: 'name',
}

/** Strategic merge patch for the built-in kinds: merge patch plus list merge keys and $-directives. */
export function applyStrategicMergePatch(doc: KObject, patch: unknown): unknown {
  if (!isObject(patch)) throw errors.badRequest('a strategic merge patch must be a JSON object')
  return smpObject(structuredClone(doc) as Record<string, unknown>, patch, '')
}

function smpObject(target: Record<string, unknown>, patch: Record<string, unknown>, path: string): Record<string, unknown> | undefined {
  if (patch.$patch === 'delete') return undefined
  if (patch.$patch === 'replace') { const { $patch: _p, ...rest } = patch; return rest }
  const out: Record<string, unknown> = isObject(target) ? target : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x))
      continue
    }
    const p = path ? `${path}.${k}` : k
    if (v === null) { delete out[k]; continue }
    if (Array.isArray(v) && p in MERGE_LISTS && Array.isArray(out[k])) { out[k] = mergeList(out[k] as unknown[], v, MERGE_LISTS[p]); continue }
    if (isObject(v)) {
      const r = smpObject(isObject(out[k]) ? out[k] as Record<string, unknown> : {}, v, p)
      if (r === undefined) delete out[k]
      else out[k] = r
      continue
    }
    out[k] = v
  }
  if (Array.isArray(patch.$retainKeys)) for (const k of Object.keys(out)) if (!(patch.$retainKeys as unknown[]).includes(k)) delete out[k]
  return out
}

function mergeList(cur: unknown[], patch: unknown[], key: string | null): unknown[] {
  if (key === null) {
    const out = [...cur]
    for (const x of patch) if (!out.includes(x)) out.push(x)
    return out
  }
  const out = [...cur]
  for (const item of patch) {
    if (!isObject(item)) continue
    const i = out.findIndex((x) => isObject(x) && x[key] === item[key])
    if (item.$patch === 'delete') { if (i >= 0) out.splice(i, 1); continue }
    if (i >= 0) out[i] = smpObject(out[i] as Record<string, unknown>, item, '')!
    else out.push(item)
  }
  return out
}
