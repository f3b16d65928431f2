// The controller names a call its ServiceAccount may not make: once per object and cause, at error,
// with a Warning Event; the wording parsed is kube-apiserver's Forbidden message
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go, forbiddenMessage).
import t from 'tap'
import pino from 'pino'
import { Writable } from 'node:stream'
import { ApiError, type EventRecorder, type KObject, type ReconcileContext } from '../../src/runtime/index.ts'
import { describeDenial, forbiddenDenial, reportForbidden } from '../../controller/forbidden.ts'

const KUBE_MESSAGE = 'gameservers.zerolaghub.dev "squid" is forbidden: User "system:serviceaccount:zlh-system:zlh-controller" cannot patch resource "gameservers/status" in API group "zerolaghub.dev" in the namespace "default"'
const forbidden = (message = KUBE_MESSAGE): ApiError => new ApiError(403, 'PATCH', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/squid/status', { reason: 'Forbidden', code: 403, message })

function harness() {
  const lines: any[] = []
  const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } }))
  const events: Array<[string, string, string]> = []
  const recorder = { event: (_o: KObject, type: string, reason: string, message: string) => { events.push([type, reason, message]) } } as unknown as EventRecorder
  const obj = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer', metadata: { name: 'squid', namespace: 'default', uid: 'u1' } } as KObject
  const store = { getByName: (name: string, ns?: string) => (name === 'squid' && ns === 'default' ? obj : undefined) }
  const ctx = (): ReconcileContext => ({ signal: new AbortController().signal, log, reconcileID: 'r' })
  return { lines, events, store, recorder, ctx }
}

t.test('parses kube-apiserver\'s Forbidden message', async (t) => {
  t.same(forbiddenDenial(forbidden()), {
    user: 'system:serviceaccount:zlh-system:zlh-controller', verb: 'patch', resource: 'gameservers/status', apiGroup: 'zerolaghub.dev', namespace: 'default', call: forbidden().message,
  })
  t.match(forbiddenDenial(forbidden('secrets is forbidden: User "x" cannot create resource "secrets" in API group "" in the namespace "a"')), { verb: 'create', resource: 'secrets', apiGroup: '', namespace: 'a' })
  t.match(forbiddenDenial(forbidden('events is forbidden: User "x" cannot create resource "events" in API group ""')), { verb: 'create', resource: 'events', namespace: undefined }, 'cluster-wide wording')
  t.match(forbiddenDenial(forbidden('denied')), { verb: undefined, call: /PATCH .*403/ }, 'other wording: the call is kept')
  t.equal(forbiddenDenial(new ApiError(404, 'GET', '/x', {})), undefined)
  t.equal(forbiddenDenial(new Error('x')), undefined)
  t.match(describeDenial(forbiddenDenial(forbidden()) as any), /may not patch gameservers\/status \(API group zerolaghub\.dev\) in namespace default; add "patch" on "gameservers\/status" to the controller's role \(manifests\/base\/rbac-controller\.yaml\)/)
})

t.test('once per object and cause, an Event, its own backoff, and reported anew after a recovery', async (t) => {
  const { lines, events, store, recorder, ctx } = harness()
  let fail: Error | undefined = forbidden()
  const rec = reportForbidden(async () => { if (fail) throw fail }, { store, recorder })
  const req = { namespace: 'default', name: 'squid' }
  const retries: unknown[] = []
  for (let i = 0; i < 3; i++) retries.push(await rec(req, ctx()))
  t.same(retries, [{ requeueAfter: 5000 }, { requeueAfter: 10_000 }, { requeueAfter: 20_000 }], 'retried with a doubling delay')
  const errors = lines.filter((l) => l.level === 50)
  t.equal(errors.length, 1, 'one error line for three refusals')
  t.match(errors[0], { forbidden: { verb: 'patch', resource: 'gameservers/status', apiGroup: 'zerolaghub.dev', namespace: 'default', user: 'system:serviceaccount:zlh-system:zlh-controller' }, msg: /forbidden: .* may not patch gameservers\/status/ })
  t.same(events.map((e) => e.slice(0, 2)), [['Warning', 'Forbidden']], 'one Warning Event on the object')

  fail = forbidden('gameservers.zerolaghub.dev "squid" is forbidden: User "u" cannot patch resource "gameservers" in API group "zerolaghub.dev" in the namespace "default"')
  await rec(req, ctx())
  t.equal(lines.filter((l) => l.level === 50).length, 2, 'another cause is logged again')

  fail = undefined
  t.equal(await rec(req, ctx()), undefined, 'a clean reconcile passes its result through')
  t.ok(lines.some((l) => l.level === 30 && /permission is there now/.test(l.msg)), 'the recovery is logged')
  fail = forbidden()
  t.same(await rec(req, ctx()), { requeueAfter: 5000 }, 'backoff starts over')
  t.equal(lines.filter((l) => l.level === 50).length, 3, 'and the denial is reported again')
})

t.test('other errors pass through untouched', async (t) => {
  const { store, recorder, ctx } = harness()
  const boom = new ApiError(409, 'PATCH', '/x', { reason: 'Conflict' })
  const rec = reportForbidden(async () => { throw boom }, { store, recorder })
  await t.rejects(Promise.resolve(rec({ name: 'squid', namespace: 'default' }, ctx())), boom)
})
