// The controller names a call its ServiceAccount may not make: once per object and cause, at error,
// with a Warning Event; the wording parsed is kube-apiserver's Forbidden message
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go, forbiddenMessage).
import t from 'tap'
import pino from 'pino'
import { Writable } from 'node:stream'
import { ApiError, type EventRecorder, type KObject, type ReconcileContext } from '../../src/runtime/index.ts'
import { describeDenial, forbiddenDenial, reportForbidden } from '../../controller/forbidden.ts'

const KUBE_MESSAGE =
  'gameservers.zerolaghub.dev "squid" is forbidden: User "system:serviceaccount:zlh-system:zlh-controller" cannot patch resource "gameservers/status" in API group "zerolaghub.dev" in the namespace "default"'
const forbidden = (message = KUBE_MESSAGE): ApiError =>
  new ApiError(403, 'PATCH', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/squid/status', {
    reason: 'Forbidden',
    code: 403,
    message,
  })

function harness() {
  const lines: any[] = []
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)))
        cb()
      },
    }),
  )
  const events: Array<[string, string, string]> = []
  const recorder = {
    event: (_o: KObject, type: string, reason: string, message: string) => {
      events.push([type, reason, message])
    },
  } as unknown as EventRecorder
  const obj = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'squid', namespace: 'default', uid: 'u1' },
  } as KObject
  const store = { getByName: (name: string, ns?: string) => (name === 'squid' && ns === 'default' ? obj : undefined) }
  const ctx = (): ReconcileContext => ({ signal: new AbortController().signal, log, reconcileID: 'r' })
  return { lines, events, store, recorder, ctx }
}

t.test("parses kube-apiserver's Forbidden message", async (t) => {
  t.same(forbiddenDenial(forbidden()), {
    user: 'system:serviceaccount:zlh-system:zlh-controller',
    verb: 'patch',
    resource: 'gameservers/status',
    apiGroup: 'zerolaghub.dev',
    namespace: 'default',
    call: forbidden().message,
  })
  t.match(
    forbiddenDenial(forbidden('secrets is forbidden: User "x" cannot create resource "secrets" in API group "" in the namespace "a"')),
    { verb: 'create', resource: 'secrets', apiGroup: '', namespace: 'a' },
  )
  t.match(
    forbiddenDenial(forbidden('events is forbidden: User "x" cannot create resource "events" in API group ""')),
    { verb: 'create', resource: 'events', namespace: undefined },
    'cluster-wide wording',
  )
  t.match(forbiddenDenial(forbidden('denied')), { verb: undefined, call: /PATCH .*403/ }, 'other wording: the call is kept')
  t.equal(forbiddenDenial(new ApiError(404, 'GET', '/x', {})), undefined)
  t.equal(forbiddenDenial(new Error('x')), undefined)
  t.match(
    describeDenial(forbiddenDenial(forbidden()) as any),
    /may not patch gameservers\/status \(API group zerolaghub\.dev\) in namespace default; add "patch" on "gameservers\/status" to the controller's role \(manifests\/base\/rbac-controller\.yaml\)/,
  )
})

t.test('once per object and cause, an Event, its own backoff, and reported anew after a recovery', async (t) => {
  const { lines, events, store, recorder, ctx } = harness()
  let fail: Error | undefined = forbidden()
  const rec = reportForbidden(
    async () => {
      if (fail) throw fail
    },
    { store, recorder },
  )
  const req = { namespace: 'default', name: 'squid' }
  const retries: unknown[] = []
  for (let i = 0; i < 3; i++) retries.push(await rec(req, ctx()))
  t.same(retries, [{ requeueAfter: 5000 }, { requeueAfter: 10_000 }, { requeueAfter: 20_000 }], 'retried with a doubling delay')
  const errors = lines.filter((l) => l.level === 50)
  t.equal(errors.length, 1, 'one error line for three refusals')
  t.match(errors[0], {
    forbidden: {
      verb: 'patch',
      resource: 'gameservers/status',
      apiGroup: 'zerolaghub.dev',
      namespace: 'default',
      user: 'system:serviceaccount:zlh-system:zlh-controller',
    },
    msg: /forbidden: .* may not patch gameservers\/status/,
  })
  t.same(
    events.map((e) => e.slice(0, 2)),
    [['Warning', 'Forbidden']],
    'one Warning Event on the object',
  )

  fail = forbidden(
    'gameservers.zerolaghub.dev "squid" is forbidden: User "u" cannot patch resource "gameservers" in API group "zerolaghub.dev" in the namespace "default"',
  )
  await rec(req, ctx())
  t.equal(lines.filter((l) => l.level === 50).length, 2, 'another cause is logged again')

  fail = undefined
  t.equal(await rec(req, ctx()), undefined, 'a clean reconcile passes its result through')
  t.ok(
    lines.some((l) => l.level === 30 && /permission is there now/.test(l.msg)),
    'the recovery is logged',
  )
  fail = forbidden()
  t.same(await rec(req, ctx()), { requeueAfter: 5000 }, 'backoff starts over')
  t.equal(lines.filter((l) => l.level === 50).length, 3, 'and the denial is reported again')
})

t.test('other errors pass through untouched', async (t) => {
  const { store, recorder, ctx } = harness()
  const boom = new ApiError(409, 'PATCH', '/x', { reason: 'Conflict' })
  const rec = reportForbidden(
    async () => {
      throw boom
    },
    { store, recorder },
  )
  await t.rejects(Promise.resolve(rec({ name: 'squid', namespace: 'default' }, ctx())), boom)
})

// The exact refusal of kube-apiserver v1.32 with --enable-admission-plugins=OwnerReferencesPermissionEnforcement
// (plugin/pkg/admission/gc/gc_admission.go) when the controller creates a server's agent token Secret
// (owner reference with blockOwnerDeletion) without `update` on the owner's finalizers.
const OWNER_REF_MESSAGE =
  'secrets "squid-agent-token" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can\'t set finalizers on: , <nil>'
const ownerRefRefused = (): ApiError =>
  new ApiError(403, 'POST', '/api/v1/namespaces/default/secrets', { reason: 'Forbidden', code: 403, message: OWNER_REF_MESSAGE })

t.test("OwnerReferencesPermissionEnforcement: the rule to add names the owner kind's finalizers", async (t) => {
  const owner = { resource: 'gameservers', apiGroup: 'zerolaghub.dev' }
  t.match(forbiddenDenial(ownerRefRefused(), owner), {
    admission: 'OwnerReferencesPermissionEnforcement',
    verb: 'update',
    resource: 'gameservers/finalizers',
    apiGroup: 'zerolaghub.dev',
    namespace: 'default',
  })
  t.match(
    describeDenial(forbiddenDenial(ownerRefRefused(), owner) as any),
    /OwnerReferencesPermissionEnforcement admission plugin refused .*POST \/api\/v1\/namespaces\/default\/secrets.*blockOwnerDeletion needs "update" on "gameservers\/finalizers" \(API group zerolaghub\.dev\); add it to the controller's role \(manifests\/base\/rbac-controller\.yaml\)/,
  )
  t.match(
    describeDenial(forbiddenDenial(ownerRefRefused()) as any),
    /"update" on the owner's finalizers subresource/,
    'without the owner kind: still says which subresource',
  )
  const del = new ApiError(403, 'PUT', '/api/v1/namespaces/default/secrets/x', {
    reason: 'Forbidden',
    message: 'secrets "x" is forbidden: cannot set an ownerRef on a resource you can\'t delete: ...',
  })
  t.match(forbiddenDenial(del), {
    admission: 'OwnerReferencesPermissionEnforcement',
    verb: 'delete',
    resource: 'secrets',
    apiGroup: '',
    namespace: 'default',
  })

  const { lines, events, store, recorder, ctx } = harness()
  const rec = reportForbidden(
    async () => {
      throw ownerRefRefused()
    },
    { store, recorder, owner },
  )
  t.same(await rec({ namespace: 'default', name: 'squid' }, ctx()), { requeueAfter: 5000 }, 'retried with its own backoff')
  t.equal(events.length, 1, 'a Warning Event on the server, not only a log line')
  t.match(events[0], ['Warning', 'Forbidden', /gameservers\/finalizers/])
  t.equal(lines.filter((l) => l.level === 50).length, 1)
})

// A ValidatingAdmissionPolicy denial is 422 Invalid (staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating/dispatcher.go);
// a webhook's wording is "admission webhook \"<name>\" denied the request".
t.test('a 422 from an admission policy: Event AdmissionRefused; other 422s pass through', async (t) => {
  const vap = new ApiError(422, 'POST', '/api/v1/namespaces/default/secrets', {
    reason: 'Invalid',
    code: 422,
    message:
      "secrets \"squid-agent-token\" is forbidden: ValidatingAdmissionPolicy 'no-owner' with binding 'no-owner-b' denied request: owner references are not allowed",
  })
  t.match(forbiddenDenial(vap), { admission: 'policy' })
  const { events, store, recorder, ctx } = harness()
  const rec = reportForbidden(
    async () => {
      throw vap
    },
    { store, recorder },
  )
  t.same(await rec({ namespace: 'default', name: 'squid' }, ctx()), { requeueAfter: 5000 })
  t.match(events, [['Warning', 'AdmissionRefused', /admission policy of the cluster refused .*ValidatingAdmissionPolicy 'no-owner'/]])
  const invalid = new ApiError(422, 'PATCH', '/x', {
    reason: 'Invalid',
    message: 'GameServer.zerolaghub.dev "squid" is invalid: spec.port: Invalid value',
  })
  t.equal(forbiddenDenial(invalid), undefined, 'a validation error of the API is no admission refusal')
  const rec2 = reportForbidden(
    async () => {
      throw invalid
    },
    { store, recorder },
  )
  await t.rejects(Promise.resolve(rec2({ name: 'squid', namespace: 'default' }, ctx())), invalid)
})

// The refusal in the object's status: condition Synced (Crossplane's convention; metav1.Condition
// semantics, k8s.io/apimachinery/pkg/api/meta/conditions.go) written through the status subresource.
function statusHarness(opts: { refuseStatus?: boolean } = {}) {
  const h = harness()
  const live: any = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'squid', namespace: 'default', uid: 'u1', generation: 3, resourceVersion: '7' },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'Ready', status: 'False', reason: 'Pending', message: '', lastTransitionTime: '2026-12-07T00:00:00Z' }],
    },
  }
  const patches: any[] = []
  const client = {
    get: async () => structuredClone(live),
    patch: async (_kind: unknown, name: string, ns: string, body: any, type: string, o: any) => {
      patches.push({ name, ns, body, type, subresource: o.subresource })
      if (opts.refuseStatus)
        throw new ApiError(403, 'PATCH', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/squid/status', {
          reason: 'Forbidden',
          code: 403,
          message: KUBE_MESSAGE,
        })
      live.status.conditions = body.status.conditions
      live.metadata.resourceVersion = String(Number(live.metadata.resourceVersion) + 1)
      return live
    },
  }
  // The cache sees what was written (as a watch would deliver it).
  const store = { getByName: (name: string, ns?: string) => (name === 'squid' && ns === 'default' ? structuredClone(live) : undefined) }
  return {
    ...h,
    store,
    live,
    patches,
    status: { client: client as any, kind: { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' } },
  }
}

const SECRETS_REFUSED =
  'secrets is forbidden: User "system:serviceaccount:zlh-system:zlh-controller" cannot create resource "secrets" in API group "" in the namespace "default"'

t.test("a refusal shows as Synced=False (reason, the Event's message, observedGeneration); a clean reconcile sets it True", async (t) => {
  const { events, store, recorder, ctx, live, patches, status } = statusHarness()
  let fail: Error | undefined = new ApiError(403, 'POST', '/api/v1/namespaces/default/secrets', {
    reason: 'Forbidden',
    code: 403,
    message: SECRETS_REFUSED,
  })
  const rec = reportForbidden(
    async () => {
      if (fail) throw fail
    },
    { store, recorder, status },
  )
  const req = { namespace: 'default', name: 'squid' }
  t.same(await rec(req, ctx()), { requeueAfter: 5000 })
  t.equal(patches.length, 1, 'one status write')
  t.match(
    patches[0],
    { subresource: 'status', type: 'application/merge-patch+json', body: { metadata: { resourceVersion: '7' } } },
    'merge patch of the status subresource, with the read resourceVersion as precondition',
  )
  const synced = live.status.conditions.find((c: any) => c.type === 'Synced')
  t.match(synced, {
    status: 'False',
    reason: 'Forbidden',
    observedGeneration: 3,
    message: /may not create secrets \(API group core\) in namespace default/,
  })
  t.equal(synced.message, events[0][2], 'the same message as the Warning Event')
  t.ok(
    live.status.conditions.some((c: any) => c.type === 'Ready'),
    'the other conditions are kept',
  )
  await rec(req, ctx())
  t.equal(patches.length, 1, 'a retry with the same refusal writes nothing (the cache shows it)')

  fail = undefined
  await rec(req, ctx())
  t.equal(patches.length, 2)
  t.match(
    live.status.conditions.find((c: any) => c.type === 'Synced'),
    { status: 'True', reason: 'ReconcileSuccess', observedGeneration: 3 },
  )
  await rec(req, ctx())
  t.equal(patches.length, 2, 'clean reconciles after that write nothing')
})

t.test('a clean reconcile of an object that never showed a refusal writes no condition', async (t) => {
  const { store, recorder, ctx, live, patches, status } = statusHarness()
  const rec = reportForbidden(async () => undefined, { store, recorder, status })
  await rec({ namespace: 'default', name: 'squid' }, ctx())
  t.equal(patches.length, 0)
  t.notOk(live.status.conditions.some((c: any) => c.type === 'Synced'))
})

t.test('a refusal shown before a restart of the controller is cleared by the next clean reconcile', async (t) => {
  const { store, recorder, ctx, live, patches, status } = statusHarness()
  live.status.conditions.push({
    type: 'Synced',
    status: 'False',
    reason: 'Forbidden',
    message: 'old',
    lastTransitionTime: '2026-12-07T00:00:00Z',
  })
  const rec = reportForbidden(async () => undefined, { store, recorder, status })
  await rec({ namespace: 'default', name: 'squid' }, ctx())
  t.equal(patches.length, 1)
  t.match(
    live.status.conditions.find((c: any) => c.type === 'Synced'),
    { status: 'True', reason: 'ReconcileSuccess' },
  )
})

t.test('422 from an admission policy: Synced=False with reason AdmissionRefused', async (t) => {
  const { events, store, recorder, ctx, live, status } = statusHarness()
  const vap = new ApiError(422, 'POST', '/api/v1/namespaces/default/secrets', {
    reason: 'Invalid',
    code: 422,
    message:
      "secrets \"squid-agent-token\" is forbidden: ValidatingAdmissionPolicy 'no-owner' with binding 'no-owner-b' denied request: owner references are not allowed",
  })
  const rec = reportForbidden(
    async () => {
      throw vap
    },
    { store, recorder, status },
  )
  t.same(await rec({ namespace: 'default', name: 'squid' }, ctx()), { requeueAfter: 5000 })
  const synced = live.status.conditions.find((c: any) => c.type === 'Synced')
  t.match(synced, { status: 'False', reason: 'AdmissionRefused', message: /admission policy of the cluster refused/ })
  t.match(events, [['Warning', 'AdmissionRefused', synced.message]])
})

t.test('the status write refused too: Event and error line only, a warning once, no throw, the same backoff', async (t) => {
  const { lines, events, store, recorder, ctx, live, patches, status } = statusHarness({ refuseStatus: true })
  const rec = reportForbidden(
    async () => {
      throw new ApiError(403, 'POST', '/api/v1/namespaces/default/secrets', { reason: 'Forbidden', code: 403, message: SECRETS_REFUSED })
    },
    { store, recorder, status },
  )
  const req = { namespace: 'default', name: 'squid' }
  const retries: unknown[] = []
  for (let i = 0; i < 3; i++) retries.push(await rec(req, ctx()))
  t.same(retries, [{ requeueAfter: 5000 }, { requeueAfter: 10_000 }, { requeueAfter: 20_000 }], "no hot loop: the refusal's own backoff")
  t.equal(patches.length, 3, 'one status attempt per retry, no more')
  t.notOk(
    live.status.conditions.some((c: any) => c.type === 'Synced'),
    'nothing was written',
  )
  t.same(
    events.map((e) => e.slice(0, 2)),
    [['Warning', 'Forbidden']],
    'the Event is still recorded, once',
  )
  t.equal(lines.filter((l) => l.level === 50).length, 1, 'the error line, once')
  const warns = lines.filter((l) => l.level === 40)
  t.equal(warns.length, 1, 'the failed status write is a warning once, then debug')
  t.match(warns[0], {
    statusForbidden: { verb: 'patch', resource: 'gameservers/status' },
    msg: /could not be shown in the object's status/,
  })
})

t.test('the object gone by the time the condition is written (a finished deletion): no write, no warning', async (t) => {
  const { lines, store, recorder, ctx, patches, status } = statusHarness()
  status.client.get = async () => {
    throw new ApiError(404, 'GET', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers/squid', { reason: 'NotFound', code: 404 })
  }
  let fail = true
  const rec = reportForbidden(
    async () => {
      if (fail)
        throw new ApiError(403, 'POST', '/api/v1/namespaces/default/secrets', { reason: 'Forbidden', code: 403, message: SECRETS_REFUSED })
    },
    { store, recorder, status },
  )
  t.same(await rec({ namespace: 'default', name: 'squid' }, ctx()), { requeueAfter: 5000 })
  fail = false
  await rec({ namespace: 'default', name: 'squid' }, ctx())
  t.equal(patches.length, 0)
  t.equal(lines.filter((l) => l.level === 40).length, 0)
})
