// Impersonation, as kube-apiserver's filter: `Impersonate-User`, `Impersonate-Group` (repeatable),
// `Impersonate-Uid` and `Impersonate-Extra-<key>` turn the request into one made by the named user,
// once the requesting user is authorized for the verb `impersonate` on each thing asked for:
//   user            → users/<name> in group ""      (a ServiceAccount user name: serviceaccounts/<name>
//                                                     in its namespace instead)
//   group           → groups/<name> in group ""
//   uid             → uids/<uid> in authentication.k8s.io
//   extra key=value → userextras/<key> named <value> in authentication.k8s.io
//
// Guarantees
// - Nothing is switched unless every check passes; the first refused one is a 403 worded as kube's
//   (`users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group ""
//   at the cluster scope`).
// - Groups, uid or extra without a user are a 400 (kube refuses them too).
// - A ServiceAccount impersonated without groups gets its groups; every impersonated user but
//   system:anonymous gets system:authenticated unless system:authenticated or
//   system:unauthenticated was asked for; system:anonymous gets system:unauthenticated.

import type { Authorizer, RequestAttributes } from '../authorizer.ts'
import { forbidden } from '../authorizer.ts'
import { errors } from '../status.ts'
import { GROUP_AUTHENTICATED, parseServiceAccountUserName, serviceAccountGroups, type UserInfo } from '../user.ts'

const USER = 'impersonate-user'
const GROUP = 'impersonate-group'
const UID = 'impersonate-uid'
const EXTRA_PREFIX = 'impersonate-extra-'
const ANONYMOUS = 'system:anonymous'
const UNAUTHENTICATED = 'system:unauthenticated'

function check(
  a: Omit<RequestAttributes, 'verb' | 'resourceRequest' | 'path' | 'apiVersion' | 'subresource' | 'namespace'> & {
    subresource?: string
    namespace?: string
  },
): RequestAttributes {
  return { verb: 'impersonate', resourceRequest: true, path: '', apiVersion: '', subresource: '', namespace: '', ...a }
}

/**
 * The user a request acts as (`rawHeaders` as node gives them: name, value, name, value...):
 * `requestor` itself when no impersonation header is present, else
 * the impersonated user. Throws the 403 (or 400) ApiError otherwise.
 */
export function impersonate(rawHeaders: string[], requestor: UserInfo, authorizer: Authorizer): UserInfo {
  let user: string | undefined
  let uid: string | undefined
  const groups: string[] = []
  const extra: Record<string, string[]> = {}
  let any = false
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    const value = rawHeaders[i + 1]
    if (!name.startsWith('impersonate-')) continue
    any = true
    if (name === USER) {
      if (user !== undefined && user !== value)
        throw errors.badRequest('Impersonate-User was sent twice with different values; send it once')
      user = value
    } else if (name === GROUP) groups.push(value)
    else if (name === UID) {
      if (uid !== undefined && uid !== value) throw errors.badRequest('Impersonate-Uid was sent twice with different values; send it once')
      uid = value
    } else if (name.startsWith(EXTRA_PREFIX)) {
      let key: string
      try {
        key = decodeURIComponent(name.slice(EXTRA_PREFIX.length))
      } catch {
        throw errors.badRequest(`the header ${rawHeaders[i]} does not hold a valid percent-encoded extra key`)
      }
      if (!key) throw errors.badRequest('an Impersonate-Extra- header needs a key after the prefix')
      ;(extra[key] ??= []).push(value)
    } else
      throw errors.badRequest(
        `unknown impersonation header ${rawHeaders[i]}; use Impersonate-User, Impersonate-Group, Impersonate-Uid or Impersonate-Extra-<key>`,
      )
  }
  if (!any) return requestor
  if (user === '') throw errors.badRequest('Impersonate-User is empty; name the user to act as (kubectl --as=<user>)')
  if (user === undefined) {
    const asked = [...groups.map((g) => `group ${g}`), ...(uid ? [`uid ${uid}`] : []), ...Object.keys(extra).map((k) => `extra ${k}`)]
    throw errors.badRequest(`requested [${asked.join(', ')}] without impersonating a user; send Impersonate-User too (kubectl --as)`)
  }

  const checks: RequestAttributes[] = []
  const sa = parseServiceAccountUserName(user)
  if (sa) checks.push(check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name }))
  else checks.push(check({ apiGroup: '', resource: 'users', name: user }))
  for (const g of groups) checks.push(check({ apiGroup: '', resource: 'groups', name: g }))
  if (uid !== undefined) checks.push(check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid }))
  for (const [key, values] of Object.entries(extra))
    for (const v of values) checks.push(check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v }))
  for (const attrs of checks) {
    const d = authorizer.authorize(requestor, attrs)
    if (!d.allowed) throw forbidden(requestor, attrs, d.reason)
  }

  const finalGroups = groups.length === 0 && sa ? serviceAccountGroups(sa.namespace) : [...groups]
  if (user !== ANONYMOUS) {
    if (!finalGroups.includes(GROUP_AUTHENTICATED) && !finalGroups.includes(UNAUTHENTICATED)) finalGroups.push(GROUP_AUTHENTICATED)
  } else if (!finalGroups.includes(UNAUTHENTICATED)) finalGroups.push(UNAUTHENTICATED)
  return { name: user, ...(uid !== undefined ? { uid } : {}), groups: finalGroups, ...(Object.keys(extra).length ? { extra } : {}) }
}
