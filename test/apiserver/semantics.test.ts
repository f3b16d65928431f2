// Object semantics as kube-apiserver has them: generation, status subresource, optimistic
// concurrency, finalizers, garbage collection, namespace deletion, selectors, pagination, dry run.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer, type Harness } from './harness.ts'

const GS = '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers'

function gameServer(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name, ...extra },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
  }
}

async function withCrds(t: Test, opts = {}): Promise<Harness> {
  const h = await startServer(t, opts)
  for (const f of ['gameservers', 'devservers']) {
    const crd = parse(readFileSync(join(CRDS, `${f}.zerolaghub.dev.yaml`), 'utf8'))
    const r = await request(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: JSON.stringify(crd),
      contentType: 'application/json',
    })
    if (r.status !== 201) throw new Error(r.text)
  }
  return h
}

const json = (h: Harness, method: string, path: string, body?: unknown, contentType = 'application/json') =>
  request(h.server, method, path, body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), contentType })

t.test('generation, status subresource and optimistic concurrency', async (t) => {
  const h = await withCrds(t)
  let r = await json(h, 'POST', GS, { ...gameServer('a'), status: { phase: 'Running' } })
  t.equal(r.status, 201)
  let o = r.json()
  t.equal(o.metadata.generation, 1)
  t.notOk(o.status, 'status dropped on create')
  const rv1 = Number(o.metadata.resourceVersion)

  o.metadata.labels = { x: 'y' }
  r = await json(h, 'PUT', `${GS}/a`, o)
  t.equal(r.status, 200)
  t.equal(r.json().metadata.generation, 1, 'metadata change keeps generation')
  t.ok(Number(r.json().metadata.resourceVersion) > rv1, 'resourceVersion increases')

  const stale = { ...o }
  r = await json(h, 'PUT', `${GS}/a`, stale)
  t.equal(r.status, 409, 'stale resourceVersion conflicts')
  t.match(r.json(), { reason: 'Conflict', message: /the object has been modified/ })

  r = await json(h, 'PATCH', `${GS}/a`, { spec: { game: 'terraria' }, status: { phase: 'Ignored' } }, 'application/merge-patch+json')
  o = r.json()
  t.equal(o.metadata.generation, 2, 'spec change bumps generation')
  t.notOk(o.status, 'main endpoint ignores status')

  r = await json(h, 'PATCH', `${GS}/a/status`, { spec: { game: 'ignored' }, status: { phase: 'Running' } }, 'application/merge-patch+json')
  o = r.json()
  t.equal(o.status.phase, 'Running')
  t.equal(o.spec.game, 'terraria', '/status ignores spec')
  t.equal(o.metadata.generation, 2, 'status change keeps generation')

  const before = o.metadata.resourceVersion
  r = await json(h, 'PATCH', `${GS}/a`, { spec: { game: 'terraria' } }, 'application/merge-patch+json')
  t.equal(r.json().metadata.resourceVersion, before, 'a no-op patch commits nothing')

  const noRv = { ...o, metadata: { ...o.metadata, resourceVersion: undefined } }
  r = await json(h, 'PUT', `${GS}/a`, noRv)
  t.equal(r.status, 422, 'custom resources need a resourceVersion on update')

  r = await json(h, 'PATCH', `${GS}/a`, [{ op: 'test', path: '/spec/game', value: 'nope' }], 'application/json-patch+json')
  t.equal(r.status, 422, 'failed JSON patch test')
  r = await json(h, 'PATCH', `${GS}/a`, [{ op: 'replace', path: '/spec/game', value: 'factorio' }], 'application/json-patch+json')
  t.equal(r.json().spec.game, 'factorio')
  r = await json(h, 'PATCH', `${GS}/a`, { spec: {} }, 'application/strategic-merge-patch+json')
  t.equal(r.status, 415, 'strategic merge patch on a custom resource')
  r = await json(h, 'PATCH', `${GS}/a`, { spec: { server: { port: 0 } } }, 'application/merge-patch+json')
  t.equal(r.status, 422, 'patches are validated')
})

t.test('finalizers and deletionTimestamp', async (t) => {
  const h = await withCrds(t)
  await json(h, 'POST', GS, gameServer('f', { finalizers: ['example.com/hold'] }))
  let r = await json(h, 'DELETE', `${GS}/f`)
  t.equal(r.status, 200)
  const o = r.json()
  t.ok(o.metadata.deletionTimestamp, 'marked for deletion')
  t.equal(o.metadata.generation, 2, 'deletion bumps generation')
  r = await json(h, 'GET', `${GS}/f`)
  t.equal(r.status, 200, 'still there while finalizers remain')
  r = await json(
    h,
    'PATCH',
    `${GS}/f`,
    { metadata: { finalizers: ['example.com/hold', 'example.com/new'] } },
    'application/merge-patch+json',
  )
  t.equal(r.status, 422, 'no new finalizers while deleting')
  r = await json(h, 'PATCH', `${GS}/f`, [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json')
  t.equal(r.status, 200)
  r = await json(h, 'GET', `${GS}/f`)
  t.equal(r.status, 404, 'removing the last finalizer deletes')
})

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('garbage collection: background, foreground and orphan', async (t) => {
  const h = await withCrds(t)
  const CM = '/api/v1/namespaces/default/configmaps'
  const owner = async (name: string) => (await json(h, 'POST', GS, gameServer(name))).json()
  const child = async (name: string, o: any, block = false, finalizers?: string[]) =>
    (
      await json(h, 'POST', CM, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          finalizers,
          ownerReferences: [
            { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, blockOwnerDeletion: block },
          ],
        },
      })
    ).json()
  const exists = async (p: string) => (await json(h, 'GET', p)).status === 200

  const bg = await owner('bg')
  await child('bg-child', bg)
  await json(h, 'DELETE', `${GS}/bg`)
  t.notOk(await exists(`${GS}/bg`), 'background: owner gone at once')
  await waitFor('background dependent deletion', async () => !(await exists(`${CM}/bg-child`)))
  t.pass('background: dependent collected')

  const fg = await owner('fg')
  await child('fg-child', fg, true, ['example.com/hold'])
  let r = await json(h, 'DELETE', `${GS}/fg`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' })
  t.match(r.json().metadata?.finalizers, ['foregroundDeletion'], r.text)
  await waitFor('dependent marked', async () => !!(await json(h, 'GET', `${CM}/fg-child`)).json().metadata.deletionTimestamp)
  t.ok(await exists(`${GS}/fg`), 'foreground: owner waits for its blocking dependent')
  await json(h, 'PATCH', `${CM}/fg-child`, { metadata: { finalizers: null } }, 'application/merge-patch+json')
  await waitFor('owner deletion', async () => !(await exists(`${GS}/fg`)))
  t.pass('foreground: owner goes after the dependent')

  const or = await owner('or')
  await child('or-child', or)
  r = await json(h, 'DELETE', `${GS}/or?propagationPolicy=Orphan`)
  await waitFor('orphaning', async () => !(await exists(`${GS}/or`)))
  const orphan = (await json(h, 'GET', `${CM}/or-child`)).json()
  t.notOk(orphan.metadata.ownerReferences, 'orphan: dependent kept, owner reference removed')
})

t.test('namespace deletion empties the namespace first', async (t) => {
  const h = await withCrds(t)
  await json(h, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })
  await json(
    h,
    'POST',
    '/apis/zerolaghub.dev/v1alpha1/namespaces/team/gameservers',
    gameServer('held', { finalizers: ['example.com/hold'] }),
  )
  await json(h, 'POST', '/api/v1/namespaces/team/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })
  let r = await json(h, 'DELETE', '/api/v1/namespaces/team')
  t.equal(r.json().status.phase, 'Terminating')
  r = await json(h, 'POST', '/api/v1/namespaces/team/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd' } })
  t.equal(r.status, 403, 'no new content in a terminating namespace')
  await waitFor('configmap removal', async () => (await json(h, 'GET', '/api/v1/namespaces/team/configmaps/c')).status === 404)
  t.equal((await json(h, 'GET', '/api/v1/namespaces/team')).status, 200, 'namespace waits for the held object')
  await json(
    h,
    'PATCH',
    '/apis/zerolaghub.dev/v1alpha1/namespaces/team/gameservers/held',
    { metadata: { finalizers: null } },
    'application/merge-patch+json',
  )
  await waitFor('namespace removal', async () => (await json(h, 'GET', '/api/v1/namespaces/team')).status === 404)
  t.pass('namespace removed once empty')

  await json(h, 'POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'fin', finalizers: ['example.com/x'] },
  })
  const ns = (await json(h, 'GET', '/api/v1/namespaces/fin')).json()
  t.same(ns.spec.finalizers, ['kubernetes'])
  r = await json(h, 'PUT', '/api/v1/namespaces/fin/finalize', {
    ...ns,
    spec: { finalizers: [] },
    metadata: { ...ns.metadata, labels: { ignored: 'yes' } },
  })
  t.same(r.json().spec.finalizers, [], 'finalize changes spec.finalizers')
  t.notOk(r.json().metadata.labels.ignored, 'and nothing else')
})

t.test('selectors, pagination over a snapshot, dry run', async (t) => {
  const h = await withCrds(t, { listSnapshotTtlMs: 300 })
  for (let i = 0; i < 10; i++) await json(h, 'POST', GS, gameServer(`s${i}`, { labels: { tier: i % 2 ? 'odd' : 'even', n: String(i) } }))
  const names = (r: any) => r.json().items.map((o: any) => o.metadata.name)
  t.same(names(await json(h, 'GET', `${GS}?labelSelector=tier%3Dodd`)), ['s1', 's3', 's5', 's7', 's9'])
  t.same(names(await json(h, 'GET', `${GS}?labelSelector=tier!%3Dodd,n%20in%20(0,2,3)`)), ['s0', 's2'])
  t.same(names(await json(h, 'GET', `${GS}?labelSelector=!n`)), [])
  t.same(names(await json(h, 'GET', `${GS}?labelSelector=n%20notin%20(0,1,2,3,4,5,6,7),tier`)), ['s8', 's9'], 'notin and exists')
  const all = '/apis/zerolaghub.dev/v1alpha1/gameservers'
  t.equal(
    (await json(h, 'GET', `${all}?fieldSelector=metadata.namespace%3Ddefault`)).json().items.length,
    10,
    'field selector on metadata.namespace',
  )
  t.equal((await json(h, 'GET', `${all}?fieldSelector=metadata.namespace!%3Ddefault`)).json().items.length, 0)
  t.same(names(await json(h, 'GET', `${GS}?fieldSelector=metadata.name%3Ds4`)), ['s4'])
  t.equal((await json(h, 'GET', `${GS}?labelSelector=a%3D%3D%3Db`)).status, 400, 'bad label selector')
  t.equal((await json(h, 'GET', `${GS}?fieldSelector=spec.game%3Dx`)).status, 400, 'unsupported field selector')

  let r = await json(h, 'GET', `${GS}?limit=4`)
  let page = r.json()
  t.same(names(r), ['s0', 's1', 's2', 's3'])
  t.equal(page.metadata.remainingItemCount, 6)
  const rv = page.metadata.resourceVersion
  await json(h, 'DELETE', `${GS}/s5`)
  await json(h, 'POST', GS, gameServer('s55'))
  const seen = names(r)
  while (page.metadata.continue) {
    r = await json(h, 'GET', `${GS}?limit=4&continue=${page.metadata.continue}`)
    page = r.json()
    t.equal(page.metadata.resourceVersion, rv, "every page has the first page's resourceVersion")
    seen.push(...names(r))
  }
  t.same(seen, ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'], 'consistent snapshot')
  r = await json(h, 'GET', `${GS}?limit=2`)
  const cont = r.json().metadata.continue
  await new Promise((res) => setTimeout(res, 400))
  r = await json(h, 'GET', `${GS}?limit=2&continue=${cont}`)
  t.equal(r.status, 410, 'expired continue token')
  t.match(r.json(), { reason: 'Expired' })

  r = await json(h, 'POST', `${GS}?dryRun=All`, gameServer('dry'))
  t.equal(r.status, 201)
  t.equal((await json(h, 'GET', `${GS}/dry`)).status, 404, 'dry-run create stores nothing')
  r = await json(h, 'PATCH', `${GS}/s0?dryRun=All`, { spec: { game: 'dry' } }, 'application/merge-patch+json')
  t.equal(r.json().spec.game, 'dry', 'dry-run patch answers with the result')
  t.equal((await json(h, 'GET', `${GS}/s0`)).json().spec.game, 'minecraft', 'and stores nothing')
  r = await json(h, 'POST', `${GS}?fieldValidation=Ignore`, { ...gameServer('ign'), spec: { ...gameServer('ign').spec, extra: true } })
  t.equal(r.status, 201)
  t.notOk(r.headers.warning, 'Ignore: no warning')
  t.notOk('extra' in r.json().spec, 'Ignore: still pruned')
  r = await json(h, 'DELETE', `${GS}/s0?dryRun=All`)
  t.equal(r.status, 200)
  t.equal((await json(h, 'GET', `${GS}/s0`)).status, 200, 'dry-run delete deletes nothing')
})
