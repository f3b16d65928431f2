// The create-only, never-stored endpoints: authentication.k8s.io/v1 SelfSubjectReview and
// TokenReview, authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview,
// LocalSubjectAccessReview and SelfSubjectRulesReview, and the TokenRequest subresource
// serviceaccounts/token. One table says what exists: routing reads it and so does discovery
// (verbs [create]), so kubectl finds each one where it is served.
//
// Guarantees
// - Only POST is served (405 otherwise); nothing is ever written to the store.
// - The request was authenticated, impersonated and authorized (verb create on the resource) by
//   the server before it gets here; the answers use the same authorizer.

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authorizer, RuleResolver } from '../authorizer.ts'
import type { Authenticator } from '../authn/index.ts'
import { tokenRequest, TOKEN_REQUEST } from '../authn/token-request.ts'
import type { ExtraResource } from '../discovery.ts'
import type { PathTarget } from '../paths.ts'
import type { ResourceRegistry } from '../registry.ts'
import type { ObjectService } from '../service.ts'
import { errors } from '../status.ts'
import type { UserInfo } from '../user.ts'
import {
  localSubjectAccessReview,
  selfSubjectAccessReview,
  selfSubjectRulesReview,
  subjectAccessReview,
  LOCAL_SUBJECT_ACCESS_REVIEW,
  SELF_SUBJECT_ACCESS_REVIEW,
  SELF_SUBJECT_RULES_REVIEW,
  SUBJECT_ACCESS_REVIEW,
} from './access-reviews.ts'
import { readBody, type CreateOnlyKind } from './envelope.ts'
import { selfSubjectReview, tokenReview, SELF_SUBJECT_REVIEW, TOKEN_REVIEW } from './identity-reviews.ts'

type ResourceTarget = Extract<PathTarget, { type: 'resource' }>

export interface ReviewDeps {
  authenticator: Authenticator
  service: ObjectService
  registry: ResourceRegistry
  /** The authorizer every request is decided by (RBAC). */
  authorizer: Authorizer & RuleResolver
}

interface Endpoint {
  k: CreateOnlyKind
  resource: string
  namespaced: boolean
  serve: (
    req: FastifyRequest,
    reply: FastifyReply,
    target: ResourceTarget,
    user: UserInfo,
    deps: ReviewDeps,
  ) => Promise<FastifyReply> | FastifyReply
}

const ENDPOINTS: Endpoint[] = [
  {
    k: SELF_SUBJECT_REVIEW,
    resource: 'selfsubjectreviews',
    namespaced: false,
    serve: (req, reply, _t, user) => selfSubjectReview(reply, readBody(req, SELF_SUBJECT_REVIEW), user),
  },
  {
    k: TOKEN_REVIEW,
    resource: 'tokenreviews',
    namespaced: false,
    serve: (req, reply, _t, _u, d) => tokenReview(reply, readBody(req, TOKEN_REVIEW), d.authenticator),
  },
  {
    k: SELF_SUBJECT_ACCESS_REVIEW,
    resource: 'selfsubjectaccessreviews',
    namespaced: false,
    serve: (req, reply, _t, user, d) => selfSubjectAccessReview(reply, readBody(req, SELF_SUBJECT_ACCESS_REVIEW), user, d.authorizer),
  },
  {
    k: SUBJECT_ACCESS_REVIEW,
    resource: 'subjectaccessreviews',
    namespaced: false,
    serve: (req, reply, _t, _u, d) => subjectAccessReview(reply, readBody(req, SUBJECT_ACCESS_REVIEW), d.authorizer),
  },
  {
    k: LOCAL_SUBJECT_ACCESS_REVIEW,
    resource: 'localsubjectaccessreviews',
    namespaced: true,
    serve: (req, reply, t, _u, d) =>
      localSubjectAccessReview(reply, readBody(req, LOCAL_SUBJECT_ACCESS_REVIEW), t.namespace!, d.authorizer),
  },
  {
    k: SELF_SUBJECT_RULES_REVIEW,
    resource: 'selfsubjectrulesreviews',
    namespaced: false,
    serve: (req, reply, _t, user, d) => selfSubjectRulesReview(reply, readBody(req, SELF_SUBJECT_RULES_REVIEW), user, d.authorizer),
  },
]

/** What discovery lists for these endpoints. */
export const CREATE_ONLY_DISCOVERY: ExtraResource[] = [
  ...ENDPOINTS.map((e) => ({
    group: e.k.group,
    version: e.k.version,
    resource: e.resource,
    kind: e.k.kind,
    namespaced: e.namespaced,
    verbs: ['create'],
  })),
  {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts/token',
    kind: TOKEN_REQUEST.kind,
    responseGroup: TOKEN_REQUEST.group,
    responseVersion: TOKEN_REQUEST.version,
    namespaced: true,
    verbs: ['create'],
  },
]

function isTokenSubresource(t: ResourceTarget): boolean {
  return t.group === '' && t.version === 'v1' && t.resource === 'serviceaccounts' && t.subresource === 'token'
}

function endpointOf(t: ResourceTarget): Endpoint | undefined {
  return ENDPOINTS.find((e) => e.k.group === t.group && e.k.version === t.version && e.resource === t.resource)
}

/** Whether `target` names one of the create-only endpoints. */
export function isCreateOnly(target: ResourceTarget): boolean {
  return isTokenSubresource(target) || endpointOf(target) !== undefined
}

/** Serves a create-only endpoint (`isCreateOnly(target)` must hold). */
export async function serveCreateOnly(
  req: FastifyRequest,
  reply: FastifyReply,
  target: ResourceTarget,
  user: UserInfo,
  deps: ReviewDeps,
): Promise<FastifyReply> {
  if (isTokenSubresource(target)) {
    if (target.namespace === undefined || target.name === undefined || target.legacyWatch)
      throw errors.resourceNotFound(
        target.namespace === undefined
          ? 'serviceaccounts/token needs /namespaces/<namespace>/serviceaccounts/<name>/token'
          : 'serviceaccounts/token needs a ServiceAccount name',
      )
    if (req.method !== 'POST') throw errors.methodNotAllowed(req.method, 'serviceaccounts/token (create a TokenRequest with POST)')
    return tokenRequest(req, reply, target.namespace, target.name, {
      service: deps.service,
      registry: deps.registry,
      tokens: deps.authenticator.serviceAccountTokens,
    })
  }
  const e = endpointOf(target)!
  if (target.name !== undefined || target.subresource !== undefined || target.legacyWatch)
    throw errors.resourceNotFound(`${e.resource} has no named objects: POST a ${e.k.kind} to the collection`)
  if (e.namespaced && target.namespace === undefined)
    throw errors.resourceNotFound(
      `${e.resource} is namespaced; POST to /apis/${e.k.group}/${e.k.version}/namespaces/<namespace>/${e.resource}`,
    )
  if (!e.namespaced && target.namespace !== undefined)
    throw errors.resourceNotFound(`${e.resource} is cluster-scoped; drop /namespaces/${target.namespace}`)
  if (req.method !== 'POST')
    throw errors.methodNotAllowed(req.method, `${e.resource} (create-only: POST a ${e.k.kind}; it is answered, never stored)`)
  return e.serve(req, reply, target, user, deps)
}
