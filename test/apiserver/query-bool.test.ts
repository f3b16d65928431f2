// Boolean query parameters as kube-apiserver reads them (k8s.io/apimachinery/pkg/runtime/conversion.go
// Convert_Slice_string_To_bool and Convert_Slice_string_To_Pointer_bool; requestinfo.go's fallback for
// `watch`), with the exact requests the Python client sends (it spells booleans "True"/"False"), and
// /version with and without its trailing slash (the Python client's VersionApi asks for /version/).
import t from 'tap'
import { parseQueryBool, queryBool, queryOptionalBool } from '../../src/apiserver/query-bool.ts'
import { request, startServer } from './harness.ts'

const CM = '/api/v1/namespaces/default/configmaps'

t.test('conversion.go: absent, "0" and "false" in any case are false; every other value is true', async (t) => {
  for (const v of ['0', 'false', 'False', 'FALSE', 'fAlSe', 'fal\u017fe']) t.equal(parseQueryBool(v), false, JSON.stringify(v))
  for (const v of ['1', 'true', 'True', 'TRUE', 't', 'T', 'f', 'F', 'yes', 'no', '', ' false', '00'])
    t.equal(parseQueryBool(v), true, JSON.stringify(v))
  const q = new URLSearchParams('watch=True&watch=false&force=0&orphanDependents=False&empty=')
  t.equal(queryBool(q, 'watch'), true, 'the first value counts')
  t.equal(queryBool(q, 'force'), false)
  t.equal(queryBool(q, 'absent'), false)
  t.equal(queryBool(q, 'empty'), true, '`?watch` (no value) is a watch')
  t.equal(queryOptionalBool(q, 'orphanDependents'), false)
  t.equal(queryOptionalBool(q, 'absent'), undefined, 'an optional field stays unset')
})

t.test("the Python client's spellings reach the handler: watch, allowWatchBookmarks, sendInitialEvents, force", async (t) => {
  const h = await startServer(t, { watchBookmarkIntervalMs: 50 })
  const s = h.server
  const first = (
    await request(s, 'POST', CM, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: '1' } }),
      contentType: 'application/json',
    })
  ).json()
  const events = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string; annotations?: Record<string, string> } } })

  // watch.Watch().stream(list_namespaced_config_map, 'default', resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=1)
  let r = await request(
    s,
    'GET',
    `${CM}?allowWatchBookmarks=True&resourceVersion=${Number(first.metadata.resourceVersion) - 1}&timeoutSeconds=1&watch=True`,
  )
  let got = events(r.text)
  t.match(got[0], { type: 'ADDED', object: { metadata: { name: 'a' } } }, 'watch=True: events, not a list')
  t.ok(
    got.some((e) => e.type === 'BOOKMARK'),
    'allowWatchBookmarks=True: bookmarks arrive',
  )

  r = await request(
    s,
    'GET',
    `${CM}?allowWatchBookmarks=True&resourceVersionMatch=NotOlderThan&sendInitialEvents=True&timeoutSeconds=1&watch=True`,
  )
  got = events(r.text)
  t.match(got[0], { type: 'ADDED', object: { metadata: { name: 'a' } } }, 'sendInitialEvents=True: the initial state first')
  t.match(
    got[1],
    { type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } },
    'then the initial-events-end bookmark',
  )

  r = await request(s, 'GET', `${CM}?watch=False`)
  t.equal(r.json().kind, 'ConfigMapList', 'watch=False: a list')

  const apply = (manager: string, force: string) =>
    request(s, 'PATCH', `${CM}/a?fieldManager=${manager}${force}`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: manager } }),
      contentType: 'application/apply-patch+yaml',
    })
  t.equal((await apply('py', '&force=False')).status, 409, 'force=False: the conflict with the creator stands')
  r = await apply('py', '&force=True')
  t.equal(r.status, 200, 'force=True: the apply takes the field')
  t.equal(r.json().data.k, 'py')
})

t.test('/version answers with and without its trailing slash', async (t) => {
  const h = await startServer(t)
  for (const path of ['/version', '/version/', '/version/?timeout=32s']) {
    // the Python client's VersionApi().get_code() request
    const r = await request(h.server, 'GET', path, {
      accept: 'application/json',
      headers: { 'user-agent': 'OpenAPI-Generator/22.6.0/python' },
    })
    t.equal(r.status, 200, path)
    t.match(r.json(), { major: '1', minor: String, gitVersion: /^v1\./ }, path)
  }
})
