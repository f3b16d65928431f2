// @kubernetes/client-node against the embedded server: informer order, watch resumption from a
// bookmark, 410 Expired for a too-old resourceVersion, pagination.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ApiextensionsV1Api, CustomObjectsApi, makeInformer, Watch, type KubernetesObject } from '@kubernetes/client-node'
import { CRDS, startServer, type Harness } from './harness.ts'

const group = 'zerolaghub.dev'
const version = 'v1alpha1'
const plural = 'gameservers'
const PATH = `/apis/${group}/${version}/namespaces/default/${plural}`

function gameServer(name: string) {
  return {
    apiVersion: `${group}/${version}`,
    kind: 'GameServer',
    metadata: { name },
    spec: { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } },
  }
}

async function setup(h: Harness) {
  const kc = h.server.kubeConfig()
  const ext = kc.makeApiClient(ApiextensionsV1Api)
  await ext.createCustomResourceDefinition({ body: parse(readFileSync(join(CRDS, 'gameservers.zerolaghub.dev.yaml'), 'utf8')) })
  return { kc, co: kc.makeApiClient(CustomObjectsApi) }
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

t.test('an informer sees every change in order', async (t) => {
  const h = await startServer(t)
  const { kc, co } = await setup(h)
  await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('pre') })
  const informer = makeInformer<KubernetesObject>(
    kc,
    PATH,
    () => co.listNamespacedCustomObject({ group, version, namespace: 'default', plural }) as never,
  )
  const seen: string[] = []
  informer.on('add', (o) => seen.push(`add ${o.metadata!.name}`))
  informer.on('update', (o) => seen.push(`update ${o.metadata!.name} ${(o as any).spec.game}`))
  informer.on('delete', (o) => seen.push(`delete ${o.metadata!.name}`))
  await informer.start()
  t.teardown(() => informer.stop())
  await until('initial list', () => seen.length === 1)
  const expected = ['add pre']
  for (let i = 0; i < 20; i++) {
    await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer(`g${i}`) })
    // client-node sends JSON patch (application/json-patch+json) for this call.
    await co.patchNamespacedCustomObject({
      group,
      version,
      namespace: 'default',
      plural,
      name: `g${i}`,
      body: [{ op: 'replace', path: '/spec/game', value: `game${i}` }],
    })
    expected.push(`add g${i}`, `update g${i} game${i}`)
    if (i % 3 === 0) {
      await co.deleteNamespacedCustomObject({ group, version, namespace: 'default', plural, name: `g${i}` })
      expected.push(`delete g${i}`)
    }
  }
  await until('all events', () => seen.length >= expected.length)
  t.same(seen, expected)
})

t.test('a watch resumes from a bookmark without gaps; a too-old resourceVersion is 410', async (t) => {
  const h = await startServer(t, { watchBookmarkIntervalMs: 100, watchHistorySize: 50 })
  const { kc, co } = await setup(h)
  const watch = new Watch(kc)
  let bookmarkRv = ''
  const first: string[] = []
  const ac = await watch.watch(
    PATH,
    { allowWatchBookmarks: true },
    (type, obj) => {
      if (type === 'BOOKMARK') bookmarkRv = obj.metadata.resourceVersion
      else first.push(`${type} ${obj.metadata.name}`)
    },
    () => {},
  )
  await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('a') })
  await until('first event', () => first.length === 1)
  bookmarkRv = ''
  await until('a bookmark', () => bookmarkRv !== '')
  ac.abort()
  const rv = bookmarkRv
  await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('b') })
  await co.deleteNamespacedCustomObject({ group, version, namespace: 'default', plural, name: 'a' })
  const resumed: string[] = []
  const ac2 = await watch.watch(
    PATH,
    { allowWatchBookmarks: true, resourceVersion: rv },
    (type, obj) => {
      if (type !== 'BOOKMARK') resumed.push(`${type} ${obj.metadata.name}`)
    },
    () => {},
  )
  await until('resumed events', () => resumed.length >= 2)
  ac2.abort()
  t.same(resumed, ['ADDED b', 'DELETED a'], 'exactly the changes after the bookmark')

  for (let i = 0; i < 60; i++)
    await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer(`x${i}`) })
  let error: any
  await new Promise<void>((resolve) => {
    void watch.watch(
      PATH,
      { resourceVersion: rv },
      (type, obj) => {
        if (type === 'ERROR') error = obj
      },
      () => resolve(),
    )
  })
  t.match(error, { kind: 'Status', code: 410, reason: 'Expired' }, 'history is bounded; the client is told to relist')
})

t.test('a restarted server resumes the resourceVersion sequence and tells old watchers 410', async (t) => {
  const h = await startServer(t)
  const { co } = await setup(h)
  const created: any = await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('a') })
  const rv = Number(created.metadata.resourceVersion)
  await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('b') })
  await h.restart()
  const co2 = h.server.kubeConfig().makeApiClient(CustomObjectsApi)
  const list: any = await co2.listNamespacedCustomObject({ group, version, namespace: 'default', plural })
  t.same(
    list.items.map((o: any) => o.metadata.name),
    ['a', 'b'],
    'objects survive restart',
  )
  const c: any = await co2.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body: gameServer('c') })
  t.ok(Number(c.metadata.resourceVersion) > Number(list.metadata.resourceVersion), 'sequence continues')
  let error: any
  await new Promise<void>((resolve) => {
    void new Watch(h.server.kubeConfig()).watch(
      PATH,
      { resourceVersion: String(rv) },
      (type, obj) => {
        if (type === 'ERROR') error = obj
      },
      () => resolve(),
    )
  })
  t.match(error, { code: 410 }, 'a watch from before the restart is told to relist, not skipped')
})

t.test('pagination with limit and continue', async (t) => {
  const h = await startServer(t)
  const { co } = await setup(h)
  for (let i = 0; i < 25; i++)
    await co.createNamespacedCustomObject({
      group,
      version,
      namespace: 'default',
      plural,
      body: gameServer(`p${String(i).padStart(2, '0')}`),
    })
  const names: string[] = []
  let cont: string | undefined
  let pages = 0
  do {
    const page: any = await co.listNamespacedCustomObject({ group, version, namespace: 'default', plural, limit: 10, _continue: cont })
    names.push(...page.items.map((o: any) => o.metadata.name))
    cont = page.metadata.continue || undefined
    pages++
  } while (cont)
  t.equal(pages, 3)
  t.equal(names.length, 25)
  t.same(names, [...names].sort())
})
