// The TokenRequest API: POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token (authorized as
// `create` on serviceaccounts/token, like any request) issues a ServiceAccount token, as
// kube-apiserver does for `kubectl create token <sa> [--duration] [--audience]`.
//
// Guarantees
// - spec.expirationSeconds defaults to 3600, is refused below 600 (422, kube's wording) and is
//   shortened to MAX_EXPIRATION_SECONDS (1 year) above it; the answer's spec says what was issued.
// - spec.audiences defaults to the API server's own audience; a token for other audiences is not
//   accepted by this server (TokenReview can still check it for those audiences).
// - spec.boundObjectRef is refused: nothing here runs Pods to bind a token to.
// - The token appears only in the response body.

import type { FastifyReply, FastifyRequest } from 'fastify'
import { fieldError } from '../schema/index.ts'
import type { ObjectService } from '../service.ts'
import type { ResourceRegistry } from '../registry.ts'
import { errors } from '../status.ts'
import { isObject } from '../types.ts'
import { readBody, sendCreated, stringList, type CreateOnlyKind } from '../reviews/envelope.ts'
import {
  API_AUDIENCES,
  DEFAULT_EXPIRATION_SECONDS,
  MAX_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  type ServiceAccountTokens,
} from './service-account-tokens.ts'

export const TOKEN_REQUEST: CreateOnlyKind = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }

export async function tokenRequest(
  req: FastifyRequest,
  reply: FastifyReply,
  namespace: string,
  name: string,
  deps: { service: ObjectService; registry: ResourceRegistry; tokens: ServiceAccountTokens },
): Promise<FastifyReply> {
  const k = TOKEN_REQUEST
  const body = readBody(req, k)
  const spec = isObject(body.spec) ? body.spec : {}
  const invalid = (field: string, detail: string, value?: unknown) =>
    errors.invalid(k.group, k.kind, name, [fieldError(field, 'FieldValueInvalid', detail, value)])
  let seconds = DEFAULT_EXPIRATION_SECONDS
  if (spec.expirationSeconds != null) {
    const v = spec.expirationSeconds
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid('spec.expirationSeconds', 'must be an integer number of seconds', v)
    if (v < MIN_EXPIRATION_SECONDS) throw invalid('spec.expirationSeconds', 'may not specify a duration less than 10 minutes', v)
    if (v > 2 ** 32) throw invalid('spec.expirationSeconds', 'may not specify a duration larger than 2^32 seconds', v)
    seconds = Math.min(v, MAX_EXPIRATION_SECONDS)
  }
  const asked = stringList(k, spec.audiences, 'spec.audiences')
  if (asked.some((a) => a === '')) throw invalid('spec.audiences', 'an audience may not be empty', asked)
  const audiences = asked.length ? asked : API_AUDIENCES
  if (spec.boundObjectRef != null)
    throw errors.invalid(k.group, k.kind, name, [
      fieldError(
        'spec.boundObjectRef',
        'FieldValueNotSupported',
        'this server binds tokens to their ServiceAccount only; leave boundObjectRef out',
        spec.boundObjectRef,
      ),
    ])
  const sa = deps.service.get(deps.registry.byGr('serviceaccounts')!, namespace, name).obj
  if (sa.metadata.deletionTimestamp) throw errors.forbidden(`serviceaccounts "${name}" is being deleted; no tokens are issued for it`)
  const issued = await deps.tokens.issue({ namespace, name, uid: sa.metadata.uid! }, audiences, seconds)
  return sendCreated(
    reply,
    k,
    { name, namespace },
    {
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: null },
      status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
  )
}
