// The request and response envelope of the create-only, never-stored kinds (the review APIs and
// TokenRequest): the body is read as JSON, YAML or protobuf (kubectl's typed clients send
// protobuf), its apiVersion/kind must be the endpoint's when given, and the answer is the object
// with its status filled in, 201 Created, as kube-apiserver answers.

import type { FastifyReply, FastifyRequest } from 'fastify'
import { bodyFormat, decodeBody } from '../negotiate.ts'
import { fieldError } from '../schema/index.ts'
import { errors } from '../status.ts'
import { isObject } from '../types.ts'

export interface CreateOnlyKind {
  group: string
  version: string
  kind: string
}

export type Body = Record<string, unknown>

/** The request body as an object of `k`; 400/415/422 otherwise. */
export function readBody(req: FastifyRequest, k: CreateOnlyKind): Body {
  const body = decodeBody(req.body as Buffer | undefined, bodyFormat(req.headers['content-type'], ['json', 'yaml', 'protobuf']))
  if (!isObject(body)) throw errors.badRequest(`the request body must be a ${k.kind} object`)
  const apiVersion = `${k.group}/${k.version}`
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion)
    throw errors.badRequest(
      `the body's apiVersion ${JSON.stringify(body.apiVersion)} is not ${apiVersion}; send a ${k.kind} of ${apiVersion}`,
    )
  if (body.kind !== undefined && body.kind !== k.kind)
    throw errors.badRequest(`the body's kind ${JSON.stringify(body.kind)} is not ${k.kind} (this endpoint creates ${k.kind} only)`)
  if (body.metadata !== undefined && !isObject(body.metadata))
    throw errors.invalid(k.group, k.kind, '', [fieldError('metadata', 'FieldValueInvalid', 'must be an object', body.metadata)])
  if (body.spec !== undefined && body.spec !== null && !isObject(body.spec))
    throw errors.invalid(k.group, k.kind, '', [fieldError('spec', 'FieldValueInvalid', 'must be an object', body.spec)])
  return body
}

/** `v` as a string field at `path` ("" when absent); 422 for another type. */
export function stringField(k: CreateOnlyKind, v: unknown, path: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw errors.invalid(k.group, k.kind, '', [fieldError(path, 'FieldValueInvalid', 'must be a string', v)])
  return v
}

/** `v` as a list of strings at `path` ([] when absent); 422 otherwise. */
export function stringList(k: CreateOnlyKind, v: unknown, path: string): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw errors.invalid(k.group, k.kind, '', [fieldError(path, 'FieldValueInvalid', 'must be a list of strings', v)])
  return v as string[]
}

/** Sends the answer: the object as created (never stored), 201. */
export function sendCreated(reply: FastifyReply, k: CreateOnlyKind, metadata: unknown, rest: Body): FastifyReply {
  const meta = { ...(isObject(metadata) ? metadata : {}), creationTimestamp: null }
  return reply
    .code(201)
    .type('application/json')
    .send(JSON.stringify({ kind: k.kind, apiVersion: `${k.group}/${k.version}`, metadata: meta, ...rest }))
}
