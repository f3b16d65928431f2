// A 403 from the API server becomes the portal's 403 ZLH_GW_API_BACKEND_FORBIDDEN naming verb,
// resource and namespace, read from kube-apiserver's forbidden message
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go: `User "u" cannot
// <verb> resource "<resource>" in API group "<group>" in the namespace "<ns>"` or `at the cluster scope`).
import t from 'tap'
import { ApiError } from '../../../src/runtime/index.ts'
import { PortalError } from '../../../src/gateway/portal/api-reply.ts'
import { logRefusal, translateApiError } from '../../../src/gateway/portal/server-writes.ts'

const forbidden = (message: string, details: Record<string, string> = {}) =>
  new ApiError(403, 'POST', '/x', { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message, details })

t.test('namespaced: verb, resource, group and namespace from the message', async (t) => {
  const err = translateApiError(
    forbidden(
      'gameservers.zerolaghub.dev "x" is forbidden: User "system:serviceaccount:zlh-system:zlh-gateway" cannot create resource "gameservers" in API group "zerolaghub.dev" in the namespace "acme"',
      { name: 'x', group: 'zerolaghub.dev', kind: 'gameservers' },
    ),
  )
  t.ok(err instanceof PortalError)
  const e = err as PortalError
  t.equal(e.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
  t.same(e.extra, { verb: 'create', resource: 'gameservers', apiGroup: 'zerolaghub.dev', namespace: 'acme' })
  t.match(e.message, 'the gateway may not create gameservers.zerolaghub.dev in namespace "acme"')
  t.notMatch(e.message, /system:serviceaccount/, "the portal caller is not told the gateway's identity")
})

t.test('core group, subresource, cluster scope', async (t) => {
  const core = translateApiError(
    forbidden('secrets "a-agent-token" is forbidden: User "u" cannot get resource "secrets" in API group "" in the namespace "stray"'),
  ) as PortalError
  t.match(core.message, 'may not get secrets in namespace "stray"')
  const sub = translateApiError(
    forbidden(
      'gameservers.zerolaghub.dev "x" is forbidden: User "u" cannot patch resource "gameservers/status" in API group "zerolaghub.dev" in the namespace "default"',
    ),
  ) as PortalError
  t.same(sub.extra, { verb: 'patch', resource: 'gameservers/status', apiGroup: 'zerolaghub.dev', namespace: 'default' })
  const cluster = translateApiError(
    forbidden('namespaces is forbidden: User "u" cannot create resource "namespaces" in API group "" at the cluster scope'),
  ) as PortalError
  t.same(cluster.extra, { verb: 'create', resource: 'namespaces', apiGroup: '' }, 'no namespace at the cluster scope')
  t.match(cluster.message, /may not create namespaces$/)
})

t.test("another 403 (not an authorization denial) keeps kube's own words; the log carries them", async (t) => {
  const e = translateApiError(
    forbidden('unable to create new content in namespace acme because it is being terminated', { name: 'acme', kind: 'namespaces' }),
  ) as PortalError
  t.equal(e.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
  t.match(e.message, /being terminated/)
  const lines: Array<{ obj: object; msg: string }> = []
  logRefusal({ warn: (obj, msg) => lines.push({ obj, msg }) }, e)
  t.equal(lines.length, 1)
  t.match(lines[0]!.obj, { refused: { apiMessage: /being terminated/ } })
  logRefusal({ warn: (obj, msg) => lines.push({ obj, msg }) }, new PortalError('ZLH_GW_API_NOT_FOUND'))
  t.equal(lines.length, 1, 'other errors are not logged as refusals')
})
