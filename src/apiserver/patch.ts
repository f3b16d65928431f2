// Applying PATCH bodies: JSON patch (RFC 6902, fast-json-patch), JSON merge patch (RFC 7386,
// json-merge-patch), and strategic merge patch for the built-in kinds (strategic-merge.ts; custom
// resources refuse it with 415, as upstream). Malformed patches are 400s; patches that cannot apply are 422s.

import jsonpatch from 'fast-json-patch'
import mergePatch from 'json-merge-patch'
import { MAX_PATCH_COPY_BYTES } from './limits.ts'
import { ApiError, errors } from './status.ts'
import { strategicMerge } from './strategic-merge.ts'
import { isObject, type KObject } from './types.ts'

export function applyJsonPatch(doc: KObject, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw errors.badRequest('a JSON patch must be an array of operations such as [{"op":"replace","path":"/spec/x","value":1}]')
  for (const [i, op] of patch.entries()) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string')
      throw errors.badRequest(`JSON patch operation ${i} must have string "op" and "path"`)
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op))
      throw errors.badRequest(`JSON patch operation ${i}: unknown op "${op.op}"`)
  }
  try {
    // One operation at a time, so that what copy operations duplicate is bounded before it is made.
    let out: unknown = structuredClone(doc)
    let copied = 0
    for (const [i, op] of (patch as jsonpatch.Operation[]).entries()) {
      if (op.op === 'copy') {
        copied += copySize(out, op.from)
        if (copied > MAX_PATCH_COPY_BYTES)
          throw new ApiError(
            'RequestEntityTooLarge',
            `the JSON patch's copy operations duplicate more than ${MAX_PATCH_COPY_BYTES} bytes (the limit); send the values themselves instead`,
          )
      }
      out = jsonpatch.applyOperation(out, op, true, true, true, i).newDocument
    }
    return out
  } catch (err) {
    if (err instanceof ApiError) throw err
    const e = err as { name?: string; message?: string; index?: number }
    if (e.name === 'TEST_OPERATION_FAILED')
      throw new ApiError(
        'Invalid',
        `the JSON patch test operation ${e.index ?? ''} failed: the value at its path differs`.replace('  ', ' '),
      )
    if (
      e.name === 'SEQUENCE_NOT_AN_ARRAY' ||
      e.name === 'OPERATION_NOT_AN_OBJECT' ||
      e.name === 'OPERATION_OP_INVALID' ||
      e.name === 'OPERATION_PATH_INVALID'
    )
      throw errors.badRequest(`invalid JSON patch: ${firstLine(e.message)}`)
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

function firstLine(s: string | undefined): string {
  return (s ?? 'unknown error').split('\n')[0]
}

export function applyMergePatch(doc: KObject, patch: unknown): unknown {
  if (!isObject(patch)) throw errors.badRequest('a JSON merge patch must be a JSON object such as {"spec":{"x":1}}')
  return mergePatch.apply(structuredClone(doc), patch)
}

/** Strategic merge patch for the built-in kinds, as kube-apiserver applies it (strategic-merge.ts). */
export function applyStrategicMergePatch(doc: KObject, patch: unknown): unknown {
  return strategicMerge(doc, patch)
}
