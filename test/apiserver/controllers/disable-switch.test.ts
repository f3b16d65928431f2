// The switch that turns off the built-in garbage collector and namespace controller
// (createApiServer({ disableControllers }) / `zlh apiserver --disable-controllers`), so a real
// kube-controller-manager can run them. With them off, the server still marks deletions (GC
// finalizers, a Terminating namespace) and waits for that client's writes, as kube-apiserver does
// (kubernetes.io/docs/concepts/architecture/garbage-collection/, .../namespaces/#deleting-a-namespace).

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { REPO, request, startServer } from '../harness.ts'
import type { ApiServer } from '../../../src/apiserver/index.ts'

const json = 'application/json'

async function createCm(s: ApiServer, ns: string, name: string, owner?: { name: string; uid: string }): Promise<any> {
  const metadata: Record<string, unknown> = { name }
  if (owner)
    metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: owner.uid, blockOwnerDeletion: true }]
  const r = await request(s, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
    body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata }),
    contentType: json,
  })
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`)
  return r.json()
}

// Several round trips: every sweep a commit schedules runs (setImmediate) before the next answer.
async function stillThere(t: Test, s: ApiServer, path: string, what: string): Promise<any> {
  let last
  for (let i = 0; i < 5; i++) {
    last = await request(s, 'GET', path)
    t.equal(last.status, 200, `${what} still there (round trip ${i + 1})`)
  }
  return last!.json()
}

t.test(
  'garbage-collector off: a background delete leaves the dependent, a foreground one keeps its finalizer until the client removes it',
  async (t) => {
    const h = await startServer(t, { disableControllers: ['garbage-collector'] })
    const s = h.server
    const owner = await createCm(s, 'default', 'owner')
    await createCm(s, 'default', 'dep', { name: 'owner', uid: owner.metadata.uid })
    t.equal((await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/owner')).status, 200)
    await stillThere(t, s, '/api/v1/namespaces/default/configmaps/dep', 'the dependent of a deleted owner')

    const fg = await createCm(s, 'default', 'fg')
    await createCm(s, 'default', 'fg-dep', { name: 'fg', uid: fg.metadata.uid })
    const del = await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/fg', {
      body: JSON.stringify({ propagationPolicy: 'Foreground' }),
      contentType: json,
    })
    t.equal(del.status, 200)
    const held = await stillThere(t, s, '/api/v1/namespaces/default/configmaps/fg', 'the foreground-deleted owner')
    t.same(held.metadata.finalizers, ['foregroundDeletion'])
    await stillThere(t, s, '/api/v1/namespaces/default/configmaps/fg-dep', 'its dependent')
    // What kube-controller-manager's garbage collector does: delete the dependent, then drop the finalizer.
    t.equal((await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/fg-dep')).status, 200)
    const patch = await request(s, 'PATCH', '/api/v1/namespaces/default/configmaps/fg', {
      body: JSON.stringify({ metadata: { finalizers: null } }),
      contentType: 'application/merge-patch+json',
    })
    t.equal(patch.status, 200)
    t.equal(
      (await request(s, 'GET', '/api/v1/namespaces/default/configmaps/fg')).status,
      404,
      'the owner goes once the client removed the finalizer',
    )
  },
)

t.test('namespace off: a deleted namespace stays Terminating with its content until the client empties and finalizes it', async (t) => {
  const h = await startServer(t, { disableControllers: ['namespace'] })
  const s = h.server
  t.equal(
    (
      await request(s, 'POST', '/api/v1/namespaces', {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } }),
        contentType: json,
      })
    ).status,
    201,
  )
  await createCm(s, 'gone', 'left')
  t.equal((await request(s, 'DELETE', '/api/v1/namespaces/gone')).status, 200)
  const ns = await stillThere(t, s, '/api/v1/namespaces/gone', 'the deleted namespace')
  t.ok(ns.metadata.deletionTimestamp)
  t.same(ns.spec.finalizers, ['kubernetes'])
  await stillThere(t, s, '/api/v1/namespaces/gone/configmaps/left', 'its ConfigMap')
  // What kube-controller-manager's namespace controller does: delete the content, then PUT /finalize.
  t.equal((await request(s, 'DELETE', '/api/v1/namespaces/gone/configmaps/left')).status, 200)
  const fin = await request(s, 'PUT', '/api/v1/namespaces/gone/finalize', {
    body: JSON.stringify({ ...ns, spec: { finalizers: [] } }),
    contentType: json,
  })
  t.equal(fin.status, 200, fin.text)
  t.equal((await request(s, 'GET', '/api/v1/namespaces/gone')).status, 404)
})

t.test('with every controller on (the default) the same background delete takes the dependent', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const owner = await createCm(s, 'default', 'owner')
  await createCm(s, 'default', 'dep', { name: 'owner', uid: owner.metadata.uid })
  t.equal((await request(s, 'DELETE', '/api/v1/namespaces/default/configmaps/owner')).status, 200)
  let status = 200
  for (let i = 0; i < 50 && status === 200; i++) status = (await request(s, 'GET', '/api/v1/namespaces/default/configmaps/dep')).status
  t.equal(status, 404)
})

t.test('zlh apiserver --disable-controllers refuses a name it does not know, naming the valid ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-disable-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'src', 'cli', 'main.ts'),
      'apiserver',
      '--data-dir',
      join(dir, 'data'),
      '--port',
      '0',
      '--disable-controllers',
      'garbage-collector,replicaset',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  t.equal(code, 2)
  t.match(stderr, /unknown built-in controller "replicaset".*garbage-collector, namespace/)
})
