// What a DELETE answers, as kube-apiserver: k8s.io/apiserver/pkg/endpoints/handlers/delete.go (200, or
// 202 when the object stays and orphanDependents=false was asked) and registry/generic/registry/store.go
// (Delete, finalizeDelete: an object gone at once is answered with a success Status unless its registry
// sets ReturnDeletedObject — ServiceAccount does; custom resources (apiextensions-apiserver
// pkg/registry/customresource/etcd.go), ConfigMap and Secret do not; an object left pending on
// finalizers is answered with itself).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer } from './harness.ts'

const GS = '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers'
const json = 'application/json'

function gameServer(name: string, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name, ...metadata },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
  }
}

t.test('DELETE answers with a Status or the object as kube-apiserver does', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
  t.equal(
    (await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(crd), contentType: json }))
      .status,
    201,
  )
  const post = async (path: string, body: unknown) => {
    const r = await request(s, 'POST', path, { body: JSON.stringify(body), contentType: json })
    if (r.status !== 201) throw new Error(r.text)
    return r.json()
  }

  const gone = await post(GS, gameServer('gone'))
  let r = await request(s, 'DELETE', `${GS}/gone`)
  t.equal(r.status, 200)
  t.same(
    r.json(),
    {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'gone', group: 'zerolaghub.dev', kind: 'gameservers', uid: gone.metadata.uid },
    },
    'a custom resource gone at once: a success Status naming it (was: the object)',
  )

  await post(GS, gameServer('dry'))
  r = await request(s, 'DELETE', `${GS}/dry?dryRun=All`)
  t.match(r.json(), { kind: 'Status', status: 'Success', details: { name: 'dry' } }, 'a dry run answers as the real delete would')
  t.equal((await request(s, 'GET', `${GS}/dry`)).status, 200, 'and deletes nothing')

  await post(GS, gameServer('held', { finalizers: ['example.com/hold'] }))
  r = await request(s, 'DELETE', `${GS}/held`)
  t.equal(r.status, 200)
  t.match(r.json(), { kind: 'GameServer', metadata: { name: 'held', deletionTimestamp: String } }, 'pending on a finalizer: the object')
  r = await request(s, 'DELETE', `${GS}/held`, {
    body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', orphanDependents: false }),
    contentType: json,
  })
  t.equal(r.status, 202, 'still pending with orphanDependents=false: 202 Accepted')
  t.match(r.json(), { kind: 'GameServer', metadata: { name: 'held' } })
  r = await request(s, 'DELETE', `${GS}/held?orphanDependents=False`)
  t.equal(r.status, 202, "the same through the query, in the Python client's spelling")

  const cm = await post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })
  r = await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/c')
  t.same(
    r.json(),
    {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'c', group: '', kind: 'configmaps', uid: cm.metadata.uid },
    },
    'a ConfigMap: a Status',
  )

  await post('/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } })
  r = await request(s, 'DELETE', '/api/v1/namespaces/default/serviceaccounts/robot')
  t.equal(r.status, 200)
  t.match(
    r.json(),
    { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'robot' } },
    'a ServiceAccount (ReturnDeletedObject): the deleted object',
  )
  t.equal((await request(s, 'GET', '/api/v1/namespaces/default/serviceaccounts/robot')).status, 404, 'and it is gone')
})
