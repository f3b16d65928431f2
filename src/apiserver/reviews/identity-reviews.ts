// authentication.k8s.io/v1: SelfSubjectReview ("who am I?", `kubectl auth whoami`) answers with
// the request's user after impersonation; TokenReview ("whose is this token?") authenticates a
// token given in the body with the server's own authenticators.
//
// Guarantees
// - A TokenReview never echoes the token back: the answer's spec holds only the audiences.

import type { FastifyReply } from 'fastify'
import type { Authenticator } from '../authn/index.ts'
import { API_AUDIENCES } from '../authn/index.ts'
import { fieldError } from '../schema/index.ts'
import { errors } from '../status.ts'
import { isObject } from '../types.ts'
import type { UserInfo } from '../user.ts'
import { sendCreated, stringField, stringList, type Body, type CreateOnlyKind } from './envelope.ts'

const GROUP = 'authentication.k8s.io'
export const SELF_SUBJECT_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'SelfSubjectReview' }
export const TOKEN_REVIEW: CreateOnlyKind = { group: GROUP, version: 'v1', kind: 'TokenReview' }

/** kube's authentication/v1 UserInfo. */
function userInfo(u: UserInfo): Record<string, unknown> {
  return {
    username: u.name,
    ...(u.uid ? { uid: u.uid } : {}),
    groups: u.groups,
    ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
  }
}

export function selfSubjectReview(reply: FastifyReply, body: Body, user: UserInfo): FastifyReply {
  return sendCreated(reply, SELF_SUBJECT_REVIEW, body.metadata, { status: { userInfo: userInfo(user) } })
}

export async function tokenReview(reply: FastifyReply, body: Body, authenticator: Authenticator): Promise<FastifyReply> {
  const k = TOKEN_REVIEW
  const spec = isObject(body.spec) ? body.spec : {}
  const token = stringField(k, spec.token, 'spec.token')
  if (!token) throw errors.invalid(k.group, k.kind, '', [fieldError('spec.token', 'FieldValueRequired', 'token is required')])
  const asked = stringList(k, spec.audiences, 'spec.audiences')
  const r = await authenticator.authenticateToken(token, asked.length ? asked : API_AUDIENCES)
  const status = r?.audiences.length
    ? { authenticated: true, user: userInfo(r.user), audiences: r.audiences }
    : {
        user: {},
        error:
          'the token is not valid for this server and these audiences (unknown, expired, wrong audience, or its ServiceAccount is gone)',
      }
  return sendCreated(reply, k, body.metadata, { spec: asked.length ? { audiences: asked } : {}, status })
}
