// Protobuf request bodies as kube-controller-manager and client-go send them by default
// (Content-Type application/vnd.kubernetes.protobuf, Accept "application/vnd.kubernetes.protobuf, */*"):
// the captured bytes of a real kube-controller-manager v1.32.13 (fixtures/, see README.md) and bodies
// written field by field with k8s.io/api's generated.proto numbers (wire.ts). These requests ask for
// JSON answers to read them easily; the protobuf answers client-go's Accept gets are responses.test.ts's.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request, startServer } from '../harness.ts'
import { envelope, int, msg, str, time } from './wire.ts'

const PB = 'application/vnd.kubernetes.protobuf'
const JSON_ANSWER = 'application/json'
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', `${name}.bin`))
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases'

t.test(
  "kube-controller-manager's leader election: its captured Lease create, then an update as client-go writes it (staging/src/k8s.io/client-go/tools/leaderelection/resourcelock/leaselock.go)",
  async (t) => {
    const h = await startServer(t)
    const s = h.server
    const created = await request(s, 'POST', `${LEASES}?timeout=5s`, {
      body: fixture('kcm-lease-create'),
      contentType: PB,
      accept: JSON_ANSWER,
    })
    t.equal(created.status, 201, created.text)
    t.match(created.headers['content-type'], /^application\/json/)
    const lease = created.json()
    t.equal(lease.metadata.name, 'kube-controller-manager')
    t.match(lease.spec, {
      holderIdentity: /^vm_/,
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
      acquireTime: '2026-12-07T02:58:49.118056Z',
      renewTime: '2026-12-07T02:58:49.118056Z',
    })
    t.notOk('generateName' in lease.metadata, 'an empty string Go always writes is not a field')

    const renew = new Date('2026-12-07T03:00:00Z')
    const body = envelope(
      'coordination.k8s.io/v1',
      'Lease',
      msg(
        1,
        str(1, 'kube-controller-manager'),
        str(2, ''),
        str(3, 'kube-system'),
        str(5, lease.metadata.uid),
        str(6, lease.metadata.resourceVersion),
        msg(8),
      ),
      msg(
        2,
        str(1, lease.spec.holderIdentity),
        int(2, 15),
        time(3, new Date(lease.spec.acquireTime), 118056000),
        time(4, renew, 132021000),
        int(5, 0),
      ),
    )
    const updated = await request(s, 'PUT', `${LEASES}/kube-controller-manager?timeout=5s`, { body, contentType: PB, accept: JSON_ANSWER })
    t.equal(updated.status, 200, updated.text)
    t.equal(updated.json().spec.renewTime, '2026-12-07T03:00:00.132021Z')
    t.equal(
      updated.json().metadata.creationTimestamp,
      lease.metadata.creationTimestamp,
      "an empty creationTimestamp message is Go's zero time: not a change",
    )
    const stale = await request(s, 'PUT', `${LEASES}/kube-controller-manager`, { body, contentType: PB, accept: JSON_ANSWER })
    t.equal(stale.status, 409, 'the same resourceVersion again is a conflict, as a competing candidate would see')
  },
)

t.test(
  'kube-controller-manager\'s captured "became leader" Event (core v1) and an events.k8s.io/v1 Event (staging/src/k8s.io/api/events/v1/generated.proto)',
  async (t) => {
    const h = await startServer(t)
    const s = h.server
    const core = await request(s, 'POST', '/api/v1/namespaces/kube-system/events', {
      body: fixture('kcm-event-create'),
      contentType: PB,
      accept: JSON_ANSWER,
    })
    t.equal(core.status, 201, core.text)
    t.match(core.json(), {
      reason: 'LeaderElection',
      type: 'Normal',
      count: 1,
      source: { component: 'kube-controller-manager' },
      involvedObject: { kind: 'Lease', name: 'kube-controller-manager' },
      message: /became leader$/,
    })
    t.notOk('eventTime' in core.json(), 'an unset MicroTime is not a field')

    const body = envelope(
      'events.k8s.io/v1',
      'Event',
      msg(1, str(1, 'gc.1'), str(3, 'default')),
      time(2, new Date('2026-12-07T03:01:02Z'), 5000),
      str(4, 'kube-controller-manager'),
      str(5, 'kcm-1'),
      str(6, 'Delete'),
      str(7, 'Deleted'),
      msg(8, str(1, 'ConfigMap'), str(2, 'default'), str(3, 'dep'), str(5, 'v1')),
      str(10, 'deleted a dependent'),
      str(11, 'Normal'),
    )
    const ev = await request(s, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', { body, contentType: PB, accept: JSON_ANSWER })
    t.equal(ev.status, 201, ev.text)
    t.match(ev.json(), {
      eventTime: '2026-12-07T03:01:02.000005Z',
      reportingController: 'kube-controller-manager',
      reportingInstance: 'kcm-1',
      action: 'Delete',
      reason: 'Deleted',
      regarding: { kind: 'ConfigMap', name: 'dep' },
      note: 'deleted a dependent',
    })
  },
)

t.test(
  "a typed Delete's DeleteOptions body in protobuf (apimachinery/pkg/apis/meta/v1/generated.proto): propagationPolicy and preconditions apply",
  async (t) => {
    const h = await startServer(t, { disableControllers: ['garbage-collector'] })
    const s = h.server
    t.equal(
      (
        await request(s, 'POST', '/api/v1/namespaces/default/configmaps', {
          body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } }),
          contentType: 'application/json',
        })
      ).status,
      201,
    )
    const wrongUid = envelope('v1', 'DeleteOptions', msg(2, str(1, 'not-the-uid')))
    t.equal(
      (await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/owner', { body: wrongUid, contentType: PB, accept: JSON_ANSWER }))
        .status,
      409,
      'a uid precondition that fails is a conflict',
    )
    const foreground = envelope('meta.k8s.io/v1', 'DeleteOptions', str(4, 'Foreground'))
    const del = await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/owner', {
      body: foreground,
      contentType: PB,
      accept: JSON_ANSWER,
    })
    t.equal(del.status, 200, del.text)
    t.same(del.json().metadata.finalizers, ['foregroundDeletion'])
  },
)

t.test(
  "the namespace controller's /finalize and status update in protobuf (pkg/controller/namespace/deletion/namespaced_resources_deleter.go)",
  async (t) => {
    const h = await startServer(t, { disableControllers: ['namespace'] })
    const s = h.server
    t.equal(
      (
        await request(s, 'POST', '/api/v1/namespaces', {
          body: envelope('v1', 'Namespace', msg(1, str(1, 'doomed'))),
          contentType: PB,
          accept: JSON_ANSWER,
        })
      ).status,
      201,
    )
    t.equal((await request(s, 'DELETE', '/api/v1/namespaces/doomed')).status, 200)
    const ns = (await request(s, 'GET', '/api/v1/namespaces/doomed')).json()
    const meta = msg(1, str(1, 'doomed'), str(5, ns.metadata.uid), str(6, ns.metadata.resourceVersion))
    const status = await request(s, 'PUT', '/api/v1/namespaces/doomed/status', {
      body: envelope(
        'v1',
        'Namespace',
        meta,
        msg(2, str(1, 'kubernetes')),
        msg(
          3,
          str(1, 'Terminating'),
          msg(
            2,
            str(1, 'NamespaceContentRemaining'),
            str(2, 'False'),
            time(4, new Date('2026-12-07T03:00:00Z')),
            str(5, 'ContentDeleted'),
            str(6, 'All content successfully removed'),
          ),
        ),
      ),
      contentType: PB,
      accept: JSON_ANSWER,
    })
    t.equal(status.status, 200, status.text)
    t.match(status.json().status.conditions, [
      { type: 'NamespaceContentRemaining', status: 'False', lastTransitionTime: '2026-12-07T03:00:00Z' },
    ])
    const rv = status.json().metadata.resourceVersion
    const fin = await request(s, 'PUT', '/api/v1/namespaces/doomed/finalize', {
      body: envelope('v1', 'Namespace', msg(1, str(1, 'doomed'), str(5, ns.metadata.uid), str(6, rv)), msg(2)),
      contentType: PB,
      accept: JSON_ANSWER,
    })
    t.equal(fin.status, 200, fin.text)
    t.equal((await request(s, 'GET', '/api/v1/namespaces/doomed')).status, 404, 'finalized with no content left, the namespace goes')
  },
)

t.test('a protobuf body of a kind it cannot read is a 415 naming the JSON alternative; a body without the envelope a 400', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const pod = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', {
    body: envelope('v1', 'Pod', msg(1, str(1, 'p'))),
    contentType: PB,
  })
  t.equal(pod.status, 415)
  t.match(pod.json().message, /application\/json/)
  const bare = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', { body: Buffer.from([0x0a, 0x01, 0x41]), contentType: PB })
  t.equal(bare.status, 400)
})
