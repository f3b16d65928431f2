// authorization.k8s.io/v1: SelfSubjectAccessReview ("may I?", `kubectl auth can-i`),
// SubjectAccessReview ("may they?"), LocalSubjectAccessReview (the same, in one namespace) and
// SelfSubjectRulesReview ("what may I do here?", `kubectl auth can-i --list`). Each asks the same
// authorizer that guards every request, so an answer here is the answer a request would get.
//
// Guarantees
// - Exactly one of spec.resourceAttributes / spec.nonResourceAttributes (422 otherwise, as kube).
// - SubjectAccessReview needs spec.user or spec.groups; the subject is exactly what is given
//   (no system:authenticated added, as kube).
// - A LocalSubjectAccessReview answers for its own namespace only.

import type { FastifyReply } from 'fastify'
import type { Authorizer, RequestAttributes, RuleResolver } from '../authorizer.ts'
import { fieldError } from '../schema/index.ts'
import { errors } from '../status.ts'
import { isObject } from '../types.ts'
import type { UserInfo } from '../user.ts'
import { sendCreated, stringField, stringList, type Body, type CreateOnlyKind } from './envelope.ts'

const GROUP = 'authorization.k8s.io'
export const SELF_SUBJECT_ACCESS_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'SelfSubjectAccessReview' }
export const SUBJECT_ACCESS_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'SubjectAccessReview' }
export const LOCAL_SUBJECT_ACCESS_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'LocalSubjectAccessReview' }
export const SELF_SUBJECT_RULES_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'SelfSubjectRulesReview' }

type Spec = Record<string, unknown>

/** The request attributes a review's spec describes. */
function attributesOf(k: CreateOnlyKind, spec: Spec): RequestAttributes {
  const ra = spec.resourceAttributes
  const nra = spec.nonResourceAttributes
  if (ra != null && nra != null)
    throw errors.invalid(k.group, k.kind, '', [
      fieldError('spec.nonResourceAttributes', 'FieldValueInvalid', 'cannot be specified in combination with resourceAttributes', nra),
    ])
  if (ra == null && nra == null)
    throw errors.invalid(k.group, k.kind, '', [
      fieldError(
        'spec.resourceAttributes',
        'FieldValueRequired',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    ])
  if (nra != null) {
    if (!isObject(nra))
      throw errors.invalid(k.group, k.kind, '', [fieldError('spec.nonResourceAttributes', 'FieldValueInvalid', 'must be an object', nra)])
    return {
      verb: stringField(k, nra.verb, 'spec.nonResourceAttributes.verb'),
      resourceRequest: false,
      path: stringField(k, nra.path, 'spec.nonResourceAttributes.path'),
      apiGroup: '',
      apiVersion: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
    }
  }
  if (!isObject(ra))
    throw errors.invalid(k.group, k.kind, '', [fieldError('spec.resourceAttributes', 'FieldValueInvalid', 'must be an object', ra)])
  const s = (f: string) => stringField(k, ra[f], `spec.resourceAttributes.${f}`)
  return {
    verb: s('verb'),
    resourceRequest: true,
    path: '',
    apiGroup: s('group'),
    apiVersion: s('version'),
    resource: s('resource'),
    subresource: s('subresource'),
    namespace: s('namespace'),
    name: s('name'),
  }
}

function specOf(body: Body): Spec {
  return isObject(body.spec) ? body.spec : {}
}

/** kube's SubjectAccessReviewStatus from a decision: RBAC denies with no opinion, so `denied` stays unset. */
function statusOf(authorizer: Authorizer, user: UserInfo, attrs: RequestAttributes): Record<string, unknown> {
  const d = authorizer.authorize(user, attrs)
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) }
}

export function selfSubjectAccessReview(reply: FastifyReply, body: Body, user: UserInfo, authorizer: Authorizer): FastifyReply {
  const spec = specOf(body)
  const attrs = attributesOf(SELF_SUBJECT_ACCESS_REVIEW, spec)
  return sendCreated(reply, SELF_SUBJECT_ACCESS_REVIEW, body.metadata, { spec, status: statusOf(authorizer, user, attrs) })
}

function subjectOf(k: CreateOnlyKind, spec: Spec): UserInfo {
  const name = stringField(k, spec.user, 'spec.user')
  const groups = stringList(k, spec.groups, 'spec.groups')
  const uid = stringField(k, spec.uid, 'spec.uid')
  if (!name && groups.length === 0)
    throw errors.invalid(k.group, k.kind, '', [
      fieldError('spec.user', 'FieldValueInvalid', 'at least one of user or group must be specified', ''),
    ])
  let extra: Record<string, string[]> | undefined
  if (spec.extra != null) {
    if (!isObject(spec.extra))
      throw errors.invalid(k.group, k.kind, '', [
        fieldError('spec.extra', 'FieldValueInvalid', 'must be a map of string lists', spec.extra),
      ])
    extra = Object.fromEntries(Object.entries(spec.extra).map(([key, v]) => [key, stringList(k, v, `spec.extra[${key}]`)]))
  }
  return { name, groups, ...(uid ? { uid } : {}), ...(extra ? { extra } : {}) }
}

export function subjectAccessReview(reply: FastifyReply, body: Body, authorizer: Authorizer): FastifyReply {
  const spec = specOf(body)
  const attrs = attributesOf(SUBJECT_ACCESS_REVIEW, spec)
  return sendCreated(reply, SUBJECT_ACCESS_REVIEW, body.metadata, {
    spec,
    status: statusOf(authorizer, subjectOf(SUBJECT_ACCESS_REVIEW, spec), attrs),
  })
}

export function localSubjectAccessReview(reply: FastifyReply, body: Body, namespace: string, authorizer: Authorizer): FastifyReply {
  const k = LOCAL_SUBJECT_ACCESS_REVIEW
  const spec = specOf(body)
  const meta = isObject(body.metadata) ? body.metadata : {}
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw errors.badRequest(
      `the namespace of the provided object (${String(meta.namespace)}) does not match the namespace sent on the request (${namespace})`,
    )
  }
  if (spec.nonResourceAttributes != null)
    throw errors.invalid(k.group, k.kind, '', [
      fieldError('spec.nonResourceAttributes', 'FieldValueInvalid', 'disallowed on this kind of request', spec.nonResourceAttributes),
    ])
  const attrs = attributesOf(k, spec)
  if (attrs.namespace !== namespace) {
    throw errors.invalid(k.group, k.kind, '', [
      fieldError('spec.resourceAttributes.namespace', 'FieldValueInvalid', 'must match metadata.namespace', attrs.namespace),
    ])
  }
  return sendCreated(reply, k, { ...meta, namespace }, { spec, status: statusOf(authorizer, subjectOf(k, spec), attrs) })
}

export function selfSubjectRulesReview(reply: FastifyReply, body: Body, user: UserInfo, rules: RuleResolver): FastifyReply {
  const k = SELF_SUBJECT_RULES_REVIEW
  const spec = specOf(body)
  const namespace = stringField(k, spec.namespace, 'spec.namespace')
  if (!namespace) throw errors.badRequest('no namespace on request: set spec.namespace (kubectl auth can-i --list -n <namespace>)')
  const r = rules.rulesFor(user, namespace)
  const status: Record<string, unknown> = { resourceRules: r.resourceRules, nonResourceRules: r.nonResourceRules, incomplete: r.incomplete }
  if (r.evaluationError) status.evaluationError = r.evaluationError
  return sendCreated(reply, k, body.metadata, { spec, status })
}
