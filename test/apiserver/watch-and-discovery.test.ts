// Watch details (initial events, timeouts, selector transitions), Table and discovery
// representations, Event expiry, CRD deletion, and the plain-HTTP bind rule.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { parse } from 'yaml'
import { createApiServer, type ApiServer } from '../../src/apiserver/index.ts'
import { CRDS, request, startServer } from './harness.ts'

const CM = '/api/v1/namespaces/default/configmaps'
const cm = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: 'b' } })

/** Reads watch events until the stream ends or `stop` returns true. */
function watch(
  s: ApiServer,
  path: string,
  stop: (events: any[]) => boolean = () => false,
): { events: any[]; done: Promise<any[]>; close: () => void } {
  const events: any[] = []
  let close = () => {}
  const done = new Promise<any[]>((resolve, reject) => {
    const req = httpsRequest(new URL(path, s.url), { headers: { authorization: `Bearer ${s.adminToken}` }, ca: s.caPem }, (res) => {
      let buf = ''
      res.on('data', (d: Buffer) => {
        buf += d.toString()
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)))
          buf = buf.slice(i + 1)
          if (stop(events)) {
            req.destroy()
            resolve(events)
          }
        }
      })
      res.on('end', () => resolve(events))
      res.on('error', () => resolve(events))
    })
    req.on('error', (e) => (events.length ? resolve(events) : reject(e)))
    req.end()
    close = () => {
      req.destroy()
      resolve(events)
    }
  })
  return { events, done, close }
}

t.test('watch: initial events with their end bookmark, timeout with a last bookmark, selector transitions', async (t) => {
  const h = await startServer(t)
  const s = h.server
  await request(s, 'POST', CM, { body: cm('one', { app: 'x' }), contentType: 'application/json' })
  await request(s, 'POST', CM, { body: cm('two'), contentType: 'application/json' })

  const initial = await watch(
    s,
    `${CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    (ev) => ev.some((e) => e.type === 'BOOKMARK'),
  ).done
  t.same(
    initial.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`),
    ['ADDED one', 'ADDED two', 'BOOKMARK '],
  )
  t.equal(initial[2].object.metadata.annotations['k8s.io/initial-events-end'], 'true')

  const list = (await request(s, 'GET', CM)).json()
  const timed = await watch(
    s,
    `${CM}?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1&allowWatchBookmarks=true`,
  ).done
  t.same(
    timed.map((e) => e.type),
    ['BOOKMARK'],
    'the stream ends at timeoutSeconds with a bookmark',
  )
  t.equal(timed[0].object.metadata.resourceVersion, list.metadata.resourceVersion)

  const w = watch(s, `${CM}?watch=true&resourceVersion=${list.metadata.resourceVersion}&labelSelector=app%3Dx`, (ev) => ev.length >= 3)
  await request(s, 'PATCH', `${CM}/two`, {
    body: JSON.stringify({ metadata: { labels: { app: 'x' } } }),
    contentType: 'application/merge-patch+json',
  })
  await request(s, 'PATCH', `${CM}/one`, {
    body: JSON.stringify({ metadata: { labels: { app: 'y' } } }),
    contentType: 'application/merge-patch+json',
  })
  await request(s, 'PATCH', `${CM}/two`, { body: JSON.stringify({ data: { a: 'c' } }), contentType: 'application/merge-patch+json' })
  const ev = await w.done
  t.same(
    ev.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED two', 'DELETED one', 'MODIFIED two'],
    'objects entering/leaving the selection are ADDED/DELETED',
  )
})

t.test('Table and discovery representations', async (t) => {
  const h = await startServer(t)
  const s = h.server
  await request(s, 'POST', CM, { body: cm('t1'), contentType: 'application/json' })
  const table = (await request(s, 'GET', CM, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).json()
  t.equal(table.kind, 'Table')
  t.same(
    table.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Data', 'Age'],
  )
  t.equal(table.rows[0].cells[0], 't1')
  t.equal(table.rows[0].object.kind, 'PartialObjectMetadata')

  const agg = await request(s, 'GET', '/apis', {
    accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
  })
  t.equal(agg.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')
  const groups = agg.json().items.map((g: any) => g.metadata.name)
  t.ok(groups.includes('coordination.k8s.io') && groups.includes('apiextensions.k8s.io'))
  const again = await request(s, 'GET', '/apis', {
    accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    headers: { 'if-none-match': String(agg.headers.etag) },
  })
  t.equal(again.status, 304, 'discovery honours ETag')
  const legacy = (await request(s, 'GET', '/api')).json()
  t.same(legacy.versions, ['v1'])
  const rl = (await request(s, 'GET', '/api/v1')).json()
  t.ok(rl.resources.some((r: any) => r.name === 'namespaces/status'))
  t.match((await request(s, 'GET', '/version')).json(), { major: '1', minor: '32' })
  t.equal((await request(s, 'GET', '/openapi/v3')).status, 200)
})

t.test('events expire after their TTL', async (t) => {
  const h = await startServer(t, { eventTtlSeconds: 1 })
  const s = h.server
  const ev = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e1' },
    involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'default' },
    reason: 'Test',
    message: 'hello',
    type: 'Normal',
  }
  t.equal(
    (await request(s, 'POST', '/api/v1/namespaces/default/events', { body: JSON.stringify(ev), contentType: 'application/json' })).status,
    201,
  )
  t.equal(
    (await request(s, 'GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dx')).json().items.length,
    1,
    'field selector on involvedObject',
  )
  const end = Date.now() + 20_000
  while ((await request(s, 'GET', '/api/v1/namespaces/default/events/e1')).status !== 404) {
    if (Date.now() > end) throw new Error('event never expired')
    await new Promise((r) => setTimeout(r, 200))
  }
  t.pass('expired')
})

t.test('deleting a CRD removes its objects; plain HTTP only on loopback', async (t) => {
  const h = await startServer(t)
  const s = h.server
  const crd = JSON.stringify(parse(readFileSync(join(CRDS, 'runtimecatalogs.zerolaghub.dev.yaml'), 'utf8')))
  const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'
  await request(s, 'POST', CRD_PATH, { body: crd, contentType: 'application/json' })
  const rc = JSON.stringify(parse(readFileSync(join(CRDS, '..', 'manifests', 'examples', 'catalog', 'runtimecatalog-node.yaml'), 'utf8')))
  const created = await request(s, 'POST', '/apis/zerolaghub.dev/v1alpha1/runtimecatalogs', { body: rc, contentType: 'application/json' })
  t.equal(created.status, 201, created.text)
  const RC = '/apis/zerolaghub.dev/v1alpha1/runtimecatalogs'
  await request(s, 'PATCH', `${RC}/node`, {
    body: JSON.stringify({ metadata: { finalizers: ['example.com/cleanup'] } }),
    contentType: 'application/merge-patch+json',
  })
  await request(s, 'DELETE', `${CRD_PATH}/runtimecatalogs.zerolaghub.dev`)
  const waitFor = async (what: string, cond: () => Promise<boolean>) => {
    const end = Date.now() + 20_000
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await waitFor('object marked', async () => !!(await request(s, 'GET', `${RC}/node`)).json().metadata?.deletionTimestamp)
  const terminating = (await request(s, 'GET', `${CRD_PATH}/runtimecatalogs.zerolaghub.dev`)).json()
  t.ok(terminating.metadata.deletionTimestamp, "the CRD waits for its objects' finalizers")
  t.match(terminating.status.conditions, [{ type: 'NamesAccepted' }, { type: 'Terminating', status: 'True' }])
  const refused = await request(s, 'POST', RC, { body: rc.replace('"name":"node"', '"name":"late"'), contentType: 'application/json' })
  t.equal(refused.status, 405, 'no new objects while the CRD terminates')
  await request(s, 'PATCH', `${RC}/node`, {
    body: JSON.stringify({ metadata: { finalizers: null } }),
    contentType: 'application/merge-patch+json',
  })
  await waitFor('CRD removal', async () => (await request(s, 'GET', `${CRD_PATH}/runtimecatalogs.zerolaghub.dev`)).status === 404)
  await request(s, 'POST', CRD_PATH, { body: crd, contentType: 'application/json' })
  t.same((await request(s, 'GET', RC)).json().items, [], 'objects went with the CRD')

  await t.rejects(createApiServer({ dataDir: join(h.dir, 'plain'), host: '0.0.0.0', tls: false }), /non-loopback bind needs TLS/)
})
