// Security regression suite of part "refused" (issue 19 leftovers):
//  - the controller's Synced condition is written through the status subresource only, with the
//    rights RBAC gives (get on the kind, patch on <kind>/status), never touching spec; without
//    those rights it is refused (403) and nothing changes; a concurrent status write is not undone
//    (resourceVersion precondition, 409 → read again);
//  - the answers added to negotiation (metadata-only protobuf at meta.k8s.io/v1beta1, DELETE and
//    deletecollection in protobuf) are authenticated and authorized like JSON ones: the read-only
//    identity (bound to "view") reads no Secret and deletes nothing; metadata-only carries no data.
// Sources: Kubernetes docs "Using RBAC Authorization" (subresources), API conventions (status),
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go (AllowsMediaTypeTransform).

import { request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import type { ApiServer } from '../../src/apiserver/index.ts'
import { Client, type KObject } from '../../src/runtime/index.ts'
import { writeSynced } from '../../controller/synced-condition.ts'
import { CRDS, request, startServer } from '../apiserver/harness.ts'

const GS = '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers'
const GAMESERVER = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' }
const SECRETS = '/api/v1/namespaces/default/secrets'
const SECRET_VALUE = 'refused-secret-value-8c2f4e1a'
const json = 'application/json'

function raw(s: ApiServer, method: string, path: string, accept: string, token: string | null): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept }
    if (token) headers.authorization = `Bearer ${token}`
    const req = httpsRequest(new URL(path, s.url), { method, headers, ca: s.caPem }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

t.test(
  'the Synced condition: status subresource only, with get + patch <kind>/status; refused without; a concurrent write survives',
  async (t) => {
    const h = await startServer(t, {
      tokens: [
        { token: 'status-writer-token-0123456789', user: 'status-writer' },
        { token: 'reader-only-token-0123456789', user: 'reader-only' },
      ],
    })
    const s = h.server
    const crd = parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8'))
    t.equal(
      (
        await request(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
          body: JSON.stringify(crd),
          contentType: json,
        })
      ).status,
      201,
    )
    const rbac = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'synced-writer' },
        rules: [
          { apiGroups: ['zerolaghub.dev'], resources: ['gameservers'], verbs: ['get'] },
          { apiGroups: ['zerolaghub.dev'], resources: ['gameservers/status'], verbs: ['patch'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'synced-writer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'synced-writer' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'status-writer' }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'gs-get' },
        rules: [{ apiGroups: ['zerolaghub.dev'], resources: ['gameservers'], verbs: ['get'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'gs-get' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gs-get' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'reader-only' }],
      },
    ]
    await h.kubectl(['apply', '-f', '-'], { input: rbac.map((o) => JSON.stringify(o)).join('\n') })
    const gs = {
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'GameServer',
      metadata: { name: 'g1' },
      spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
    }
    t.equal((await request(s, 'POST', GS, { body: JSON.stringify(gs), contentType: json })).status, 201)
    const ready = {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: '', lastTransitionTime: '2026-12-07T00:00:00Z' }],
      },
    }
    t.equal(
      (await request(s, 'PATCH', `${GS}/g1/status`, { body: JSON.stringify(ready), contentType: 'application/merge-patch+json' })).status,
      200,
    )
    const before = (await request(s, 'GET', `${GS}/g1`)).json()

    const writer = new Client(s.kubeConfig('status-writer-token-0123456789'))
    const readerOnly = new Client(s.kubeConfig('reader-only-token-0123456789'))
    t.teardown(() => {
      writer.close()
      readerOnly.close()
    })
    const cond = { status: 'False' as const, reason: 'Forbidden', message: 'forbidden: the controller may not create secrets' }

    const refused = await writeSynced({ client: readerOnly, kind: GAMESERVER }, 'g1', 'default', cond).then(
      () => undefined,
      (err: unknown) => err,
    )
    t.match(refused, { statusCode: 403 }, "without patch on gameservers/status: 403, for the caller's fallback")
    t.same((await request(s, 'GET', `${GS}/g1`)).json().status, before.status, 'and the status is unchanged')

    // A status write lands between the writer's read and its patch: the precondition refuses the
    // stale patch and the writer reads again, keeping the other write.
    let firstRead = true
    const racing = {
      get: async <T extends KObject>(...args: Parameters<Client['get']>): Promise<T> => {
        const obj = await writer.get<T>(...args)
        if (firstRead) {
          firstRead = false
          const other = {
            status: {
              conditions: [
                ...before.status.conditions,
                { type: 'Provisioned', status: 'True', reason: 'Created', message: '', lastTransitionTime: '2026-12-07T00:00:01Z' },
              ],
            },
          }
          const r = await request(s, 'PATCH', `${GS}/g1/status`, {
            body: JSON.stringify(other),
            contentType: 'application/merge-patch+json',
          })
          if (r.status !== 200) throw new Error(r.text)
        }
        return obj
      },
      patch: writer.patch.bind(writer),
    }
    t.equal(await writeSynced({ client: racing as unknown as Client, kind: GAMESERVER }, 'g1', 'default', cond), true)
    const after = (await request(s, 'GET', `${GS}/g1`)).json()
    t.same(
      after.status.conditions.map((c: { type: string }) => c.type),
      ['Ready', 'Provisioned', 'Synced'],
      'the concurrent condition survived',
    )
    t.match(after.status.conditions[2], { status: 'False', reason: 'Forbidden', observedGeneration: before.metadata.generation })
    t.same(after.spec, before.spec, 'spec untouched')
    t.equal(after.metadata.generation, before.metadata.generation)
  },
)

t.test('metadata-only protobuf v1beta1, DELETE and deletecollection in protobuf: authorized like JSON, no Secret data', async (t) => {
  const h = await startServer(t)
  const s = h.server
  t.ok(s.readOnlyToken, 'the test tokens include the read-only identity')
  t.equal(
    (
      await request(s, 'POST', SECRETS, {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, stringData: { v: SECRET_VALUE } }),
        contentType: json,
      })
    ).status,
    201,
  )
  const beta = (as: string) =>
    `application/vnd.kubernetes.protobuf;as=${as};g=meta.k8s.io;v=v1beta1,application/json;as=${as};g=meta.k8s.io;v=v1beta1,application/json`
  const calls: Array<[string, string, string]> = [
    ['GET', `${SECRETS}/s1`, beta('PartialObjectMetadata')],
    ['GET', SECRETS, beta('PartialObjectMetadataList')],
    ['GET', `${SECRETS}?watch=true&timeoutSeconds=1`, beta('PartialObjectMetadata')],
    ['DELETE', `${SECRETS}/s1`, 'application/vnd.kubernetes.protobuf, */*'],
    ['DELETE', SECRETS, 'application/vnd.kubernetes.protobuf, */*'],
  ]
  const leaks = (b: Buffer): boolean =>
    b.includes(Buffer.from(SECRET_VALUE)) || b.includes(Buffer.from(Buffer.from(SECRET_VALUE).toString('base64')))
  for (const [method, path, accept] of calls) {
    const anon = await raw(s, method, path, accept, null)
    t.equal(anon.status, 401, `no token: ${method} ${path}`)
    const reader = await raw(s, method, path, accept, s.readOnlyToken as string)
    t.equal(reader.status, 403, `the view identity: ${method} ${path} as ${accept}`)
    t.notOk(leaks(reader.body))
  }
  t.equal((await request(s, 'GET', `${SECRETS}/s1`)).status, 200, 'nothing was deleted')
  for (const [path, as] of [
    [`${SECRETS}/s1`, 'PartialObjectMetadata'],
    [SECRETS, 'PartialObjectMetadataList'],
  ] as const) {
    const admin = await raw(s, 'GET', path, beta(as), s.adminToken)
    t.equal(admin.status, 200)
    t.notOk(leaks(admin.body), `the admin's metadata-only ${as} carries no data`)
  }
})
